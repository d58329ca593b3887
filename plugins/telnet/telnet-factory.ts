import { readFileSync } from "node:fs";
import { createServer as createNetServer, type Server, type Socket } from "node:net";
import { createServer as createTlsServer, type Server as TlsServer } from "node:tls";
import {
  CLOCK, ErrorCodes, LOGGER, PORTAL_INFO, PROTOCOL_CONFIG, PortalError, SESSION_PORT, errorMessage, inject, injectable, listenOrFail,
  type Clock, type Logger, type PortalInfo, type ProtocolFactory, type SessionPort,
} from "../../core/index.js";
import type { TelnetConfig } from "./config.js";
import { TelnetSession } from "./telnet-session.js";

/** A telnet listener (plain, or TLS when `tls` is configured); one TelnetSession per connection. */
@injectable()
export class TelnetFactory implements ProtocolFactory {
  private server: Server | TlsServer | undefined;
  private readonly sockets = new Set<Socket>();

  constructor(
    @inject(PROTOCOL_CONFIG) private readonly config: TelnetConfig,
    @inject(SESSION_PORT) private readonly port: SessionPort,
    @inject(LOGGER) private readonly logger: Logger,
    @inject(CLOCK) private readonly clock: Clock,
    @inject(PORTAL_INFO) private readonly info: PortalInfo,
  ) {}

  get boundPort(): number {
    const a = this.server?.address();
    return a && typeof a === "object" ? a.port : this.config.port;
  }

  async start(): Promise<void> {
    const onSocket = (socket: Socket) => this.accept(socket);
    const server = this.config.tls ? createTlsServer(this.readCertificates(), onSocket) : createNetServer(onSocket);
    if (this.config.tls) {
      server.on("tlsClientError", (err) => this.logger.debug({ err: err.message }, "TLS handshake failed"));
    }
    await listenOrFail(server, { host: this.config.host, port: this.config.port, backlog: 511 }, "telnet", (err) =>
      this.logger.error({ code: ErrorCodes.LISTEN_FAILED, err }, "telnet listener error"));
    this.server = server;
    this.logger.info({ port: this.boundPort, tls: this.config.tls !== null }, "telnet listening");
  }

  /** Re-reads the TLS certificate and key; connected players are not touched. */
  async reload(): Promise<void> {
    if (!this.config.tls || !this.server) return;
    try {
      (this.server as TlsServer).setSecureContext(this.readCertificates());
      this.logger.info({ port: this.boundPort }, "TLS certificate reloaded");
    } catch (err) {
      this.logger.error({ code: ErrorCodes.PLUGIN_RELOAD, err }, `TLS certificate reload failed; keeping the old one: ${errorMessage(err)}`);
    }
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    // Sessions already closing (the portal tells every player first) get a moment to finish their
    // output, an MCCP2 stream included, before the sockets are cut; bounded so no client can hold it.
    const deadline = Date.now() + 500;
    while (Date.now() < deadline && [...this.sockets].some((s) => !s.destroyed && !s.writableEnded)) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    for (const socket of this.sockets) socket.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  status(): Record<string, unknown> {
    return { port: this.boundPort, tls: this.config.tls !== null, connections: this.sockets.size };
  }

  private readCertificates(): { cert: Buffer; key: Buffer } {
    const tls = this.config.tls!;
    try {
      return { cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) };
    } catch (err) {
      throw new PortalError(ErrorCodes.PLUGIN_CONFIG, `cannot read TLS certificate or key: ${errorMessage(err)}`, { field: "tls" });
    }
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.once("close", () => this.sockets.delete(socket));
    try {
      const session = new TelnetSession(this.port, socket, {
        config: this.config, logger: this.logger, info: this.info, clock: this.clock, ownPort: () => this.boundPort,
      });
      session.begin();
    } catch (err) {
      this.logger.error({ code: ErrorCodes.SESSION_CALLBACK, err }, `telnet session setup failed: ${errorMessage(err)}`);
      socket.destroy();
    }
  }
}
