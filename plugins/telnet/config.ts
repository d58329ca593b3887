import { configError, readBoolean, readInteger, readNumber, readString } from "../../core/index.js";

export interface TelnetTlsConfig {
  certFile: string;
  keyFile: string;
}

export interface TelnetConfig {
  host: string;
  port: number;
  /** When set, the listener speaks TLS (protocol key "telnet/ssl"). */
  tls: TelnetTlsConfig | null;
  /** Offer MCCP2 compression. */
  mccp: boolean;
  mccpLevel: number;
  mccpWindowBits: number;
  mccpMemLevel: number;
  /** Offer GMCP and MSDP (out-of-band data). */
  oob: boolean;
  mxp: boolean;
  mssp: boolean;
  /** Extra MSSP variables (game-supplied values override the defaults). */
  msspTable: Record<string, string | string[]>;
  /** Ports listed in MSSP PORT (default: this listener's port); TLS ports under SSL. */
  msspPorts: number[];
  msspTlsPorts: number[];
  handshakeTimeoutMs: number;
  /** IAC NOP every this many ms (0 disables); a session can switch it with the NOPKEEPALIVE flag. */
  keepaliveMs: number;
  maxLineBytes: number;
  maxSubnegotiationBytes: number;
  nawsDebounceMs: number;
  defaultWidth: number;
  defaultHeight: number;
  maxWidth: number;
  maxHeight: number;
  /** Output bytes queued for a client that does not read before it is disconnected. */
  maxBufferedBytes: number;
}

const P = "plugins.telnet.TelnetFactory";
const KNOWN = new Set([
  "host", "port", "tls", "mccp", "mccpLevel", "mccpWindowBits", "mccpMemLevel", "oob", "mxp", "mssp", "msspTable", "msspPorts",
  "msspTlsPorts", "handshakeTimeoutMs", "keepaliveMs", "maxLineBytes", "maxSubnegotiationBytes", "nawsDebounceMs", "defaultWidth",
  "defaultHeight", "maxWidth", "maxHeight", "maxBufferedBytes",
]);

function readPorts(raw: Record<string, unknown>, field: string): number[] {
  const v = raw[field] ?? [];
  if (!Array.isArray(v) || !v.every((p) => Number.isInteger(p) && p > 0 && p < 65536)) throw configError(P, field, "expected a list of port numbers");
  return [...v] as number[];
}

function readTls(raw: Record<string, unknown>): TelnetTlsConfig | null {
  const v = raw.tls;
  if (v === undefined || v === null) return null;
  if (typeof v !== "object" || Array.isArray(v)) throw configError(P, "tls", "expected {certFile, keyFile}");
  const t = v as Record<string, unknown>;
  if (typeof t.certFile !== "string" || !t.certFile) throw configError(P, "tls.certFile", "expected a path to a PEM certificate");
  if (typeof t.keyFile !== "string" || !t.keyFile) throw configError(P, "tls.keyFile", "expected a path to a PEM private key");
  return { certFile: t.certFile, keyFile: t.keyFile };
}

function readTable(raw: Record<string, unknown>): Record<string, string | string[]> {
  const v = raw.msspTable ?? {};
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw configError(P, "msspTable", "expected an object of strings or string lists");
  for (const [k, val] of Object.entries(v)) {
    const ok = typeof val === "string" || (Array.isArray(val) && val.every((x) => typeof x === "string"));
    if (!ok) throw configError(P, `msspTable.${k}`, "expected a string or a list of strings");
  }
  return { ...(v as Record<string, string | string[]>) };
}

export function parseTelnetConfig(raw: Record<string, unknown>): TelnetConfig {
  for (const key of Object.keys(raw)) if (!KNOWN.has(key)) throw configError(P, key, "unknown key");
  const tls = readTls(raw);
  return {
    host: readString(P, raw, "host", "0.0.0.0"),
    port: readInteger(P, raw, "port", tls ? 4003 : 4000, 0, 65535),
    tls,
    mccp: readBoolean(P, raw, "mccp", true),
    mccpLevel: readNumber(P, raw, "mccpLevel", 6, 1, 9),
    mccpWindowBits: readNumber(P, raw, "mccpWindowBits", 12, 9, 15),
    mccpMemLevel: readNumber(P, raw, "mccpMemLevel", 5, 1, 9),
    oob: readBoolean(P, raw, "oob", true),
    mxp: readBoolean(P, raw, "mxp", true),
    mssp: readBoolean(P, raw, "mssp", true),
    msspTable: readTable(raw),
    msspPorts: readPorts(raw, "msspPorts"),
    msspTlsPorts: readPorts(raw, "msspTlsPorts"),
    handshakeTimeoutMs: readNumber(P, raw, "handshakeTimeoutMs", 2000, 0, 60_000),
    keepaliveMs: readNumber(P, raw, "keepaliveMs", 30_000, 0, 3_600_000),
    maxLineBytes: readNumber(P, raw, "maxLineBytes", 64 * 1024, 256, 16 * 1024 * 1024),
    maxSubnegotiationBytes: readNumber(P, raw, "maxSubnegotiationBytes", 64 * 1024, 8 * 1024, 16 * 1024 * 1024),
    nawsDebounceMs: readNumber(P, raw, "nawsDebounceMs", 250, 0, 10_000),
    defaultWidth: readNumber(P, raw, "defaultWidth", 78, 10, 1000),
    defaultHeight: readNumber(P, raw, "defaultHeight", 45, 5, 1000),
    maxWidth: readNumber(P, raw, "maxWidth", 1000, 10, 65535),
    maxHeight: readNumber(P, raw, "maxHeight", 1000, 5, 65535),
    maxBufferedBytes: readNumber(P, raw, "maxBufferedBytes", 4 * 1024 * 1024, 64 * 1024, 1024 * 1024 * 1024),
  };
}
