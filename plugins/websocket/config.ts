import { listenBacklogSchema, parsePluginConfig, tlsConfigSchema, z } from "../../core/index.js";
import { SUBPROTOCOLS } from "./codecs/index.js";
import { parseCidr } from "./real-ip.js";

const P = "plugins.websocket.WebsocketFactory";
const int = (min: number, max: number) => z.int().min(min).max(max);

/** The websocket listener's config (`listeners[].config` of plugins.websocket.WebsocketFactory). */
export const websocketConfigSchema = z
  .strictObject({
    host: z.string().min(1).default("0.0.0.0").describe("Address to listen on."),
    port: int(0, 65535).default(4001).describe("Port of the web client page and its websocket (PORTICO_WEB_PORT); 0 picks a free port."),
    tls: tlsConfigSchema.describe("{certFile, keyFile} serves https/wss with these files (re-read on reload); null is http/ws."),
    backlog: listenBacklogSchema,
    path: z.string().regex(/^\/[A-Za-z0-9._~/-]*$/, "must start with / and hold only URL path characters").default("/ws")
      .describe("URL path of the websocket."),
    webclient: z.boolean().default(true).describe("Serve the web client page at / (false: the websocket only)."),
    subprotocols: z.array(z.enum(SUBPROTOCOLS)).min(1).default(["json.mudstandards.org", "gmcp.mudstandards.org", "terminal.mudstandards.org", "v1.evennia.com"])
      .describe("Wire formats offered, in the server's order of preference; a client offering none of them (or nothing) gets v1.evennia.com."),
    resumeGraceMs: int(0, 3_600_000).default(60_000)
      .describe("How long a session whose websocket dropped waits for its tab to come back (same session, still logged in); 0: the session ends with its socket."),
    resumeTokenTtlMs: int(10_000, 86_400_000).default(600_000).describe("A connected tab's resume token is replaced this often."),
    replayMaxMessages: int(0, 100_000).default(100).describe("Output messages kept per session to replay to a tab that resumes."),
    replayMaxBytes: int(0, 64 * 1024 * 1024).default(64 * 1024).describe("Bytes of output kept per session for replay."),
    pingIntervalMs: int(1000, 30_000).default(25_000).describe("Websocket ping interval; a socket that misses a whole interval is dropped."),
    maxFrameBytes: int(256, 16 * 1024 * 1024).default(64 * 1024).describe("Largest frame accepted from a client (larger: closed with 1009)."),
    maxFramesPerSecond: int(1, 100_000).default(100).describe("Frames a client may send per second (more: closed with 1008)."),
    maxJsonDepth: int(1, 1000).default(32).describe("Deepest JSON nesting accepted in a client frame (deeper frames are ignored)."),
    maxBufferedBytes: int(16 * 1024, 1024 * 1024 * 1024).default(1024 * 1024)
      .describe("Output queued for a client that does not read before it is closed (1013); its session may still resume."),
    trustedProxies: z.array(z.string().refine((v) => parseCidr(v) !== undefined, "must be an IP address or a CIDR range such as 10.0.0.0/8"))
      .default(["127.0.0.1/32", "::1/128"])
      .describe("Addresses or CIDR ranges of reverse proxies whose X-Forwarded-For / Forwarded header gives the player's address."),
  })
  .describe("The websocket listener and web client (plugins.websocket.WebsocketFactory).");

export type WebsocketConfig = z.output<typeof websocketConfigSchema>;

export function parseWebsocketConfig(raw: unknown): WebsocketConfig {
  return parsePluginConfig(P, websocketConfigSchema, raw);
}
