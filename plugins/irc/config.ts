import { parsePluginConfig, z } from "../../core/index.js";

const P = "plugins.irc.IrcBotFactory";

const NICK = /^[A-Za-z[\]\\`_^{}|][A-Za-z0-9[\]\\`_^{}|-]{0,29}$/;
const CHANNEL = /^[#&][^\s,\x00-\x1f\x07]{1,49}$/;
const HOST = /^[A-Za-z0-9.:-]{1,253}$/;
const LINE_BREAK = /[\r\n\0]/g;

const int = (min: number, max: number) => z.int().min(min).max(max);
const num = (min: number, max: number) => z.number().min(min).max(max);
const lineFormat = (fallback: string, text: string) =>
  z
    .string()
    .refine((v) => v.includes("{text}") && !/[\r\n\0]/.test(v), "must contain {text} and no line breaks")
    .default(fallback)
    .describe(text);

/** Evennia's key → Portico's key; the Evennia name is used only when Portico's is not given. */
const ALIASES = { botname: "nick", network: "host", ssl: "tls", channel: "channels" } as const;

function mapAliases(raw: unknown): unknown {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return raw;
  const out: Record<string, unknown> = { ...raw };
  for (const [alias, key] of Object.entries(ALIASES)) {
    if (!Object.hasOwn(out, alias)) continue;
    const value = out[alias];
    delete out[alias];
    if (out[key] === undefined) out[key] = key === "channels" && !Array.isArray(value) ? [value] : value;
  }
  return out;
}

const ircFields = z
  .strictObject({
    uid: z
      .union([z.string(), z.number()], { error: "expected the game's id for this bot" })
      .describe("The game's id for this bot's session (it starts logged in with it), e.g. \"irc:3\"."),
    nick: z
      .string()
      .regex(NICK, { error: (issue) => `not a valid IRC nick: ${JSON.stringify(issue.input)}` })
      .describe("The bot's nick (Evennia: botname); a collision retries with _ appended."),
    host: z
      .string()
      .regex(HOST, { error: (issue) => `not a host name or address: ${JSON.stringify(issue.input)}` })
      .describe("IRC server host name or address (Evennia: network)."),
    port: int(1, 65535).optional().describe("IRC server port: 6667, or 6697 with tls."),
    tls: z.boolean().default(false).describe("Connect with TLS (Evennia: ssl)."),
    allowSelfSigned: z.boolean().default(false).describe("Accept a self-signed or otherwise unverifiable server certificate."),
    channels: z
      .array(z.string().regex(CHANNEL, { error: (issue) => `not an IRC channel name such as #mygame: ${JSON.stringify(issue.input)}` }), {
        error: "expected one to twenty IRC channel names such as #mygame",
      })
      .min(1)
      .max(20)
      .describe("One to twenty channels to bridge, e.g. [\"#mygame\"] (Evennia: channel, a single name)."),
    sasl: z
      .strictObject({
        account: z.string().min(1).describe("SASL account name."),
        password: z.string().describe("SASL password (never logged)."),
      })
      .nullable()
      .default(null)
      .describe("Log in with SASL PLAIN: {account, password}; null does not use SASL."),
    nickservPassword: z
      .string()
      .nullable()
      .default(null)
      .describe("Identify to NickServ after registering (when SASL is not used); channels are joined once it confirms, or after 15 s."),
    realname: z.string().default("Portico IRC bridge").describe("The bot's real name (line breaks become spaces; at most 100 characters)."),
    relayFormat: lineFormat("[{channel}] {nick}: {text}", "Game → IRC line template: {channel} {nick} {text}."),
    actionFormat: lineFormat("[{channel}] {nick} {text}", "Game → IRC template for poses, sent as an ACTION: {channel} {nick} {text}."),
    relayJoinPart: z.boolean().default(false).describe("Relay IRC joins, parts and quits to the game."),
    ignore: z.array(z.string()).default([]).describe("Nicks whose lines are never relayed (other bridges), matched case-insensitively."),
    flood: z
      .strictObject({
        ratePerSec: num(0.05, 100).default(1).describe("Lines sent per second (token bucket)."),
        burst: num(1, 100).default(3).describe("Lines that may be sent at once before pacing starts."),
        queueMax: int(1, 100_000).default(100).describe("Lines queued at most; beyond it lines are dropped and one clipped marker is sent."),
      })
      .prefault({})
      .describe("Flood control for lines sent to IRC."),
    lineLength: int(128, 16_384).default(512).describe("Line length to assume when the server does not announce ISUPPORT LINELEN."),
    registrationTimeoutMs: num(100, 600_000).default(30_000).describe("A server that has not completed registration in this time is dropped and re-dialled."),
    pingTimeoutMs: num(1000, 3_600_000).default(120_000).describe("No answer from the server for this long drops the connection and re-makes it."),
    rejoinDelayMs: num(0, 600_000).default(2000).describe("Delay before rejoining a channel after a kick."),
    reconnect: z
      .strictObject({
        initialMs: num(10, 600_000).default(1000).describe("First reconnect delay."),
        factor: num(1, 10).default(1.5).describe("Each further failure multiplies the delay by this."),
        maxMs: num(10, 3_600_000).default(60_000).describe("Longest reconnect delay."),
        jitter: num(0, 1).default(0.2).describe("Random spread of each delay, as a fraction (0.2 is ±20 %)."),
      })
      .prefault({})
      .describe("Reconnect back-off (unlimited, reset after each successful registration)."),
  })
  .describe("IRC bridge bot (plugins.irc.IrcBotFactory). Evennia's keys botname, network, ssl and channel are accepted too.");

/** The IRC bot's config; accepts Evennia's keys (botname, network, ssl, channel) and Portico's (nick, host, tls, channels). */
export const ircConfigSchema = z.preprocess(
  mapAliases,
  ircFields.transform((c) => ({
    ...c,
    port: c.port ?? (c.tls ? 6697 : 6667),
    channels: [...new Set(c.channels)],
    nickservPassword: c.nickservPassword || null,
    realname: c.realname.replace(LINE_BREAK, " ").slice(0, 100),
    ignore: c.ignore.map((n) => n.toLowerCase()),
  })),
);

export type IrcConfig = z.output<typeof ircConfigSchema>;

export function parseIrcConfig(raw: unknown): IrcConfig {
  return parsePluginConfig(P, ircConfigSchema, raw);
}
