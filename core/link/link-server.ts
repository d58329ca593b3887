import { createServer, type Server, type Socket } from "node:net";
import { createHash, timingSafeEqual } from "node:crypto";
import { ErrorCodes } from "../errors/error-codes.js";
import { PortalError } from "../errors/portal-error.js";
import type { LinkConfig } from "../config/portal-config.js";
import type { Logger } from "../logging/logger.js";
import { listenOrFail } from "../net/listen-or-fail.js";
import { LinkConnection } from "./link-connection.js";
import type { GameChannel } from "./game-channel.js";
import { takeGameMessage } from "./game-message-intake.js";
import { LINK_VERSION, parseGameMessage, type GameToPortal, type PortalToGame } from "./link-messages.js";

export const NOT_PROTOCOL_REPLY =
  "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n" +
  "This is Portico's internal game link port. Players connect to the telnet or web ports; " +
  "only the game server speaks here (see docs/link-protocol.md).\r\n";

/**
 * News of connections coming and going may reach the game up to this many milliseconds late, so that
 * a burst of connections (one accepted per event-loop turn) shares link frames instead of costing a
 * write, and a wake-up of the game, each. Input and everything else goes out at the end of the turn,
 * and order is kept: a message sent after the news carries it along.
 */
export const CONNECTION_NEWS_DELAY_MS = 5;
const CONNECTION_NEWS: ReadonlySet<PortalToGame["op"]> = new Set(["session-connect", "session-connect-sync", "session-disconnect"]);

export interface LinkServerEvents {
  /** A game authenticated; it replaces any game connected before. */
  gameConnected(hello: Extract<GameToPortal, { op: "hello" }>): void;
  /** A validated message from the connected game (hello, ping and pong excluded). */
  gameMessage(msg: GameToPortal): void;
  /** The connected game's link is gone; `err` says why when it was not a clean close. */
  gameDisconnected(err: PortalError | undefined): void;
}

/** Whether a peer's first bytes can start a link frame (a sane length, then JSON). */
export function looksLikeFrame(first: Buffer, maxFrameBytes: number): boolean {
  if (first.length < 4) return first[0] === 0;
  const length = first.readUInt32BE(0);
  if (length === 0 || length > maxFrameBytes) return false;
  return first.length === 4 || first[4] === 0x5b || first[4] === 0x7b;
}

function digest(s: string): Buffer {
  return createHash("sha256").update(s).digest();
}

/** Hosts the link (the game connects in), authenticates it with the shared secret, keeps one game at a time. */
export class LinkServer implements GameChannel {
  private server: Server | undefined;
  private game: LinkConnection | undefined;
  private readonly pending = new Set<LinkConnection>();
  /** Accepted sockets whose first bytes have not arrived yet (stop() closes them too). */
  private readonly silent = new Set<Socket>();
  /** Connections accepted that have not completed hello and are not closed yet. */
  private unauthenticated = 0;
  private readonly secretDigest: Buffer;
  private events: LinkServerEvents = { gameConnected() {}, gameMessage() {}, gameDisconnected() {} };

  constructor(
    private readonly config: LinkConfig,
    secret: string,
    private readonly logger: Logger,
  ) {
    this.secretDigest = digest(secret);
  }

  get connected(): boolean {
    return this.game !== undefined && !this.game.closed;
  }

  get address(): { host: string; port: number } | undefined {
    const a = this.server?.address();
    return a && typeof a === "object" ? { host: a.address, port: a.port } : undefined;
  }

  /** Listens; `events` receive the game's connection, messages and disconnection from now on. */
  async start(events: LinkServerEvents): Promise<void> {
    this.events = events;
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    await listenOrFail(server, { host: this.config.host, port: this.config.port, backlog: 64 }, "link", (err) =>
      this.logger.error({ code: ErrorCodes.LINK_SOCKET, err }, "link listener error"));
  }

