import { createServer, type Server, type Socket } from "node:net";
import {
  ErrorCodes, inject, injectable, listenOrFail, LOGGER, PROTOCOL_CONFIG, SESSION_PORT, type Logger, type ProtocolFactory, type SessionPort,
} from "../../core/index.js";
import type { LineConfig } from "./config.js";
import { LineSession } from "./line-session.js";

/** Listens for plain TCP connections and gives each one a LineSession. */
@injectable()
export class LineFactory implements ProtocolFactory {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  constructor(
    @inject(PROTOCOL_CONFIG) private readonly config: LineConfig,
    @inject(SESSION_PORT) private readonly port: SessionPort,
    @inject(LOGGER) private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    const server = createServer((socket) => {
      this.sockets.add(socket);
      socket.once("close", () => this.sockets.delete(socket));
      this.port.connect(new LineSession(this.port, socket, this.config.maxLineBytes));
    });
    // A port that cannot be bound fails the start with PORTAL_ERR_LISTEN_FAILED; later listener errors are logged.
    await listenOrFail(server, { host: this.config.host, port: this.config.port }, "line", (err) =>
      this.logger.error({ code: ErrorCodes.LISTEN_FAILED, err }, "line listener error"));
    this.server = server;
    this.logger.info({ port: this.status().port }, "line listener started");
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  status(): { port: number | undefined; connections: number } {
    const a = this.server?.address();
    return { port: a && typeof a === "object" ? a.port : undefined, connections: this.sockets.size };
  }
}
