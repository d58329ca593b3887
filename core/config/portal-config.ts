import { ErrorCodes } from "../errors/error-codes.js";
import { PortalError } from "../errors/portal-error.js";

/** Limits on what clients may do. 0 disables a rate limit. */
export interface LimitsConfig {
  /** New connections announced to the game per second (token bucket, first come first served). */
  maxConnectionRate: number;
  /** Connections waiting in the throttle queue at most; over it a newcomer is told and closed. */
  connectionQueueMax: number;
  /** Queued connections from one address at most. */
  connectionQueuePerIp: number;
  /** Inputs per session per one-second window. */
  maxCommandRate: number;
  /** Characters of command text in one input (0 disables). */
  maxCharLimit: number;
  /** Bytes (JSON) of one out-of-band input. */
  maxOobBytes: number;
  /** Inputs kept per session while no game is connected. */
  pendingInputMax: number;
}

/** Texts the portal itself sends to players. `{servername}` and `{seconds}` are filled in. */
export interface MessagesConfig {
  commandRate: string;
  charLimit: string;
  oobTooLarge: string;
  queued: string;
  queueFull: string;
  perIpFull: string;
  gameRestarting: string;
  inputDropped: string;
}

export interface LinkConfig {
  host: string;
  port: number;
  /** Largest frame accepted or sent (bytes). */
  maxFrameBytes: number;
  /** Pending messages are packed into frames of about this many bytes. */
  batchMaxBytes: number;
  /** Ping interval; a peer silent for three intervals is dropped. */
  heartbeatMs: number;
  /** Time a new connection has to authenticate. */
  handshakeTimeoutMs: number;
  /** Bytes queued on the link socket before the peer is considered stuck and dropped. */
  maxBufferedBytes: number;
}

export interface ListenerConfig {
  plugin: string;
  config: Record<string, unknown>;
}

/** The loopback admin endpoint (health, metrics, status, reload, stop) used by the CLI. */
export interface AdminConfig {
  enabled: boolean;
  host: string;
  port: number;
}

/** The game process the `portico` CLI runs and supervises. */
export interface GameConfig {
  enabled: boolean;
  /** A JavaScript file to run as the game; empty means the bundled default game. */
  entry: string;
  /** The default game's database; empty means <dataDir>/game.sqlite. */
  db: string;
  /** Restart back-off after a crash: first delay, growth factor, cap. */
  restartInitialMs: number;
  restartFactor: number;
  restartMaxMs: number;
  /** How long a game asked to stop may take before it is killed. */
  stopTimeoutMs: number;
}

export type LogLevelName = "debug" | "info" | "warn" | "error";

export interface PortalConfig {
  portalId: string;
  serverName: string;
  dataDir: string;
  limits: LimitsConfig;
  messages: MessagesConfig;
  link: LinkConfig;
  plugins: { allowPackages: string[] };
  listeners: ListenerConfig[];
  admin: AdminConfig;
  game: GameConfig;
  logLevel: LogLevelName;
  /** Reserved for the websocket web client (not bundled yet). */
  web: { port: number };
}

export const DEFAULT_CONFIG: PortalConfig = {
  portalId: "portal",
  serverName: "Portico",
  dataDir: "./data",
  limits: {
    maxConnectionRate: 2,
    connectionQueueMax: 500,
    connectionQueuePerIp: 10,
    maxCommandRate: 80,
    maxCharLimit: 6000,
    maxOobBytes: 64 * 1024,
    pendingInputMax: 50,
  },
  messages: {
    commandRate: "You entered commands too fast. Wait a moment and try again.",
    charLimit: "You entered a string that was too long. Please break it up into multiple parts.",
    oobTooLarge: "Your client sent an out-of-band message that was too large; it was ignored.",
    queued: "{servername} DoS protection is active. You are queued to connect in {seconds} seconds ...",
    queueFull: "{servername} is receiving too many connections right now. Please try again in a minute.",
    perIpFull: "{servername}: too many connections are waiting from your address. Please try again in a minute.",
    gameRestarting: "The game is restarting; what you type will be delivered when it is back.",
    inputDropped: "The game is still restarting and your input buffer is full; this line was not kept: {line}",
  },
  link: {
    host: "127.0.0.1",
    port: 4006,
    maxFrameBytes: 16 * 1024 * 1024,
    batchMaxBytes: 256 * 1024,
    heartbeatMs: 10_000,
    handshakeTimeoutMs: 5_000,
    maxBufferedBytes: 64 * 1024 * 1024,
  },
  plugins: { allowPackages: [] },
  listeners: [],
  admin: { enabled: true, host: "127.0.0.1", port: 4005 },
  game: { enabled: true, entry: "", db: "", restartInitialMs: 1000, restartFactor: 1.5, restartMaxMs: 30_000, stopTimeoutMs: 4000 },
  logLevel: "info",
  web: { port: 4001 },
};

type Rule =
  | { kind: "number"; min: number; max: number; integer?: boolean }
  | { kind: "string"; pattern?: RegExp }
  | { kind: "boolean" }
  | { kind: "enum"; values: readonly string[] }
  | { kind: "strings" }
  | { kind: "listeners" };

