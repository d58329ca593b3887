import { listenBacklogSchema, parsePluginConfig, tlsConfigSchema, z } from "../../core/index.js";

const P = "plugins.telnet.TelnetFactory";

const int = (min: number, max: number) => z.int().min(min).max(max);
const ports = (text: string) => z.array(int(1, 65535)).default([]).describe(text);


/** The telnet listener's config (`listeners[].config` of plugins.telnet.TelnetFactory). */
export const telnetConfigSchema = z
  .strictObject({
    host: z.string().default("0.0.0.0").describe("Address to listen on."),
    port: int(0, 65535).optional().describe("Port to listen on: 4000, or 4003 with tls; 0 picks a free port."),
    tls: tlsConfigSchema.describe("{certFile, keyFile} makes this a TLS listener (protocol key telnet/ssl); null is plain telnet."),
    backlog: listenBacklogSchema,
    mccp: z.boolean().default(true).describe("Offer MCCP2 compression."),
    mccpLevel: int(1, 9).default(6).describe("zlib compression level for MCCP2."),
    mccpWindowBits: int(9, 15).default(12).describe("zlib window bits for MCCP2."),
    mccpMemLevel: int(1, 9).default(5).describe("zlib memory level for MCCP2."),
    oob: z.boolean().default(true).describe("Offer GMCP and MSDP (out-of-band data)."),
    mxp: z.boolean().default(true).describe("Offer MXP."),
    mssp: z.boolean().default(true).describe("Offer MSSP."),
    msspTable: z
      .record(z.string(), z.union([z.string(), z.array(z.string())], { error: "expected a string or a list of strings" }))
      .default({})
      .describe("Extra MSSP variables (strings or lists of strings); they override the built-in ones of the same name."),
    msspPorts: ports("Ports sent as MSSP PORT; empty means this listener's port unless it is TLS."),
    msspTlsPorts: ports("Ports sent as MSSP SSL/TLS; empty means this listener's port if it is TLS."),
    handshakeTimeoutMs: z.number().min(0).max(60_000).default(2000).describe("Longest wait for negotiation answers before the game is told the session's flags."),
    keepaliveMs: z.number().min(0).max(3_600_000).default(30_000).describe("IAC NOP interval while the session's NOPKEEPALIVE flag is on; 0 disables."),
    maxLineBytes: int(256, 16 * 1024 * 1024).default(64 * 1024).describe("Longer input lines are discarded with a notice."),
    maxSubnegotiationBytes: int(8 * 1024, 16 * 1024 * 1024).default(64 * 1024).describe("Longer subnegotiations are dropped."),
    partialInputTimeoutMs: int(0, 3_600_000).default(120_000)
      .describe("Longest time an input line (or subnegotiation) may take to arrive, from its first byte; a client still sending it then is told and disconnected (one trickling a line that never ends). 0 disables."),
    nawsDebounceMs: z.number().min(0).max(10_000).default(250).describe("Delay before a window-size change is sent to the game."),
    defaultWidth: int(10, 1000).default(78).describe("Screen width when the client does not report one."),
    defaultHeight: int(5, 1000).default(45).describe("Screen height when the client does not report one."),
    maxWidth: int(10, 65535).default(1000).describe("Reported widths are clamped to this."),
    maxHeight: int(5, 65535).default(1000).describe("Reported heights are clamped to this."),
    maxBufferedBytes: int(64 * 1024, 1024 * 1024 * 1024).default(4 * 1024 * 1024).describe("Output bytes queued for a client that does not read before it is disconnected."),
  })
  .describe("Telnet listener (plugins.telnet.TelnetFactory).")
  .transform((c) => ({ ...c, port: c.port ?? (c.tls ? 4003 : 4000) }));

export type TelnetConfig = z.output<typeof telnetConfigSchema>;
export type TelnetTlsConfig = NonNullable<TelnetConfig["tls"]>;

export function parseTelnetConfig(raw: unknown): TelnetConfig {
  return parsePluginConfig(P, telnetConfigSchema, raw);
}
