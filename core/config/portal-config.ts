import * as z from "zod";
import { ErrorCodes } from "../errors/error-codes.js";
import { PortalError } from "../errors/portal-error.js";
import { PORTAL_ID } from "../state/data-dir.js";
import { parseWithSchema } from "./schema-errors.js";

// The portal's configuration, declared once: the TypeScript types, the defaults, the validation and
// the JSON Schema (`portico config-schema`) all come from these schemas. The texts are the one-line
// meanings of docs/configuration.md.

const int = (min: number, max: number) => z.int().min(min).max(max);
const num = (min: number, max: number) => z.number().min(min).max(max);
const port = () => int(0, 65535);
const host = () => z.string().regex(/^\S+$/);
const message = (text: string, when: string) => z.string().default(text).describe(`Sent ${when}.`);

const limitsSchema = z.strictObject({
  maxConnectionRate: num(0, 100_000).default(2).describe("New connections admitted per second (fractions allowed); extra ones wait in a queue, served in turn across addresses. 0 disables the throttle."),
  connectionQueueMax: int(1, 1_000_000).default(500).describe("Most connections waiting in the throttle queue; a newcomer beyond it is told messages.queueFull and closed."),
  connectionQueuePerIp: int(1, 1_000_000).default(10).describe("Most queued connections from one address (IPv6: one ipv6PrefixLength prefix); a newcomer beyond it is told messages.perIpFull and closed."),
  ipv6PrefixLength: int(1, 128).default(64).describe("IPv6 addresses sharing this many leading bits count as one address for the connection throttle (its turns and connectionQueuePerIp); IPv4-mapped IPv6 counts as the IPv4 address."),
  maxCommandRate: num(0, 1_000_000).default(80).describe("Inputs per session in one 1-second window (fractions allowed); more are dropped with messages.commandRate. 0 disables it."),
  maxCharLimit: int(0, 10_000_000).default(6000).describe("Longest typed line in characters; longer lines are dropped with messages.charLimit. 0 disables it."),
  maxOobBytes: int(16, 100 * 1024 * 1024).default(64 * 1024).describe("Largest out-of-band input, as JSON bytes of the whole tuple; larger ones are dropped with messages.oobTooLarge."),
  pendingInputMax: int(1, 100_000).default(200).describe("Input tuples kept per session until the game acknowledges them (held while no game is connected, replayed to the next one); beyond it an input gets messages.inputDropped."),
  inputRetainBytes: int(1024, 1024 * 1024 * 1024).default(256 * 1024).describe("Bytes of input kept per session until the game acknowledges them; beyond it an input gets messages.inputDropped."),
  inputRetainTotalBytes: int(1024, 16 * 1024 * 1024 * 1024).default(64 * 1024 * 1024).describe("Bytes of unacknowledged input kept for all sessions together; beyond it an input gets messages.inputDropped."),
}).describe("Limits on what clients may do.");

const messagesSchema = z.strictObject({
  commandRate: message("You entered commands too fast. Wait a moment and try again.", "when an input is over limits.maxCommandRate"),
  charLimit: message("You entered a string that was too long. Please break it up into multiple parts.", "when a line is over limits.maxCharLimit"),
  oobTooLarge: message("Your client sent an out-of-band message that was too large; it was ignored.", "when an out-of-band input is over limits.maxOobBytes"),
  queued: message("{servername} DoS protection is active. You are queued to connect in {seconds} seconds ...", "when a connection is queued by the throttle; {seconds} is filled in"),
  queueFull: message("{servername} is receiving too many connections right now. Please try again in a minute.", "when the connection queue is full"),
  perIpFull: message("{servername}: too many connections are waiting from your address. Please try again in a minute.", "when the per-address share of the queue is full"),
  gameRestarting: message("The game is restarting; what you type will be delivered when it is back.", "on the first input from a session while no game is connected"),
  inputWhileQueued: message("You are still waiting in the connection queue; what you type will be delivered once you are let in.", "on the first input from a connection still waiting in the throttle queue"),
  inputDropped: message("The game has not taken your earlier input yet and your input buffer is full; this line was not kept: {line}", "for an input beyond limits.pendingInputMax, limits.inputRetainBytes or limits.inputRetainTotalBytes; {line} is filled in"),
}).describe("Texts the portal sends to players; {servername} is filled in.");