const num = (min: number, max: number, integer = true): Rule => ({ kind: "number", min, max, integer });
const RULES: Record<string, Record<string, Rule> | Rule> = {
  portalId: { kind: "string", pattern: /^[A-Za-z0-9_-]{1,32}$/ },
  serverName: { kind: "string", pattern: /^.{1,80}$/ },
  dataDir: { kind: "string", pattern: /^.+$/ },
  limits: {
    maxConnectionRate: num(0, 100_000, false),
    connectionQueueMax: num(1, 1_000_000),
    connectionQueuePerIp: num(1, 1_000_000),
    maxCommandRate: num(0, 1_000_000, false),
    maxCharLimit: num(0, 10_000_000),
    maxOobBytes: num(16, 100 * 1024 * 1024),
    pendingInputMax: num(0, 100_000),
  },
  messages: Object.fromEntries(Object.keys(DEFAULT_CONFIG.messages).map((k) => [k, { kind: "string" } as Rule])),
  link: {
    host: { kind: "string", pattern: /^\S+$/ },
    port: num(0, 65535),
    maxFrameBytes: num(1024, 1024 * 1024 * 1024),
    batchMaxBytes: num(1, 1024 * 1024 * 1024),
    heartbeatMs: num(100, 3_600_000),
    handshakeTimeoutMs: num(100, 600_000),
    maxBufferedBytes: num(1024, 4 * 1024 * 1024 * 1024),
  },
  plugins: { allowPackages: { kind: "strings" } },
  listeners: { kind: "listeners" },
  admin: { enabled: { kind: "boolean" }, host: { kind: "string", pattern: /^\S+$/ }, port: num(0, 65535) },
  game: {
    enabled: { kind: "boolean" },
    entry: { kind: "string" },
    db: { kind: "string" },
    restartInitialMs: num(10, 600_000),
    restartFactor: num(1, 10, false),
    restartMaxMs: num(10, 3_600_000),
    stopTimeoutMs: num(100, 600_000),
  },
  logLevel: { kind: "enum", values: ["debug", "info", "warn", "error"] },
  web: { port: num(0, 65535) },
};

function isRule(r: Record<string, Rule> | Rule): r is Rule {
  return typeof (r as Rule).kind === "string";
}

/** Throws PORTAL_ERR_CONFIG_INVALID naming `key` (a dotted config key or an environment variable). */
export function failConfig(key: string, problem: string): never {
  throw new PortalError(ErrorCodes.CONFIG_INVALID, `config key "${key}": ${problem}`, { key });
}

function checkValue(key: string, rule: Rule, value: unknown): unknown {
  switch (rule.kind) {
    case "number":
      if (typeof value !== "number" || !Number.isFinite(value)) failConfig(key, `expected a number, got ${JSON.stringify(value)}`);
      if (rule.integer && !Number.isInteger(value)) failConfig(key, `expected a whole number, got ${value}`);
      if (value < rule.min || value > rule.max) failConfig(key, `must be between ${rule.min} and ${rule.max}, got ${value}`);
      return value;
    case "string":
      if (typeof value !== "string") failConfig(key, `expected a string, got ${JSON.stringify(value)}`);
      if (rule.pattern && !rule.pattern.test(value)) failConfig(key, `invalid value ${JSON.stringify(value)}`);
      return value;
    case "boolean":
      if (typeof value !== "boolean") failConfig(key, `expected true or false, got ${JSON.stringify(value)}`);
      return value;
    case "enum":
      if (typeof value !== "string" || !rule.values.includes(value)) failConfig(key, `expected one of ${rule.values.join(", ")}, got ${JSON.stringify(value)}`);
      return value;
    case "strings":
      if (!Array.isArray(value) || !value.every((v) => typeof v === "string" && v.length > 0)) failConfig(key, "expected a list of non-empty strings");
      return [...value];
    case "listeners":
      if (!Array.isArray(value)) failConfig(key, "expected a list of {plugin, config}");
      return value.map((entry, i) => {
        if (typeof entry !== "object" || entry === null || typeof entry.plugin !== "string") failConfig(`${key}[${i}].plugin`, "expected a dotted plugin path");
        const config = entry.config ?? {};
        if (typeof config !== "object" || config === null || Array.isArray(config)) failConfig(`${key}[${i}].config`, "expected an object");
        for (const k of Object.keys(entry)) if (k !== "plugin" && k !== "config") failConfig(`${key}[${i}].${k}`, "unknown key");
        return { plugin: entry.plugin, config: { ...config } };
      });
  }
}

/** Merges a raw config object over the defaults, naming the first bad or unknown key. */
export function resolvePortalConfig(raw: unknown = {}): PortalConfig {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) failConfig("(root)", "expected an object");
  const out = structuredClone(DEFAULT_CONFIG) as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(raw)) {
    const rule = Object.hasOwn(RULES, key) ? RULES[key] : undefined;
    if (!rule) failConfig(key, "unknown key");
    if (isRule(rule)) {
      out[key] = checkValue(key, rule, value);
      continue;
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) failConfig(key, "expected an object");
    const section = out[key] as Record<string, unknown>;
    for (const [sub, subValue] of Object.entries(value)) {
      const subRule = Object.hasOwn(rule, sub) ? rule[sub] : undefined;
      if (!subRule) failConfig(`${key}.${sub}`, "unknown key");
      section[sub] = checkValue(`${key}.${sub}`, subRule, subValue);
    }
  }
  return out as unknown as PortalConfig;
}
