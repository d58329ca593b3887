import type { LogFields, Logger, LogLevel } from "../logging/logger.js";

export interface LogEntry {
  level: LogLevel;
  fields: LogFields;
  msg: string;
}

/** A logger that keeps entries in memory (shared with its children) for assertions. */
export class MemoryLogger implements Logger {
  constructor(readonly entries: LogEntry[] = [], private readonly bindings: Record<string, unknown> = {}) {}

  debug(fields: LogFields, msg: string): void { this.entries.push({ level: "debug", fields: { ...this.bindings, ...fields }, msg }); }
  info(fields: LogFields, msg: string): void { this.entries.push({ level: "info", fields: { ...this.bindings, ...fields }, msg }); }
  warn(fields: LogFields, msg: string): void { this.entries.push({ level: "warn", fields: { ...this.bindings, ...fields }, msg }); }
  error(fields: LogFields, msg: string): void { this.entries.push({ level: "error", fields: { ...this.bindings, ...fields }, msg }); }
  child(bindings: Record<string, unknown>): Logger { return new MemoryLogger(this.entries, { ...this.bindings, ...bindings }); }

  codes(): string[] {
    return this.entries.map((e) => e.fields.code).filter((c): c is NonNullable<typeof c> => c !== undefined);
  }
}
