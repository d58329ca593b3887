import { tlsConfigSchema, z } from "portico";

/** The plugin's config, declared once: the type, the defaults, the checks and the JSON Schema come from it. */
export const lineConfigSchema = z
  .strictObject({
    host: z.string().min(1).default("0.0.0.0").describe("Listen address (0.0.0.0: all interfaces)."),
    port: z.int().min(0).max(65535).default(4010).describe("Listen port; 0 picks a free port (see status().port)."),
    tls: tlsConfigSchema.describe("Serve TLS with this certificate and key (re-read on reload); null for plain TCP."),
    maxLineBytes: z
      .int()
      .min(16)
      .max(16 * 1024 * 1024)
      .default(16 * 1024)
      .describe("Longest unfinished line kept; beyond it the bytes are discarded and the client is told the line was too long."),
  })
  .describe("Line-based TCP listener (the plugin template).");

export type LineConfig = z.output<typeof lineConfigSchema>;
