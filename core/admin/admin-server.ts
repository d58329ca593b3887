import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createHash, timingSafeEqual } from "node:crypto";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { Registry } from "prom-client";
import { DEFAULT_CONFIG, type AdminConfig } from "../config/portal-config.js";
import { ErrorCodes } from "../errors/error-codes.js";
import { errorMessage } from "../errors/portal-error.js";
import type { Logger } from "../logging/logger.js";
import { listenOrFail } from "../net/listen-or-fail.js";
import { LogLimiter } from "./log-limiter.js";

export interface AdminActions {
  status(): Record<string, unknown>;
  /** The portals the linked game sees (GET /status/cluster); null when no game answered. */
  cluster?(): Promise<unknown[] | null>;
  ready(): boolean;
  reload(): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

/** The `admin.*` limits (timeouts, connection cap, log interval); see docs/configuration.md. */
export type AdminLimits = Omit<AdminConfig, "enabled" | "host" | "port">;

const DEFAULT_LIMITS: AdminLimits = (({ enabled: _e, host: _h, port: _p, ...limits }) => limits)(DEFAULT_CONFIG.admin);

const digest = (s: string) => createHash("sha256").update(s).digest();

/** The status line answered to a request the HTTP parser gave up on, by Node's error code. */
const CLIENT_ERROR_STATUS: Record<string, string> = {
  ERR_HTTP_REQUEST_TIMEOUT: "408 Request Timeout",
  HPE_HEADER_OVERFLOW: "431 Request Header Fields Too Large",
};

/** How often Node checks the header and request timeouts: every second, or a quarter of headersTimeoutMs if shorter. */
export function timeoutCheckIntervalMs(limits: Pick<AdminLimits, "headersTimeoutMs">): number {
  return Math.max(25, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4)));
}

/**
 * The loopback admin endpoint: /healthz, /readyz and /metrics for monitoring (no secret), and
 * /status, /reload, /stop for the CLI (Authorization: Bearer <link secret>).
 *
 * Hostile clients are bounded by `admin.*`: a request's headers and the whole request must arrive within
 * headersTimeoutMs / requestTimeoutMs (slow-loris), an idle kept-alive connection goes after keepAliveTimeoutMs,
 * any connection silent for idleTimeoutMs while no request of it is being worked on goes, at most
 * maxConnections are open at once, no request may carry a body, and refusals are logged at most once per
 * logIntervalMs plus a count.
 */
export class AdminServer {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  /** Per socket, the requests of it being worked on (their answer not yet started): exempt from the idle timeout. */
  private readonly working = new Map<Socket, number>();
  /** Per socket, the requests of it not yet fully answered: a parser error then gets no status line of its own. */
  private readonly answering = new Map<Socket, number>();
  private readonly secretDigest: Buffer;
  private readonly limits: AdminLimits;
  private readonly authLog: LogLimiter;
  private readonly busyLog: LogLimiter;

  constructor(
    private readonly host: string,
    private readonly port: number,
    secret: string,
    private readonly registry: Registry,
    private readonly actions: AdminActions,
    private readonly logger: Logger,
    limits: Partial<AdminLimits> = {},
  ) {
    this.secretDigest = digest(secret);
    this.limits = { ...DEFAULT_LIMITS, ...limits };
    const seconds = this.limits.logIntervalMs / 1000;
    this.authLog = new LogLimiter(this.limits.logIntervalMs, (suppressed, remotes) =>
      this.logger.warn({ code: ErrorCodes.ADMIN_AUTH, suppressed, remotes },
        `${suppressed} more admin requests without the right secret were refused and not logged one by one (at most one line per ${seconds} s, admin.logIntervalMs)`));
    this.busyLog = new LogLimiter(this.limits.logIntervalMs, (suppressed, remotes) =>
      this.logger.warn({ code: ErrorCodes.ADMIN_BUSY, suppressed, remotes, maxConnections: this.limits.maxConnections },
        `${suppressed} more admin connections over admin.maxConnections (${this.limits.maxConnections}) were refused and not logged one by one (at most one line per ${seconds} s, admin.logIntervalMs)`));
  }

  get address(): { host: string; port: number } | undefined {
    const a = this.server?.address();
    return a && typeof a === "object" ? { host: a.address, port: a.port } : undefined;
  }

