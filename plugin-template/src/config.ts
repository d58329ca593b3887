import { configError, readInteger, readNumber, readString } from "../../core/index.js";

export interface LineConfig {
  host: string;
  port: number;
  /** Longest line kept; a longer one is discarded with a notice. */
  maxLineBytes: number;
}

const PLUGIN = "plugins.line.LineFactory";

const KNOWN = new Set(["host", "port", "maxLineBytes"]);

export function parseLineConfig(raw: Record<string, unknown>): LineConfig {
  for (const key of Object.keys(raw)) if (!KNOWN.has(key)) throw configError(PLUGIN, key, "unknown key");
  const port = readInteger(PLUGIN, raw, "port", 4000, 0, 65535);
  return {
    host: readString(PLUGIN, raw, "host", "0.0.0.0"),
    port,
    maxLineBytes: readNumber(PLUGIN, raw, "maxLineBytes", 16 * 1024, 16, 16 * 1024 * 1024),
  };
}
