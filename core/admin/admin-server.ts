import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createHash, timingSafeEqual } from "node:crypto";
import type { Socket } from "node:net";
import type { Registry } from "prom-client";
import { ErrorCodes } from "../errors/error-codes.js";
import { errorMessage } from "../errors/portal-error.js";
import type { Logger } from "../logging/logger.js";
import { listenOrFail } from "../net/listen-or-fail.js";

export interface AdminActions {
  status(): Record<string, unknown>;
  ready(): boolean;
  reload(): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

const digest = (s: string) => createHash("sha256").update(s).digest();

/**
 * The loopback admin endpoint: /healthz, /readyz and /metrics for monitoring (no secret), and
 * /status, /reload, /stop for the CLI (Authorization: Bearer <link secret>).
 */
export class AdminServer {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly secretDigest: Buffer;

  constructor(
    private readonly host: string,
    private readonly port: number,
    secret: string,
    private readonly registry: Registry,
    private readonly actions: AdminActions,
    private readonly logger: Logger,
  ) {
    this.secretDigest = digest(secret);
  }

  get address(): { host: string; port: number } | undefined {
    const a = this.server?.address();
    return a && typeof a === "object" ? { host: a.address, port: a.port } : undefined;
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => void this.route(req, res));
    server.on("connection", (socket) => {
      this.sockets.add(socket);
      socket.on("error", () => socket.destroy());
      socket.once("close", () => this.sockets.delete(socket));
    });
    server.on("clientError", (_err, socket) => socket.destroy());
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
  }

  private authorised(req: IncomingMessage): boolean {
    const header = req.headers.authorization ?? "";
    const token = header.startsWith("Bearer ") ? header.slice(7) : "";
    return timingSafeEqual(digest(token), this.secretDigest);
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = (req.url ?? "/").split("?")[0];
    const method = req.method ?? "GET";
    try {
      if (method === "GET" && url === "/healthz") return send(res, 200, { status: "ok" });
      if (method === "GET" && url === "/readyz") {
        const ready = this.actions.ready();
        return send(res, ready ? 200 : 503, { ready });
      }
      if (method === "GET" && url === "/metrics") {
        res.writeHead(200, { "content-type": this.registry.contentType });
        res.end(await this.registry.metrics());
        return;
      }
      const known = (method === "GET" && url === "/status") || (method === "POST" && (url === "/reload" || url === "/stop"));
      if (!known) return send(res, 404, { error: "not found" });
      if (!this.authorised(req)) {
        this.logger.warn({ code: ErrorCodes.ADMIN_AUTH, remote: req.socket.remoteAddress, url }, "admin request without the right secret");
        return send(res, 401, { error: "unauthorised", code: ErrorCodes.ADMIN_AUTH });
      }
      if (url === "/status") return send(res, 200, this.actions.status());
      if (url === "/reload") {
        return send(res, 200, { reloaded: true, ...(await this.actions.reload()) });
      }
      send(res, 202, { stopping: true });
      setImmediate(() => void this.actions.stop());
    } catch (err) {
      this.logger.error({ code: ErrorCodes.ADMIN_REQUEST, err }, `admin request failed: ${errorMessage(err)}`);
      if (!res.headersSent) send(res, 500, { error: errorMessage(err) });
    }
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}
