import { existsSync, readFileSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { PortalError, errorMessage } from "../errors/portal-error.js";
import { failConfig, resolvePortalConfig, type ListenerConfig, type PortalConfig } from "./portal-config.js";

/** What `portico start` listens on when the config file names no listeners. */
export const APP_DEFAULT_LISTENERS: readonly ListenerConfig[] = [
  { plugin: "plugins.telnet.TelnetFactory", config: { port: 4000 } },
  { plugin: "plugins.websocket.WebsocketFactory", config: { port: 4001 } },
];

export interface LoadOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Explicit config file (else PORTICO_CONFIG, else ./portico.config.json). */
  configPath?: string;
}

export interface LoadedConfig {
  config: PortalConfig;
  /** The file read, or null when only defaults and the environment applied. */
  source: string | null;
  /** PORTICO_LINK_SECRET(_FILE), when set: used instead of <dataDir>/link.secret. */
  linkSecret?: string;
}

/** Reads NAME, or the file named by NAME_FILE (one trailing newline dropped); both set is an error. */
export function envValue(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const direct = env[name];
  const file = env[`${name}_FILE`];
  if (direct !== undefined && file !== undefined) failConfig(name, `set both ${name} and ${name}_FILE; use one`);
  if (file !== undefined) {
    try {
      return readFileSync(file, "utf8").replace(/\r?\n$/, "");
    } catch (err) {
      failConfig(`${name}_FILE`, `cannot read ${file}: ${errorMessage(err)}`);
    }
  }
  return direct;
}

function envPort(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const v = envValue(env, name);
  if (v === undefined || v === "") return undefined;
  if (!/^\d{1,5}$/.test(v) || Number(v) > 65535) failConfig(name, `expected a port number 0-65535, got ${JSON.stringify(v)}`);
  return Number(v);
}

/** Sets `port` on the first listener of `plugin` (without tls, when `plainOnly`); none configured is an error naming `variable`. */
function listenerPort(raw: Record<string, unknown>, port: number | undefined, variable: string, plugin: string, what: string, plainOnly: boolean): void {
  if (port === undefined) return;
  const listeners = Array.isArray(raw.listeners) ? (raw.listeners as { plugin?: unknown; config?: Record<string, unknown> }[]) : [];
  const listener = listeners.find((l) => l.plugin === plugin && !(plainOnly && l.config && l.config.tls));
  if (!listener) failConfig(variable, `no ${what} listener is configured to apply it to`);
  listener.config = { ...(listener.config ?? {}), port };
}

function section(raw: Record<string, unknown>, key: string): Record<string, unknown> {
  const v = raw[key];
  if (v === undefined) return (raw[key] = {}) as Record<string, unknown>;
  if (typeof v !== "object" || v === null || Array.isArray(v)) failConfig(key, "expected an object");
  return v as Record<string, unknown>;
}

/** PORTICO_LINK_TRANSPORT, PORTICO_NATS_SERVERS (comma-separated) and PORTICO_NATS_PREFIX over the file's link settings. */
function natsOverrides(raw: Record<string, unknown>, env: NodeJS.ProcessEnv): void {
  const transport = envValue(env, "PORTICO_LINK_TRANSPORT");
  if (transport !== undefined) section(raw, "link").transport = transport;
  const servers = envValue(env, "PORTICO_NATS_SERVERS");
  const prefix = envValue(env, "PORTICO_NATS_PREFIX");
  if (servers === undefined && prefix === undefined) return;
  const link = section(raw, "link");
  const nats = section(link, "nats");
  if (servers !== undefined) nats.servers = servers.split(",").map((x) => x.trim()).filter((x) => x !== "");
  if (prefix !== undefined) nats.prefix = prefix;
}

/**
 * The CLI's configuration: portico.config.json (if present) over the defaults, then environment
 * overrides: PORTICO_TELNET_PORT, PORTICO_WEB_PORT, PORTICO_LINK_PORT, PORTICO_ADMIN_PORT,
 * PORTICO_DATA_DIR, PORTICO_LOG_LEVEL, PORTICO_LINK_SECRET, PORTICO_LINK_TRANSPORT, PORTICO_NATS_SERVERS and
 * PORTICO_NATS_PREFIX — each also as NAME_FILE (PORTICO_NATS_USER, _PASSWORD and _TOKEN: natsCredentials).
 * A bad value throws PORTAL_ERR_CONFIG_INVALID naming the key (or the variable).
 */
export function loadAppConfig(options: LoadOptions = {}): LoadedConfig {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const explicit = options.configPath ?? envValue(env, "PORTICO_CONFIG");
  const path = resolve(cwd, explicit ?? "portico.config.json");
  let raw: Record<string, unknown> = {};
  let source: string | null = null;
  if (existsSync(path)) {
    source = path;
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(path, "utf8"));
    } catch (err) {
      failConfig("(file)", `${path} is not valid JSON: ${errorMessage(err)}`);
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) failConfig("(root)", `${path} must hold a JSON object`);
    raw = parsed as Record<string, unknown>;
  } else if (explicit !== undefined) {
    failConfig("(file)", `config file ${path} does not exist`);
  }
  if (raw.listeners === undefined) raw.listeners = structuredClone(APP_DEFAULT_LISTENERS);
  // The file on its own first, so its errors name the file; then the environment on top.
  if (source) {
    try {
      resolvePortalConfig(raw);
    } catch (err) {
      if (err instanceof PortalError) throw new PortalError(err.code, `${source}: ${err.message}`, { ...err.details });
      throw err;
    }
  }

  listenerPort(raw, envPort(env, "PORTICO_TELNET_PORT"), "PORTICO_TELNET_PORT", "plugins.telnet.TelnetFactory", "plain telnet", true);
  listenerPort(raw, envPort(env, "PORTICO_WEB_PORT"), "PORTICO_WEB_PORT", "plugins.websocket.WebsocketFactory", "websocket", false);
  const linkPort = envPort(env, "PORTICO_LINK_PORT");
  if (linkPort !== undefined) section(raw, "link").port = linkPort;
  const adminPort = envPort(env, "PORTICO_ADMIN_PORT");
  if (adminPort !== undefined) section(raw, "admin").port = adminPort;
  const dataDir = envValue(env, "PORTICO_DATA_DIR");
  if (dataDir !== undefined) raw.dataDir = dataDir;
  const logLevel = envValue(env, "PORTICO_LOG_LEVEL");
  if (logLevel !== undefined) raw.logLevel = logLevel;
  natsOverrides(raw, env);

  let config: PortalConfig;
  try {
    config = resolvePortalConfig(raw);
  } catch (err) {
    if (err instanceof PortalError) throw new PortalError(err.code, `environment override: ${err.message}`, { ...err.details });
    throw err;
  }
  if (!isAbsolute(config.dataDir)) config.dataDir = join(cwd, config.dataDir);
  if (config.game.entry && !isAbsolute(config.game.entry)) config.game.entry = join(cwd, config.game.entry);
  if (config.game.db && !isAbsolute(config.game.db)) config.game.db = join(cwd, config.game.db);
  const linkSecret = envValue(env, "PORTICO_LINK_SECRET");
  if (linkSecret !== undefined && linkSecret.length < 16) failConfig("PORTICO_LINK_SECRET", "must be at least 16 characters");
  return linkSecret === undefined ? { config, source } : { config, source, linkSecret };
}
