import type { Socket } from "node:net";
import { ErrorCodes } from "../errors/error-codes.js";
import { errorMessage } from "../errors/portal-error.js";
import { PortalSession } from "./portal-session.js";

/** How long a closing connection may take to finish before its socket is destroyed. */
export const CLOSE_DEADLINE_MS = 2000;

/** The session a socket belongs to, so that one set of listener functions serves every socket (no closures per connection). */
const OWNER = Symbol("portico.socketSession");
type OwnedSocket = Socket & { [OWNER]?: SocketSession };

/**
 * A session over one `net.Socket` (or TLS socket): counts its bytes, handles its errors, turns its
 * end into `connectionLost()`, and on `close()` ends it (destroying it if the peer does not finish
 * within CLOSE_DEADLINE_MS). A subclass writes `received(chunk)`, `send_text` and its other
 * `send_<key>` methods, and uses `write()` for output.
 */
export abstract class SocketSession extends PortalSession {
  private closeTimer: NodeJS.Timeout | undefined;

  protected constructor(protocolKey: string, protected readonly socket: Socket) {
    super(protocolKey, socket.remoteAddress ?? null);
    this.measure(socket);
    (socket as OwnedSocket)[OWNER] = this;
    socket.on("data", SocketSession.socketData);
    socket.on("error", SocketSession.socketError);
    socket.on("close", SocketSession.socketClose);
  }

  // Listeners shared by every socket (`this` is the socket).
  private static socketData(this: OwnedSocket, chunk: Buffer): void {
    this[OWNER]?.onData(chunk);
  }

  private static socketError(this: OwnedSocket, err: Error): void {
    this[OWNER]?.logger.debug({ err: err.message }, "socket error");
  }

  private static socketClose(this: OwnedSocket): void {
    this[OWNER]?.onSocketClose();
  }

  /** Bytes from the peer. */
  protected abstract received(chunk: Buffer): void;

  /** Writes to the peer unless the socket is gone; false when it is (or the write was refused). */
  protected write(data: string | Buffer): boolean {
    if (this.socket.destroyed || !this.socket.writable) return false;
    return this.socket.write(data);
  }

  /** Ends the socket after the reason (already sent); see `finishOutput` for protocols with trailing bytes. */
  protected hangUp(): void {
    this.closeTimer = setTimeout(() => this.socket.destroy(), CLOSE_DEADLINE_MS);
    this.closeTimer.unref();
    this.finishOutput();
  }

  /** Called by `hangUp()`: ends the socket's writable side. Override to flush a compressor first. */
  protected finishOutput(): void {
    this.socket.end();
  }

  /** Called once when the socket is closed, before the portal is told: clear your timers here. */
  protected transportClosed(): void {}

  private onData(chunk: Buffer): void {
    if (this.state === "closed") return;
    try {
      this.received(chunk);
    } catch (err) {
      this.logger.error({ code: ErrorCodes.SESSION_CALLBACK, err }, `input handling failed; closing the connection: ${errorMessage(err)}`);
      this.close("Internal error; disconnecting.");
    }
  }

  private onSocketClose(): void {
    clearTimeout(this.closeTimer);
    try {
      this.transportClosed();
    } finally {
      this.connectionLost();
    }
  }
}