const natsTlsSchema = z.strictObject({
  caFile: z.string().min(1).optional().describe("PEM file of the certificate authorities that signed the NATS server's certificate (else the system's)."),
  certFile: z.string().min(1).optional().describe("PEM client certificate, for a server that verifies clients (with keyFile)."),
  keyFile: z.string().min(1).optional().describe("PEM private key of certFile."),
}).refine((t) => (t.certFile === undefined) === (t.keyFile === undefined), { path: ["keyFile"], message: "certFile and keyFile go together" })
  .describe("Connect to NATS over TLS (present = on).");

const natsSchema = z.strictObject({
  servers: z.array(z.string().regex(/^(nats|tls):\/\/\S+$|^[^\s:/]+(:\d{1,5})?$/)).min(1).default(["nats://127.0.0.1:4222"]).describe("NATS server URLs (nats://host:port); several for a NATS cluster. PORTICO_NATS_SERVERS (comma-separated) overrides."),
  prefix: z.string().regex(/^[A-Za-z0-9_-]{1,64}(\.[A-Za-z0-9_-]{1,64}){0,7}$/).default("portico").describe("First tokens of every subject this game's link uses (one per game: two games on one NATS must differ). PORTICO_NATS_PREFIX overrides."),
  user: z.string().min(1).optional().describe("NATS user name (with the password from passwordFile or PORTICO_NATS_PASSWORD(_FILE)). PORTICO_NATS_USER overrides."),
  passwordFile: z.string().min(1).optional().describe("File holding the NATS password (one line). Passwords are never written in this file; PORTICO_NATS_PASSWORD or PORTICO_NATS_PASSWORD_FILE override."),
  tokenFile: z.string().min(1).optional().describe("File holding a NATS authentication token, instead of user and password. PORTICO_NATS_TOKEN(_FILE) overrides."),
  tls: natsTlsSchema.optional(),
  name: z.string().regex(/^\S{1,64}$/).optional().describe("Connection name shown by the NATS server's monitoring; default portico-<portalId>."),
  connectTimeoutMs: int(100, 600_000).default(5_000).describe("How long the first connection to NATS may take at start; past it the start fails (PORTAL_ERR_NATS_CONNECT)."),
  reconnectWaitMs: int(50, 600_000).default(500).describe("Wait between attempts to reconnect to NATS after losing it (forever; the link waits meanwhile)."),
  resendMs: int(20, 600_000).default(250).describe("A link frame the peer has not acknowledged this long is sent again (NATS may drop messages; duplicates are discarded by sequence number); while nothing is acknowledged the wait doubles, up to two heartbeats."),
}).describe("The game link over NATS (link.transport \"nats\"): several portals serving one game. See docs/scaling.md.");

const linkSchema = z.strictObject({
  transport: z.enum(["tcp", "nats"]).default("tcp").describe("\"tcp\": the game connects to this portal's link port (one machine). \"nats\": portals and the game meet on a NATS server (several portals, one game)."),
  nats: natsSchema.prefault({}),
  host: host().default("127.0.0.1").describe("Address the game link listens on; keep it on loopback unless the game runs on another host."),
  port: port().default(4006).describe("Game link port; 0 picks a free port."),
  maxFrameBytes: int(1024, 1024 * 1024 * 1024).default(16 * 1024 * 1024).describe("Largest frame accepted or sent (bytes); the game must use the same limit."),
  batchMaxBytes: int(1, 1024 * 1024 * 1024).default(256 * 1024).describe("Pending outgoing messages are packed into frames of about this many bytes."),
  heartbeatMs: int(50, 3_600_000).default(1_000).describe("Ping interval: the portal pings a game it has heard nothing from for this long."),
  heartbeatTimeoutMs: int(100, 3_600_000).default(5_000).describe("A game silent this long (no bytes, not even a pong) is dropped from the link; under `portico start` it is killed and restarted."),
  handshakeTimeoutMs: int(100, 600_000).default(5_000).describe("Time a new link connection has to complete the hello."),
  helloMaxFrameBytes: int(256, 1024 * 1024).default(8 * 1024).describe("Largest frame accepted from a peer that has not yet authenticated with hello."),
  maxUnauthenticated: int(1, 10_000).default(16).describe("Most link connections that may wait for their hello at once; more are closed at once."),
  maxServerDataBytes: int(1024, 1024 * 1024 * 1024).default(1024 * 1024).describe("Largest server_data of one session, as JSON bytes; a larger one is refused with PORTAL_ERR_SERVER_DATA_TOO_LARGE. Must be at most a quarter of maxFrameBytes."),
  maxBufferedBytes: int(1024, 4 * 1024 * 1024 * 1024).default(64 * 1024 * 1024).describe("With more than this queued on the link socket, a game that took none of it during a whole heartbeat is dropped as stuck (with less, after heartbeatTimeoutMs without progress)."),
}).describe("The game link.")
  .refine((l) => l.maxServerDataBytes * 4 <= l.maxFrameBytes, { path: ["maxServerDataBytes"], message: "must be at most a quarter of link.maxFrameBytes" })
  .refine((l) => l.heartbeatTimeoutMs > l.heartbeatMs, { path: ["heartbeatTimeoutMs"], message: "must be longer than link.heartbeatMs" });