  send(msg: PortalToGame): void {
    this.game?.send(msg, CONNECTION_NEWS.has(msg.op) ? CONNECTION_NEWS_DELAY_MS : 0);
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.game?.close();
    for (const c of this.pending) c.destroy();
    this.pending.clear();
    for (const s of this.silent) s.destroy();
    this.silent.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    const remote = socket.remoteAddress;
    const limit = this.config.maxUnauthenticated;
    if (this.unauthenticated >= limit) {
      socket.on("error", () => undefined);
      this.logger.warn({ code: ErrorCodes.LINK_BUSY, remote, limit },
        `${limit} link connections are already waiting for their hello; connection closed`);
      socket.destroy();
      return;
    }
    // Counted from now until the peer authenticates or its socket closes, whichever comes first.
    this.unauthenticated += 1;
    let counted = true;
    const uncount = () => {
      if (!counted) return;
      counted = false;
      this.unauthenticated -= 1;
    };
    // Before the first bytes, only a timeout and an error handler; the first chunk decides what this peer is.
    const onEarlyError = (err: Error) => this.logger.debug({ code: ErrorCodes.LINK_SOCKET, err }, "link peer error before handshake");
    socket.on("error", onEarlyError);
    const timer = setTimeout(() => {
      this.logger.warn({ code: ErrorCodes.LINK_AUTH, remote: socket.remoteAddress }, "link peer did not authenticate in time");
      socket.destroy();
    }, this.config.handshakeTimeoutMs);
    this.silent.add(socket);
    socket.once("close", () => {
      clearTimeout(timer);
      uncount();
      this.silent.delete(socket);
    });
    socket.once("data", (first: Buffer) => {
      this.silent.delete(socket);
      // Until hello succeeds, frames are capped at helloMaxFrameBytes.
      const helloMax = this.config.helloMaxFrameBytes;
      if (!looksLikeFrame(first, helloMax)) {
        if (looksLikeFrame(first, 0xffffffff)) {
          const length = first.readUInt32BE(0);
          this.logger.warn({ code: ErrorCodes.LINK_FRAME, remote, length },
            `link peer announced a frame of ${length} bytes before hello (at most ${helloMax}); connection dropped`);
          socket.destroy();
          return;
        }
        this.logger.warn({ code: ErrorCodes.LINK_NOT_PROTOCOL, remote: socket.remoteAddress }, "non-link traffic on the link port");
        socket.end(NOT_PROTOCOL_REPLY);
        return;
      }
      socket.off("error", onEarlyError);
      let authenticated = false;
      const conn: LinkConnection = new LinkConnection(socket, { ...this.config, initialMaxFrameBytes: helloMax }, {
        message: (raw) => {
          if (authenticated) this.onGameMessage(conn, raw);
          else if (this.onHandshake(conn, raw)) {
            authenticated = true;
            clearTimeout(timer);
            uncount();
            conn.raiseFrameLimit(this.config.maxFrameBytes);
          }
        },
        fault: (err) => {
          this.logger.warn({ code: err.code }, err.message);
          conn.send({ op: "error", code: err.code, message: err.message });
        },
        closed: (err) => {
          this.pending.delete(conn);
          if (!authenticated && err?.code === ErrorCodes.LINK_FRAME) {
            this.logger.warn({ code: err.code, remote }, `link peer dropped before hello: ${err.message}`);
          }
          if (conn !== this.game) return;
          this.game = undefined;
          if (err) this.logger.warn({ code: err.code }, `game link lost: ${err.message}`);
          this.events.gameDisconnected(err);
        },
      });
      this.pending.add(conn);
      conn.receive(first);
    });
  }

  /** Checks the first message; true when the peer is now the connected game. */
  private onHandshake(conn: LinkConnection, raw: unknown): boolean {
    const parsed = parseGameMessage(raw);
    if (!parsed.ok || parsed.msg.op !== "hello") {
      this.reject(conn, ErrorCodes.LINK_AUTH, "the first message on the link must be a valid hello");
      return false;
    }
    const hello = parsed.msg;
    if (!timingSafeEqual(digest(hello.secret), this.secretDigest)) {
      this.reject(conn, ErrorCodes.LINK_AUTH, "wrong link secret");
      return false;
    }
    if (hello.version !== LINK_VERSION) {
      this.reject(conn, ErrorCodes.LINK_VERSION, `link version ${hello.version} is not supported; this portal speaks ${LINK_VERSION}`);
      return false;
    }
    this.pending.delete(conn);
    const previous = this.game;
    this.game = conn;
    if (previous && !previous.closed) {
      previous.send({ op: "error", code: ErrorCodes.LINK_REPLACED, message: "another game process connected; this link is closed" });
      previous.close();
      // The previous game is gone even though its socket may still be closing: settle how it
      // ended (e.g. a reload it announced) before the new game is synced.
      this.events.gameDisconnected(new PortalError(ErrorCodes.LINK_REPLACED, "replaced by a newly connected game"));
    }
    this.logger.info({ gamePid: hello.pid, info: hello.info, remote: conn.socket.remoteAddress }, "game connected to the link");
    this.events.gameConnected(hello);
    return true;
  }

  private onGameMessage(conn: LinkConnection, raw: unknown): void {
    if (conn !== this.game) return;
    takeGameMessage(raw, (msg) => this.events.gameMessage(msg), (msg) => conn.send(msg), this.logger);
  }

  private reject(conn: LinkConnection, code: typeof ErrorCodes.LINK_AUTH | typeof ErrorCodes.LINK_VERSION, message: string): void {
    this.logger.warn({ code, remote: conn.socket.remoteAddress }, message);
    conn.send({ op: "error", code, message });
    conn.close(new PortalError(code, message));
  }
}
