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

/**
 * The listen backlog a listener asks for when its config has none. Node's own default is 511; a burst
 * of connections larger than the backlog overflows the kernel's accept queue, and each connection
 * that overflowed waits for its client's SYN retry (1 s, then 3 s...). The kernel caps it at
 * net.core.somaxconn (4096 on Linux since 5.4).
 */
export const DEFAULT_LISTEN_BACKLOG = 4096;

/** The `backlog` key every listener shares. */
export const listenBacklogSchema = z
  .int()
  .min(1)
  .max(65535)
  .default(DEFAULT_LISTEN_BACKLOG)
  .describe("Connections the kernel may hold for this listener before it accepts them (the listen backlog); the kernel caps it at net.core.somaxconn. A burst larger than it waits for the clients' SYN retries.");
