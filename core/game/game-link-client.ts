import { connect as netConnect, type Socket } from "node:net";
import { DEFAULT_CONFIG, type LinkConfig } from "../config/portal-config.js";
import { ErrorCodes } from "../errors/error-codes.js";
import type { PortalError } from "../errors/portal-error.js";
import { LinkConnection } from "../link/link-connection.js";
import { LINK_VERSION, parsePortalMessage, parseRefusal, type GameToPortal, type PortalToGame } from "../link/link-messages.js";
import type { Logger } from "../logging/logger.js";
import { Backoff, type BackoffPolicy } from "../time/backoff.js";
import { systemClock, type Clock, type TimerHandle } from "../time/clock.js";

export interface GameLinkOptions {
  host?: string;
  port?: number;
  /** The portal's link secret (data/link.secret). */
  secret: string;
  /** Sent in the hello (shown in portal logs and status). */
  info?: Record<string, unknown>;
  /** Reconnect policy; default 1 s × 1.5, capped at 10 s. */
  backoff?: BackoffPolicy;
  clock?: Clock;
  logger?: Logger;
  link?: Partial<Pick<LinkConfig, "maxFrameBytes" | "batchMaxBytes" | "heartbeatMs" | "heartbeatTimeoutMs" | "maxBufferedBytes">>;
  /** Opens the TCP connection (replaceable in tests). */
  dial?: (host: string, port: number) => Socket;
}

export interface GameLinkEvents {
  /** The messages of one frame, in order (unknown ops already dropped). */
  frame(msgs: PortalToGame[]): void;
  /** The link dropped; a reconnect is scheduled unless stop() was called. */
  down(err?: PortalError): void;
}

export const GAME_RECONNECT: BackoffPolicy = { initialMs: 1000, factor: 1.5, maxMs: 10_000 };

/**
 * The game's end of the link: dials the portal, says hello, and redials with back-off when the link
 * drops. `hello` is always the first frame on a connection; nothing else is sent until the portal has
 * answered it with a complete portal-sync (`send()` returns false until then).
 */
export class GameLinkClient {
  private conn: LinkConnection | undefined;
  /** True once the portal finished its portal-sync on the current connection. */
  private linked = false;
  private timer: TimerHandle | undefined;
  private stopped = true;
  private readonly backoff: Backoff;
  private readonly clock: Clock;

  constructor(
    private readonly options: GameLinkOptions,
    private readonly events: GameLinkEvents,
  ) {
    this.backoff = new Backoff(options.backoff ?? GAME_RECONNECT);
    this.clock = options.clock ?? systemClock;
  }

  /** True between the end of the portal's portal-sync and the next link drop: only then can messages be sent. */
  get connected(): boolean {
    return this.linked && this.conn !== undefined && !this.conn.closed;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.dial();
  }

  send(msg: GameToPortal): boolean {
    if (!this.connected) return false;
    this.conn!.send(msg);
    return true;
  }

  /** Writes pending messages now. */
  flush(): void {
    this.conn?.flush();
  }

  /** Closes the link after sending what is pending; no reconnect. */
  stop(): Promise<void> {
    this.stopped = true;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    const conn = this.conn;
    if (!conn || conn.closed) return Promise.resolve();
    return new Promise((resolve) => {
      conn.socket.once("close", () => resolve());
      conn.close();
    });
  }

  private dial(): void {
    const host = this.options.host ?? DEFAULT_CONFIG.link.host;
    const port = this.options.port ?? DEFAULT_CONFIG.link.port;
    const socket = (this.options.dial ?? ((h, p) => netConnect({ host: h, port: p })))(host, port);
    const conn = new LinkConnection(socket, { ...DEFAULT_CONFIG.link, ...this.options.link }, {
      message: () => undefined,
      frame: (raws) => {
        if (this.conn !== conn) return;
        const msgs: PortalToGame[] = [];
        for (const raw of raws) {
          const parsed = parsePortalMessage(raw);
          if (!parsed.ok) {
            const { code, message } = parseRefusal(parsed);
            this.options.logger?.warn({ code, op: parsed.op }, `message from the portal dropped: ${message}`);
            continue;
          }
          const msg = parsed.msg;
          if (msg.op === "portal-sync") {
            this.linked = false;
            // Frames both ways are judged by the portal's limit, whatever this side was configured with.
            conn.raiseFrameLimit(msg.limits.max_frame_bytes);
          }
          if (msg.op === "portal-sync-end") {
            this.linked = true;
            this.backoff.reset();
          }
          if (msg.op === "error") {
            this.options.logger?.warn({ code: msg.code as never }, `portal: ${msg.message}`);
            if (msg.code === ErrorCodes.LINK_REPLACED) {
              // Another game process holds the link now; redialing would only take it back and forth.
              this.options.logger?.error({ code: ErrorCodes.LINK_REPLACED }, "another game process connected to the portal; this one stops reconnecting");
              this.stopped = true;
            }
          }
          msgs.push(msg);
        }
        if (msgs.length > 0) this.events.frame(msgs);
      },
      fault: (err) => this.options.logger?.warn({ code: err.code }, err.message),
      closed: (err) => {
        if (this.conn !== conn) return;
        this.conn = undefined;
        this.linked = false;
        this.events.down(err);
        this.scheduleRedial();
      },
    });
    this.conn = conn;
    this.linked = false;
    // Queued before anything else can be, so it is the first frame (the socket buffers it until connected).
    conn.send({ op: "hello", version: LINK_VERSION, secret: this.options.secret, pid: process.pid, info: this.options.info ?? {} });
  }

  private scheduleRedial(): void {
    if (this.stopped || this.timer !== undefined) return;
    const delay = this.backoff.next();
    this.options.logger?.info({ delayMs: delay }, "portal link down; reconnecting");
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      if (!this.stopped) this.dial();
    }, delay);
  }
}