  async start(): Promise<void> {
    const l = this.limits;
    const server = createServer({
      headersTimeout: l.headersTimeoutMs,
      requestTimeout: l.requestTimeoutMs,
      keepAliveTimeout: l.keepAliveTimeoutMs,
      connectionsCheckingInterval: timeoutCheckIntervalMs(l),
    }, (req, res) => void this.route(req, res));
    server.maxConnections = l.maxConnections;
    server.timeout = l.idleTimeoutMs; // every new socket gets this idle timer (see the "timeout" handler)
    server.on("connection", (socket: Socket) => {
      this.sockets.add(socket);
      socket.on("error", () => socket.destroy());
      socket.once("close", () => {
        this.sockets.delete(socket);
        this.working.delete(socket);
        this.answering.delete(socket);
      });
    });
    // Idle: nothing moved for idleTimeoutMs (or keepAliveTimeoutMs after an answer). A socket whose request is
    // still being worked on (a reload waits for the game) is the portal's delay, not the client's: it stays.
    server.on("timeout", (socket: Socket) => {
      if ((this.working.get(socket) ?? 0) > 0) socket.setTimeout(l.idleTimeoutMs);
      else socket.destroy();
    });
    // Beyond maxConnections Node closes the new socket at once; the refusal is logged, rate-limited.
    server.on("drop", (data) =>
      this.busyLog.hit(data?.remoteAddress, () =>
        this.logger.warn({ code: ErrorCodes.ADMIN_BUSY, remote: data?.remoteAddress, maxConnections: l.maxConnections },
          `admin endpoint refused a connection: admin.maxConnections (${l.maxConnections}) are open`)));
    // A request the parser gave up on (header/request timeout, oversized or malformed headers): say why, then close.
    server.on("clientError", (err: NodeJS.ErrnoException, socket: Duplex) => {
      if (err.code !== "ECONNRESET" && socket.writable && !((this.answering.get(socket as Socket) ?? 0) > 0)) {
        socket.write(`HTTP/1.1 ${CLIENT_ERROR_STATUS[err.code ?? ""] ?? "400 Bad Request"}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      }
      socket.destroy();
    });
    await listenOrFail(server, { host: this.host, port: this.port }, "admin endpoint", (err) =>
      this.logger.error({ code: ErrorCodes.LISTEN_FAILED, err }, "admin endpoint error"));
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
    this.authLog.flush();
    this.busyLog.flush();
  }

  private authorised(req: IncomingMessage): boolean {
    const header = req.headers.authorization ?? "";
    const token = header.startsWith("Bearer ") ? header.slice(7) : "";
    return timingSafeEqual(digest(token), this.secretDigest);
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const socket = req.socket;
    count(this.answering, socket, 1);
    res.once("close", () => count(this.answering, socket, -1));
    // After a kept-alive request Node leaves the socket without a timer until the answer is written: arm the idle one.
    socket.setTimeout(this.limits.idleTimeoutMs);
    count(this.working, socket, 1);
    let working = true;
    const send = (status: number, body: string, contentType = "application/json", close = false) => {
      if (working) count(this.working, socket, -1);
      working = false;
      res.writeHead(status, { "content-type": contentType, "content-length": Buffer.byteLength(body), ...(close ? { connection: "close" } : {}) });
      res.end(body);
    };
    const json = (status: number, body: unknown, close = false) => send(status, JSON.stringify(body), "application/json", close);
    const url = (req.url ?? "/").split("?")[0];
    const method = req.method ?? "GET";
    try {
      // No endpoint takes a body: one is refused rather than read, and the connection closed.
      if (req.headers["transfer-encoding"] !== undefined || (req.headers["content-length"] ?? "0") !== "0") {
        return json(413, { error: "the admin endpoint takes no request body" }, true);
      }
      if (method === "GET" && url === "/healthz") return json(200, { status: "ok" });
      if (method === "GET" && url === "/readyz") {
        const ready = this.actions.ready();
        return json(ready ? 200 : 503, { ready });
      }
      if (method === "GET" && url === "/metrics") return send(200, await this.registry.metrics(), this.registry.contentType);
      const known = (method === "GET" && (url === "/status" || url === "/status/cluster")) || (method === "POST" && (url === "/reload" || url === "/stop"));
      if (!known) return json(404, { error: "not found" });
      if (!this.authorised(req)) {
        const remote = socket.remoteAddress;
        this.authLog.hit(remote, () =>
          this.logger.warn({ code: ErrorCodes.ADMIN_AUTH, remote, url }, "admin request without the right secret"));
        return json(401, { error: "unauthorised", code: ErrorCodes.ADMIN_AUTH });
      }
      if (url === "/status") return json(200, this.actions.status());
      if (url === "/status/cluster") return json(200, { portals: (await this.actions.cluster?.()) ?? null });
      if (url === "/reload") return json(200, { reloaded: true, ...(await this.actions.reload()) });
      json(202, { stopping: true });
      setImmediate(() => void this.actions.stop());
    } catch (err) {
      this.logger.error({ code: ErrorCodes.ADMIN_REQUEST, err }, `admin request failed: ${errorMessage(err)}`);
      if (!res.headersSent) json(500, { error: errorMessage(err) });
    } finally {
      if (working) count(this.working, socket, -1);
    }
  }
}

function count(map: Map<Socket, number>, socket: Socket, by: number): void {
  const n = (map.get(socket) ?? 0) + by;
  if (n > 0) map.set(socket, n);
  else map.delete(socket);
}
