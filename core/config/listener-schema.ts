import * as z from "zod";

/** The `tls` key every listener shares: PEM files read at start and again on reload (SIGHUP, `portico reload`). */
export const tlsConfigSchema = z
  .strictObject({
    certFile: z.string().min(1).describe("Path of the PEM certificate chain; re-read on reload."),
    keyFile: z.string().min(1).describe("Path of the PEM private key; re-read on reload."),
  })
  .nullable()
  .default(null)
  .describe("{certFile, keyFile} serves TLS with these files; null is plain TCP.");
