import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { Server } from "node:net";
import type { Duplex } from "node:stream";
import type { SecureContextOptions } from "node:tls";
import { fileURLToPath } from "node:url";
import { WebSocketServer, type WebSocket } from "ws";
import { ErrorCodes, InboundListener, MARKUP_HTML_CSS, errorMessage } from "../../core/index.js";
import { chooseSubprotocol, codecFor, type Subprotocol } from "./codecs/index.js";
import type { WebsocketConfig } from "./config.js";
import { clientAddress, TrustedProxies } from "./real-ip.js";
import { ResumeTokens } from "./resume-tokens.js";
import { answer, serveStatic } from "./static-files.js";
import { CLOSE, WebsocketSession } from "./websocket-session.js";

/** The web client's files (served as they are; no build step). */
export const STATIC_ROOT = fileURLToPath(new URL("../../../plugins/websocket/static/", import.meta.url));

/** A client name a page may give in `?client=` (shown in CLIENTNAME): printable, short. */
const CLIENT_NAME = /^[\w .:/()+-]{1,64}$/;

/**
 * The web port: one HTTP(S) server that serves the web client at `/` and accepts websockets at
 * `config.path`, one WebsocketSession per new socket; a socket presenting a resume token gets its
 * old session back instead.
 */
export class WebsocketFactory extends InboundListener<WebsocketConfig> {
  private wss: WebSocketServer | undefined;
  private readonly sessions = new Set<WebsocketSession>();
  private readonly tokens = new ResumeTokens<WebsocketSession>();

  protected createServer(secure: SecureContextOptions | null): Server {
    const { config } = this;
    const trusted = new TrustedProxies(config.trustedProxies);
    const wss = new WebSocketServer({
      noServer: true, maxPayload: config.maxFrameBytes, perMessageDeflate: false, clientTracking: false,
      handleProtocols: (offered) => chooseSubprotocol(offered, config.subprotocols),
    });
    wss.on("error", (err) => this.logger.error({ code: ErrorCodes.LISTEN_FAILED, err }, "websocket server error"));
    this.wss = wss;
    const onRequest = (req: IncomingMessage, res: ServerResponse) => void this.request(req, res).catch((err) => {
      this.logger.error({ err }, `web request failed: ${errorMessage(err)}`);
      if (!res.headersSent) answer(res, 500, "Internal Server Error\n");
      else res.destroy();
    });
    const server = secure ? createHttpsServer(secure, onRequest) : createHttpServer(onRequest);
    server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head, trusted));
    server.on("clientError", (_err, socket: Duplex) => socket.destroy());
    return server;
  }

  override status(): Record<string, unknown> {
    const bySubprotocol: Record<string, number> = {};
    let detached = 0;
    for (const s of this.sessions) {
      bySubprotocol[s.variant ?? "?"] = (bySubprotocol[s.variant ?? "?"] ?? 0) + 1;
      if (s.detached) detached += 1;
    }
    return { ...super.status(), sessions: this.sessions.size, detached, by_subprotocol: bySubprotocol };
  }

  /** Sessions waiting for their tab outlive their sockets: end them all. */
  protected override stopping(): void {
    for (const s of [...this.sessions]) s.close();
  }

  private async request(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?")[0];
    if (path === this.config.path) return answer(res, 426, "This address takes websocket connections.\n", undefined, { upgrade: "websocket" });
    if (!this.config.webclient) return answer(res, 404, "Not Found\n");
    if (path === "/portico.json") {
      const info = { serverName: this.ctx.portal.serverName, path: this.config.path, subprotocol: "v1.evennia.com" };
      return answer(res, 200, JSON.stringify(info), "application/json; charset=utf-8", { "cache-control": "no-cache" });
    }
    if (path === "/markup.css") return answer(res, 200, MARKUP_HTML_CSS, "text/css; charset=utf-8");
    return serveStatic(STATIC_ROOT, req, res);
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, trusted: TrustedProxies): void {
    const wss = this.wss;
    socket.on("error", () => undefined);
    if (!wss || (req.url ?? "/").split("?")[0] !== this.config.path) {
      socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      try {
        this.accept(ws, req, trusted);
      } catch (err) {
        this.logger.error({ code: ErrorCodes.SESSION_CALLBACK, err }, `websocket session setup failed: ${errorMessage(err)}`);
        ws.terminate();
      }
    });
  }

  private accept(ws: WebSocket, req: IncomingMessage, trusted: TrustedProxies): void {
    ws.on("error", () => undefined); // every socket has a handler; sessions add their own
    const codec = codecFor((ws.protocol || "v1.evennia.com") as Subprotocol);
    const query = new URL(req.url ?? "/", "http://portico.invalid").searchParams;
    const token = query.get("resume");
    const address = clientAddress(req.socket.remoteAddress, req.headers, trusted);
    if (token !== null) {
      const session = this.tokens.take(token, this.ctx.clock.now());
      if (!session || session.ending) {
        this.logger.info({ address }, "websocket resume refused: token unknown, used or expired");
        ws.close(CLOSE.badResume, "resume token invalid or expired");
        return;
      }
      const received = query.get("received");
      session.resume(ws, codec, received !== null && /^\d{1,9}$/.test(received) ? Number(received) : undefined);
      return;
    }
    const name = query.get("client");
    const session = new WebsocketSession(ws, codec, address, name !== null && CLIENT_NAME.test(name) ? name : null, {
      config: this.config, clock: this.ctx.clock, tokens: this.tokens, ended: (s) => this.sessions.delete(s),
    });
    this.sessions.add(session);
    this.open(session);
  }
}
