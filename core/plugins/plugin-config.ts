import type { z } from "zod";
import { ErrorCodes } from "../errors/error-codes.js";
import { PortalError } from "../errors/portal-error.js";

/** Small helpers for a plugin's parseConfig: each names the bad field in a PORTAL_ERR_PLUGIN_CONFIG error. */
export function configError(plugin: string, field: string, problem: string): PortalError {
  return new PortalError(ErrorCodes.PLUGIN_CONFIG, `${plugin} config "${field}": ${problem}`, { plugin, field });
}

export function readNumber(plugin: string, raw: Record<string, unknown>, field: string, fallback: number, min: number, max: number): number {
  const v = raw[field] ?? fallback;
  if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max) throw configError(plugin, field, `expected a number from ${min} to ${max}, got ${JSON.stringify(v)}`);
  return v;
}

export function readInteger(plugin: string, raw: Record<string, unknown>, field: string, fallback: number, min: number, max: number): number {
  const v = readNumber(plugin, raw, field, fallback, min, max);
  if (!Number.isInteger(v)) throw configError(plugin, field, `expected a whole number, got ${v}`);
  return v;
}

export function readString(plugin: string, raw: Record<string, unknown>, field: string, fallback: string): string {
  const v = raw[field] ?? fallback;
  if (typeof v !== "string") throw configError(plugin, field, `expected a string, got ${JSON.stringify(v)}`);
  return v;
}

export function readBoolean(plugin: string, raw: Record<string, unknown>, field: string, fallback: boolean): boolean {
  const v = raw[field] ?? fallback;
  if (typeof v !== "boolean") throw configError(plugin, field, `expected true or false, got ${JSON.stringify(v)}`);
  return v;
}

/** Validates a plugin's raw config with its schema (defaults filled); a bad key → PORTAL_ERR_PLUGIN_CONFIG naming it. */
export function parsePluginConfig<S extends z.ZodType>(path: string, schema: S, raw: unknown): z.output<S> {
  const r = schema.safeParse(raw);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  throw configError(path, issue.path.join(".") || "(root)", issue.message);
}
