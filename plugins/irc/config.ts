import { configError, readBoolean, readNumber, readString } from "../../core/index.js";

export interface IrcConfig {
  /** The game's id for this bot's session (it starts logged in with it), e.g. "irc:3". */
  uid: string | number;
  nick: string;
  host: string;
  port: number;
  tls: boolean;
  /** Accept a self-signed or otherwise unverifiable server certificate (off by default). */
  allowSelfSigned: boolean;
  channels: string[];
  sasl: { account: string; password: string } | null;
  /** Identify to NickServ after registering (when SASL is not used); channels are joined after it confirms. */
  nickservPassword: string | null;
  realname: string;
  /** Game → IRC line templates: {channel} {nick} {text}. */
  relayFormat: string;
  actionFormat: string;
  relayJoinPart: boolean;
  /** Nicks whose lines are never relayed (other bridges), matched case-insensitively. */
  ignore: string[];
  flood: { ratePerSec: number; burst: number; queueMax: number };
  /** Line length to assume when the server does not announce ISUPPORT LINELEN. */
  lineLength: number;
  registrationTimeoutMs: number;
  /** No answer from the server for this long ⇒ the connection is dropped and re-made. */
  pingTimeoutMs: number;
  rejoinDelayMs: number;
  reconnect: { initialMs: number; factor: number; maxMs: number; jitter: number };
}

const P = "plugins.irc.IrcBotFactory";
const KNOWN = new Set([
  "uid", "botname", "nick", "network", "host", "port", "ssl", "tls", "allowSelfSigned", "channel", "channels", "sasl",
  "nickservPassword", "realname", "relayFormat", "actionFormat", "relayJoinPart", "ignore", "flood", "lineLength",
  "registrationTimeoutMs", "pingTimeoutMs", "rejoinDelayMs", "reconnect",
]);
const NICK = /^[A-Za-z[\]\\`_^{}|][A-Za-z0-9[\]\\`_^{}|-]{0,29}$/;
const CHANNEL = /^[#&][^\s,\x00-\x1f\x07]{1,49}$/;
const HOST = /^[A-Za-z0-9.:-]{1,253}$/;

function obj(raw: Record<string, unknown>, field: string): Record<string, unknown> {
  const v = raw[field] ?? {};
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw configError(P, field, "expected an object");
  return v as Record<string, unknown>;
}

/** Accepts Evennia's keys (botname, network, ssl, channel) and Portico's (nick, host, tls, channels). */
export function parseIrcConfig(raw: Record<string, unknown>): IrcConfig {
  for (const key of Object.keys(raw)) if (!KNOWN.has(key)) throw configError(P, key, "unknown key");
  const uid = raw.uid;
  if (typeof uid !== "string" && typeof uid !== "number") throw configError(P, "uid", "expected the game's id for this bot");
  const nick = readString(P, raw, raw.nick !== undefined ? "nick" : "botname", "");
  if (!NICK.test(nick)) throw configError(P, "nick", `not a valid IRC nick: ${JSON.stringify(nick)}`);
  const host = readString(P, raw, raw.host !== undefined ? "host" : "network", "");
  if (!HOST.test(host)) throw configError(P, "host", `not a host name or address: ${JSON.stringify(host)}`);
  const tls = readBoolean(P, raw, raw.tls !== undefined ? "tls" : "ssl", false);
  const port = readNumber(P, raw, "port", tls ? 6697 : 6667, 1, 65535);
  if (!Number.isInteger(port)) throw configError(P, "port", "expected a whole number");
  const channelList = raw.channels ?? (raw.channel !== undefined ? [raw.channel] : undefined);
  if (!Array.isArray(channelList) || channelList.length === 0 || channelList.length > 20 || !channelList.every((c) => typeof c === "string" && CHANNEL.test(c))) {
    throw configError(P, "channels", "expected one to twenty IRC channel names such as #mygame");
  }
  const saslRaw = raw.sasl;
  let sasl: IrcConfig["sasl"] = null;
  if (saslRaw !== undefined && saslRaw !== null) {
    const s = obj(raw, "sasl");
    if (typeof s.account !== "string" || !s.account || typeof s.password !== "string") throw configError(P, "sasl", "expected {account, password}");
    sasl = { account: s.account, password: s.password };
  }
  const nickserv = raw.nickservPassword;
  if (nickserv !== undefined && nickserv !== null && typeof nickserv !== "string") throw configError(P, "nickservPassword", "expected a string");
  const ignore = raw.ignore ?? [];
  if (!Array.isArray(ignore) || !ignore.every((n) => typeof n === "string")) throw configError(P, "ignore", "expected a list of nicks");
  const flood = obj(raw, "flood");
  const reconnect = obj(raw, "reconnect");
  const relayFormat = readString(P, raw, "relayFormat", "[{channel}] {nick}: {text}");
  const actionFormat = readString(P, raw, "actionFormat", "[{channel}] {nick} {text}");
  for (const [field, value] of [["relayFormat", relayFormat], ["actionFormat", actionFormat]] as const) {
    if (!value.includes("{text}") || /[\r\n\0]/.test(value)) throw configError(P, field, "must contain {text} and no line breaks");
  }
  return {
    uid, nick, host, port, tls,
    allowSelfSigned: readBoolean(P, raw, "allowSelfSigned", false),
    channels: [...new Set(channelList as string[])],
    sasl,
    nickservPassword: typeof nickserv === "string" && nickserv !== "" ? nickserv : null,
    realname: readString(P, raw, "realname", "Portico IRC bridge").replace(/[\r\n\0]/g, " ").slice(0, 100),
    relayFormat, actionFormat,
    relayJoinPart: readBoolean(P, raw, "relayJoinPart", false),
    ignore: (ignore as string[]).map((n) => n.toLowerCase()),
    flood: {
      ratePerSec: readNumber(P, flood, "ratePerSec", 1, 0.05, 100),
      burst: readNumber(P, flood, "burst", 3, 1, 100),
      queueMax: readNumber(P, flood, "queueMax", 100, 1, 100_000),
    },
    lineLength: readNumber(P, raw, "lineLength", 512, 128, 16_384),
    registrationTimeoutMs: readNumber(P, raw, "registrationTimeoutMs", 30_000, 100, 600_000),
    pingTimeoutMs: readNumber(P, raw, "pingTimeoutMs", 120_000, 1000, 3_600_000),
    rejoinDelayMs: readNumber(P, raw, "rejoinDelayMs", 2000, 0, 600_000),
    reconnect: {
      initialMs: readNumber(P, reconnect, "initialMs", 1000, 10, 600_000),
      factor: readNumber(P, reconnect, "factor", 1.5, 1, 10),
      maxMs: readNumber(P, reconnect, "maxMs", 60_000, 10, 3_600_000),
      jitter: readNumber(P, reconnect, "jitter", 0.2, 0, 1),
    },
  };
}
