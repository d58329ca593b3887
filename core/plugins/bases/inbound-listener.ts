import { readFileSync } from "node:fs";
import type { Server, Socket } from "node:net";
import type { SecureContextOptions, Server as TlsServer } from "node:tls";
import { ErrorCodes } from "../../errors/error-codes.js";
import { PortalError, errorMessage } from "../../errors/portal-error.js";
import { DEFAULT_LISTEN_BACKLOG } from "../../config/listener-schema.js";
import { listenOrFail } from "../../net/listen-or-fail.js";
import { effectiveBacklog, readSomaxconn } from "../../net/somaxconn.js";
import type { PortalSession } from "../../sessions/portal-session.js";
import { PluginBase } from "./plugin-base.js";

/** The config keys every listener shares (a plugin's schema extends `listenerConfigShape`). */
export interface ListenConfig {
  host: string;
  port: number;
  /** When set, the listener speaks TLS with this certificate and key (PEM files), re-read on reload. */
  tls?: { certFile: string; keyFile: string } | null;
  /** The listen backlog (`listenBacklogSchema`); DEFAULT_LISTEN_BACKLOG when the plugin's config has none. */
  backlog?: number;
}

/** How long sessions that are already closing get to finish their output when the listener stops. */
const CLOSE_GRACE_MS = 500;

/** A 'close' listener that takes its socket (`this`) out of `sockets`: one function for all of them. */
function remover(sockets: Set<Socket>): (this: Socket) => void {
  return function (this: Socket): void {
    sockets.delete(this);
  };
}

/**
 * Base of every inbound plugin: owns the server (plain or TLS, certificates re-read on `reload()`),
 * tracks every accepted socket, and on `stop()` stops accepting, gives closing sessions a moment to
 * flush, then destroys every socket. start()/stop() are idempotent. A subclass writes
 * `createServer()` and hands each new session to `open()`; for one session per TCP connection
 * extend `SocketListener` instead, which needs only `createSession(socket)`.
 */
export abstract class InboundListener<C extends ListenConfig = ListenConfig> extends PluginBase<C> {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  /** The backlog the kernel uses (the configured one, capped at net.core.somaxconn). */
  private backlog = 0;
  // One listener function per listener for every socket, not two closures per socket.
  private readonly onSocketError = (err: Error): void => this.logger.debug({ err: err.message }, "socket error");
  private readonly untrack = remover(this.sockets);

  /** The port the server listens on (the configured one until it listens; port 0 picks a free one). */
  get boundPort(): number {
    const a = this.server?.address();
    return a && typeof a === "object" ? a.port : this.config.port;
  }

  /** Makes the (not yet listening) server; `secure` is set when `tls` is configured. */
  protected abstract createServer(secure: SecureContextOptions | null): Server;

  start(): Promise<void> {
    return this.lifecycle.start(() => this.listen());
  }

  stop(): Promise<void> {
    return this.lifecycle.stop(() => this.close());
  }

  /** Re-reads the TLS certificate and key; connected clients are not touched. A bad file keeps the old ones. */
  async reload(): Promise<void> {
    if (!this.config.tls || !this.server) return;
    try {
      (this.server as TlsServer).setSecureContext(this.readCertificates());
      this.logger.info({ port: this.boundPort }, "TLS certificate reloaded");
    } catch (err) {
      this.logger.error({ code: ErrorCodes.PLUGIN_RELOAD, err }, `TLS certificate reload failed; keeping the old one: ${errorMessage(err)}`);
    }
  }

  status(): Record<string, unknown> {
    return { state: this.state, port: this.boundPort, tls: Boolean(this.config.tls), connections: this.sockets.size, backlog: this.backlog };
  }

  /** Hands a new session to the portal (id, throttle, announcement to the game). */
  protected open(session: PortalSession): void {
    this.ctx.openSession(session);
  }

  private async listen(): Promise<void> {
    const secure = this.config.tls ? this.readCertificates() : null;
    const server = this.createServer(secure);
    server.on("connection", (socket: Socket) => this.track(socket));
    if (secure) server.on("tlsClientError", (err: Error) => this.logger.debug({ err: err.message }, "TLS handshake failed"));
    const { host, port } = this.config;
    const requested = this.config.backlog ?? DEFAULT_LISTEN_BACKLOG;
    await listenOrFail(server, { host, port, backlog: requested }, this.ctx.path, (err) =>
      this.logger.error({ code: ErrorCodes.LISTEN_FAILED, err }, "listener error"));
    this.server = server;
    this.backlog = effectiveBacklog(requested, readSomaxconn());
    if (this.lifecycle.cancelled) {
      await this.close();
      return;
    }
    const capped = this.backlog < requested ? { backlogRequested: requested, cappedBy: "net.core.somaxconn" } : {};
    this.logger.info({ host, port: this.boundPort, tls: secure !== null, backlog: this.backlog, ...capped }, "listening");
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.on("error", this.onSocketError);
    socket.on("close", this.untrack);
  }

  /**
   * Called when the listener stops, before its sockets are destroyed: end sessions that can outlive
   * their socket (a websocket session waiting for its tab to come back).
   */
  protected stopping(): void {}

  private async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    try {
      this.stopping();
    } catch (err) {
      this.logger.error({ code: ErrorCodes.PLUGIN_STOP, err }, `ending sessions failed: ${errorMessage(err)}`);
    }
    const closed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    const deadline = Date.now() + CLOSE_GRACE_MS;
    while (Date.now() < deadline && [...this.sockets].some((s) => !s.destroyed && !s.writableEnded)) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  private readCertificates(): { cert: Buffer; key: Buffer } {
    const tls = this.config.tls!;
    try {
      return { cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) };
    } catch (err) {
      throw new PortalError(ErrorCodes.PLUGIN_CONFIG, `cannot read TLS certificate or key: ${errorMessage(err)}`, { field: "tls" });
    }
  }
}
