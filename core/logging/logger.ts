import type { ErrorCode } from "../errors/error-codes.js";

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Record<string, unknown> & { code?: ErrorCode };

/** The logging surface core and plugins use. A pino logger fits it as it is. */
export interface Logger {
  debug(fields: LogFields, msg: string): void;
  info(fields: LogFields, msg: string): void;
  warn(fields: LogFields, msg: string): void;
  error(fields: LogFields, msg: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const REDACT = /secret|password|passwd|token/i;

function redact(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (REDACT.test(k)) out[k] = "[redacted]";
    else if (v instanceof Error) out[k] = { message: v.message, stack: v.stack };
    else out[k] = v;
  }
  return out;
}

/** One JSON object per line on a stream; secrets redacted by key name. */
export class JsonLineLogger implements Logger {
  constructor(
    private readonly level: LogLevel = "info",
    private readonly bindings: Record<string, unknown> = {},
    private readonly write: (line: string) => void = (line) => process.stdout.write(line),
  ) {}

  private emit(level: LogLevel, fields: LogFields, msg: string): void {
    if (ORDER[level] < ORDER[this.level]) return;
    const entry = { time: new Date().toISOString(), level, ...this.bindings, ...redact(fields), msg };
    this.write(JSON.stringify(entry) + "\n");
  }

  debug(fields: LogFields, msg: string): void { this.emit("debug", fields, msg); }
  info(fields: LogFields, msg: string): void { this.emit("info", fields, msg); }
  warn(fields: LogFields, msg: string): void { this.emit("warn", fields, msg); }
  error(fields: LogFields, msg: string): void { this.emit("error", fields, msg); }
  child(bindings: Record<string, unknown>): Logger {
    return new JsonLineLogger(this.level, { ...this.bindings, ...bindings }, this.write);
  }
}