const packageNames = () => z.array(z.string().min(1)).default([]);

const pluginsSchema = z.strictObject({
  packages: packageNames().describe("npm packages loaded at start; the plugin manifests they export are registered (and implicitly allowed)."),
  allowPackages: packageNames().describe("npm package names or @scope/* namespaces whose plugins may be loaded by dotted path on demand (listeners or the game's server-connect)."),
  startTimeoutMs: int(100, 600_000).default(10_000).describe("How long a plugin's start() may take."),
  stopTimeoutMs: int(100, 60_000).default(2000).describe("How long a plugin's stop() may take."),
  settings: z.record(z.string().min(1), z.record(z.string(), z.unknown())).default({})
    .describe("Operator settings per plugin path, laid over every launch's config (they win over what a listener entry or the game sends), e.g. the RSS bot's minIntervalSeconds."),
}).describe("Plugin loading.");

const listenerSchema = z.strictObject({
  plugin: z.string().min(1).describe("Dotted plugin path, e.g. plugins.telnet.TelnetFactory."),
  config: z.record(z.string(), z.unknown()).default({}).describe("The plugin's own configuration, validated by the plugin when the listener is launched."),
});

const adminSchema = z.strictObject({
  enabled: z.boolean().default(true).describe("false runs no admin endpoint; portico status, reload and stop then cannot reach the portal."),
  host: host().default("127.0.0.1").describe("Address the admin endpoint listens on; keep it on loopback."),
  port: port().default(4005).describe("Admin endpoint port; 0 picks a free port."),
  headersTimeoutMs: int(100, 600_000).default(10_000).describe("A request's headers must be complete this long after its first byte (or after connecting); otherwise it is answered 408 and the connection closed (slow-header attacks)."),
  requestTimeoutMs: int(100, 3_600_000).default(30_000).describe("A request must have arrived complete this long after its first byte; otherwise it is answered 408 and the connection closed. It does not limit the answer (a /reload may take longer). At least headersTimeoutMs."),
  keepAliveTimeoutMs: int(100, 600_000).default(5_000).describe("A kept-alive connection that sends no new request this long after its last answer is closed (Node adds a fixed 1 s)."),
  idleTimeoutMs: int(100, 3_600_000).default(30_000).describe("A connection on which nothing moves for this long, while none of its requests is being worked on, is closed."),
  maxConnections: int(1, 100_000).default(64).describe("Most open connections to the admin endpoint; further ones are closed as soon as they are accepted (logged as PORTAL_ERR_ADMIN_BUSY)."),
  logIntervalMs: int(100, 86_400_000).default(60_000).describe("A refused request (PORTAL_ERR_ADMIN_AUTH) or connection (PORTAL_ERR_ADMIN_BUSY) is logged once; further ones are counted, and at most one summary line per this interval says how many were not logged."),
}).describe("The loopback admin endpoint (health, metrics, status, reload, stop) used by the CLI.")
  .refine((a) => a.requestTimeoutMs >= a.headersTimeoutMs, { path: ["requestTimeoutMs"], message: "must be at least admin.headersTimeoutMs" });

