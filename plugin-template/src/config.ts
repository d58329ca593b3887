import { readNumber, readString } from "../../core/index.js";

export interface LineConfig {
  host: string;
  port: number;
  /** Longest line kept; a longer one is discarded with a notice. */
  maxLineBytes: number;
}

const PLUGIN = "plugins.line.LineFactory";

export function parseLineConfig(raw: Record<string, unknown>): LineConfig {
  return {
    host: readString(PLUGIN, raw, "host", "0.0.0.0"),
    port: readNumber(PLUGIN, raw, "port", 4000, 0, 65535),
    maxLineBytes: readNumber(PLUGIN, raw, "maxLineBytes", 16 * 1024, 16, 16 * 1024 * 1024),
  };
}
