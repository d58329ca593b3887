/** The game's logging surface (the same shape as the portal's Logger, so the SDK accepts it) and a JSON-lines implementation. */
export type GameLogLevel = "debug" | "info" | "warn" | "error";

export interface GameLogger {
  debug(fields: Record<string, unknown>, msg: string): void;
  info(fields: Record<string, unknown>, msg: string): void;
  warn(fields: Record<string, unknown>, msg: string): void;
  error(fields: Record<string, unknown>, msg: string): void;
  child(bindings: Record<string, unknown>): GameLogger;
}

const ORDER: Record<GameLogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const REDACT = /secret|password|passwd|token/i;

function plain(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (REDACT.test(k)) out[k] = "[redacted]";
    else if (v instanceof Error) out[k] = { message: v.message, code: (v as { code?: unknown }).code };
    else out[k] = v;
  }
  return out;
}

/** One JSON object per line; keys that look like secrets are redacted. */
export class JsonLogger implements GameLogger {
  constructor(
    private readonly level: GameLogLevel = "info",
    private readonly bindings: Record<string, unknown> = {},
    private readonly write: (line: string) => void = (line) => process.stdout.write(line),
  ) {}

  private emit(level: GameLogLevel, fields: Record<string, unknown>, msg: string): void {
    if (ORDER[level] < ORDER[this.level]) return;
    this.write(JSON.stringify({ time: new Date().toISOString(), level, ...this.bindings, ...plain(fields), msg }) + "\n");
  }

  debug(fields: Record<string, unknown>, msg: string): void { this.emit("debug", fields, msg); }
  info(fields: Record<string, unknown>, msg: string): void { this.emit("info", fields, msg); }
  warn(fields: Record<string, unknown>, msg: string): void { this.emit("warn", fields, msg); }
  error(fields: Record<string, unknown>, msg: string): void { this.emit("error", fields, msg); }
  child(bindings: Record<string, unknown>): GameLogger {
    return new JsonLogger(this.level, { ...this.bindings, ...bindings }, this.write);
  }
}

/** A logger that drops everything. */
export const silentLogger: GameLogger = {
  debug() {}, info() {}, warn() {}, error() {},
  child() { return silentLogger; },
};

export function parseLogLevel(value: string | undefined): GameLogLevel {
  return value === "debug" || value === "warn" || value === "error" ? value : "info";
}