const gameSchema = z.strictObject({
  enabled: z.boolean().default(true).describe("false runs no game: the portal waits for a game you start yourself."),
  entry: z.string().default("").describe("JavaScript file run as the game, relative to the working directory; empty means the bundled default game."),
  db: z.string().default("").describe("The default game's SQLite database; empty means <dataDir>/game.sqlite."),
  restartInitialMs: int(10, 600_000).default(1000).describe("Delay before the first restart after a crash."),
  restartFactor: num(1, 10).default(1.5).describe("Each further crash in a row multiplies the restart delay by this (fractions allowed)."),
  restartMaxMs: int(10, 3_600_000).default(30_000).describe("Longest restart delay."),
  stopTimeoutMs: int(100, 600_000).default(4000).describe("How long the game may take to exit after being asked to stop before it is killed."),
  linkTimeoutMs: int(100, 3_600_000).default(30_000).describe("A running game process that has not been linked to the portal for this long (no game connected) is killed and restarted."),
}).describe("The game process `portico start` runs and supervises.");

const logLevelSchema = z.enum(["debug", "info", "warn", "error"]);


/** The whole `portico.config.json`. Missing keys take their defaults; unknown keys are errors. */
export const portalConfigSchema = z
  .strictObject({
    $schema: z.string().optional().describe("The JSON Schema of this file, for editors (see `portico config-schema`); ignored by the portal."),
    portalId: z.string().regex(PORTAL_ID).optional().describe("Names this portal: the first part of every session id, sent to the game as portal_id. Unset: \"portal\" with the TCP link; with NATS, <host>-<4 hex> made once and kept in <dataDir>/portal-id. Portals serving one game must have different ids."),
    serverName: z.string().regex(/^.{1,80}$/).default("Portico").describe("Fills {servername} in messages; 1-80 characters, no line breaks."),
    dataDir: z.string().regex(/^.+$/).default("./data").describe("Directory for the portal's files, relative to the working directory; the game needs the same one."),
    limits: limitsSchema.prefault({}),
    messages: messagesSchema.prefault({}),
    link: linkSchema.prefault({}),
    plugins: pluginsSchema.prefault({}),
    listeners: z.array(listenerSchema).default([]).describe("Plugins started at portal start, in order, after the link."),
    admin: adminSchema.prefault({}),
    game: gameSchema.prefault({}),
    logLevel: logLevelSchema.default("info").describe("Lowest level logged; also passed to the game."),
  })
  .describe("Portico portal configuration (portico.config.json).")
  .transform(({ $schema: _ignored, ...config }) => config);

export type PortalConfig = z.output<typeof portalConfigSchema>;
/** A portal's configuration once its id is settled (see Portal: "portal", or over NATS its persisted own). */
export type ResolvedPortalConfig = PortalConfig & { portalId: string };
/** Limits on what clients may do. 0 disables a rate limit. */
export type LimitsConfig = z.output<typeof limitsSchema>;
/** Texts the portal itself sends to players. `{servername}` and `{seconds}` are filled in. */
export type MessagesConfig = z.output<typeof messagesSchema>;
export type LinkConfig = z.output<typeof linkSchema>;
export type NatsLinkConfig = z.output<typeof natsSchema>;
export type ListenerConfig = z.output<typeof listenerSchema>;
/** The loopback admin endpoint (health, metrics, status, reload, stop) used by the CLI. */
export type AdminConfig = z.output<typeof adminSchema>;
/** The game process the `portico` CLI runs and supervises. */
export type GameConfig = z.output<typeof gameSchema>;
export type LogLevelName = z.output<typeof logLevelSchema>;

/** Throws PORTAL_ERR_CONFIG_INVALID naming `key` (a dotted config key or an environment variable). */
export function failConfig(key: string, problem: string): never {
  throw new PortalError(ErrorCodes.CONFIG_INVALID, `config key "${key}": ${problem}`, { key });
}

/** Validates a raw config object and fills the defaults, naming the first bad or unknown key. */
export function resolvePortalConfig(raw: unknown = {}): PortalConfig {
  return parseWithSchema(portalConfigSchema, raw, failConfig);
}

/** The configuration an empty object gives. */
export const DEFAULT_CONFIG: PortalConfig = resolvePortalConfig({});
