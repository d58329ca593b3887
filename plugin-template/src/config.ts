import { z } from "portico";

/** The plugin's config: declared once, giving the TypeScript type, validation, defaults and the JSON Schema. */
export const lineConfigSchema = z.object({
  host: z.string().min(1).default("0.0.0.0").describe("Listen address (0.0.0.0: all interfaces)"),
  port: z.number().int().min(0).max(65535).default(4010).describe("Listen port (0 picks a free port)"),
  tls: z.object({
    certFile: z.string().min(1).describe("PEM certificate file"),
    keyFile: z.string().min(1).describe("PEM private key file"),
  }).strict().nullable().default(null).describe("Serve TLS with this certificate and key (re-read on reload)"),
  maxLineBytes: z.number().int().min(16).max(16 * 1024 * 1024).default(16 * 1024)
    .describe("Bytes without a newline after which the line is discarded (the client is told)"),
}).strict();

export type LineConfig = z.output<typeof lineConfigSchema>;
