import { pino, type DestinationStream } from "pino";
import type { LogLevelName } from "../config/portal-config.js";
import type { Logger } from "./logger.js";

/** Keys whose values never reach a log line. */
export const REDACTED_PATHS = [
  "secret", "password", "token", "authorization",
  "*.secret", "*.password", "*.token", "*.authorization",
  "config.sasl.password", "config.nickservPassword",
];

const LEVEL_NAMES: Record<number, string> = { 10: "TRACE", 20: "DEBUG", 30: "INFO ", 40: "WARN ", 50: "ERROR", 60: "FATAL" };

/** Turns pino's JSON lines into one readable line each (used when stdout is a terminal). */
export function prettyLine(json: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const { time, level, msg, pid: _pid, hostname: _host, ...rest } = entry;
  const when = typeof time === "number" ? new Date(time).toISOString().slice(11, 23) : "";
  const extras = Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join(" ");
  return `${when} ${LEVEL_NAMES[level as number] ?? String(level)} ${String(msg ?? "")}${extras ? `  ${extras}` : ""}\n`;
}

function prettyStream(out: NodeJS.WritableStream): DestinationStream {
  return { write: (line: string) => void out.write(prettyLine(line.trimEnd())) };
}

/** The portal's logger: pino JSON lines on stdout (readable lines on a terminal), secrets redacted. */
export function createPinoLogger(level: LogLevelName, options: { pretty?: boolean; stream?: NodeJS.WritableStream } = {}): Logger {
  const out = options.stream ?? process.stdout;
  const pretty = options.pretty ?? (out === process.stdout && process.stdout.isTTY === true);
  const destination: DestinationStream = pretty ? prettyStream(out) : { write: (line: string) => void out.write(line) };
  return pino({ level, base: { pid: process.pid }, redact: { paths: REDACTED_PATHS, censor: "[redacted]" } }, destination) as unknown as Logger;
}
