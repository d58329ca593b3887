import type { Socket } from "node:net";
import { ErrorCodes } from "../errors/error-codes.js";
import { PortalError, errorMessage } from "../errors/portal-error.js";
import { fitsFrame } from "./chunks.js";
import { MessageOutbox } from "./message-outbox.js";
import { FrameDecoder, encodeFrame } from "./frame-codec.js";

export interface LinkConnectionOptions {
  maxFrameBytes: number;
  batchMaxBytes: number;
  heartbeatMs: number;
  /** A peer silent this long is dropped (PORTAL_ERR_LINK_TIMEOUT); default three heartbeats. */
  heartbeatTimeoutMs?: number;
  maxBufferedBytes: number;
  /** Largest frame accepted until raiseFrameLimit() (e.g. from a peer that has not authenticated yet); defaults to maxFrameBytes. */
  initialMaxFrameBytes?: number;
}

export interface LinkConnectionEvents {
  /** One decoded message (any JSON value; the owner validates it). Ping/pong never reach here. */
  message(raw: unknown): void;
  /**
   * Optional: all messages of one frame at once (ping/pong removed), instead of `message` one by one.
   * Lets the game SDK acknowledge a frame's input before it runs any callback.
   */
  frame?(raws: unknown[]): void;
  /** A fault that did not end the connection (bad JSON in one frame, an unsendable message). */
  fault(err: PortalError): void;
  /** The connection is gone; `err` says why when it was not a clean close. Called once. */
  closed(err?: PortalError): void;
}

/**
 * One framed, batched, heart-beaten link connection over a TCP socket. Used by both ends:
 * the portal's link server and the game SDK's client.
 */
export class LinkConnection {
  private readonly decoder: FrameDecoder;
  private readonly outbox: MessageOutbox;
  private lastReceived = Date.now();
  private heartbeat: NodeJS.Timeout | undefined;
  private isClosed = false;
  /** Largest frame sent or accepted; the game SDK adopts the portal's value from portal-sync. */
  private frameLimit: number;
  /** Bytes given to the socket, and how many of them it had handed to the kernel at the last heartbeat. */
  private written = 0;
  private lastHandedOver = 0;
  private stalledSince: number | undefined;

  constructor(
    readonly socket: Socket,
    private readonly options: LinkConnectionOptions,
    private readonly events: LinkConnectionEvents,
  ) {
    this.frameLimit = options.maxFrameBytes;
    this.outbox = new MessageOutbox(options, () => this.frameLimit, (batch) => this.write(batch));
    this.decoder = new FrameDecoder(options.initialMaxFrameBytes ?? options.maxFrameBytes);
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", (err) => this.finish(new PortalError(ErrorCodes.LINK_SOCKET, `link socket error: ${err.message}`, {}, { cause: err })));
    socket.on("close", () => this.finish());
    this.heartbeat = setInterval(() => this.tick(), options.heartbeatMs);
  }

  /** Feeds bytes read before this object took over the socket (the link server's first chunk). */
  receive(chunk: Buffer): void {
    this.onData(chunk);
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Accepts and sends frames up to `n` bytes from now on (after a peer authenticated; the SDK: the portal's limit). */
  raiseFrameLimit(n: number): void {
    this.frameLimit = n;
    this.decoder.setMaxFrameBytes(n);
    // Frames that arrived in the same chunk as the one that raised the limit may be held by the decoder, unjudged: read them now.
    if (this.decoder.pendingBytes > 0) {
      queueMicrotask(() => {
        if (!this.isClosed) this.onData(Buffer.alloc(0));
      });
    }
  }

  /**
   * Queues a message; pending messages go out together in as few frames as fit, at the end of this
   * event-loop turn. A message that `mayWaitMs` (news that can be a few milliseconds late) waits up to
   * that long for company unless something else is sent first: one write per turn is one write per
   * connection in a burst of connections, as the portal accepts one connection per turn.
   */
  send(msg: object, mayWaitMs = 0): void {
    if (this.isClosed) return;
    const json = JSON.stringify(msg);
    if (!fitsFrame(json, this.frameLimit)) {
      const op = (msg as { op?: unknown }).op;
      this.events.fault(new PortalError(ErrorCodes.LINK_FRAME, `message "${String(op)}" of ${Buffer.byteLength(json)} bytes exceeds maxFrameBytes; not sent`, { op }));
      return;
    }
    this.outbox.push(json, mayWaitMs);
  }

  /** Writes everything pending now. */
  flush(): void {
    if (!this.isClosed) this.outbox.flush();
  }

  /** Sends what is pending, then ends the connection. */
  close(err?: PortalError): void {
    if (this.isClosed) return;
    this.flush();
    this.socket.end();
    const timer = setTimeout(() => this.socket.destroy(), 1000);
    timer.unref();
    this.finish(err);
  }

  /** Ends the connection at once without flushing. */
  destroy(err?: PortalError): void {
    this.socket.destroy();
    this.finish(err);
  }

  private write(batch: string[]): void {
    const frame = encodeFrame(`[${batch.join(",")}]`);
    this.written += frame.length;
    this.socket.write(frame);
  }

  /**
   * Backpressure is judged by progress, not by size alone: a large burst the peer is reading (a
   * replay, a big sync) is fine, a peer that takes nothing for a whole heartbeat while more than
   * maxBufferedBytes wait, or for heartbeatTimeoutMs while anything waits, is not reading.
   */
  private checkProgress(now: number, limit: number): boolean {
    const waiting = this.socket.writableLength;
    const handedOver = this.written - waiting;
    const progressed = handedOver !== this.lastHandedOver;
    this.lastHandedOver = handedOver;
    if (waiting === 0 || progressed) {
      this.stalledSince = undefined;
      return true;
    }
    this.stalledSince ??= now;
    if (waiting > this.options.maxBufferedBytes || now - this.stalledSince >= limit) {
      this.destroy(new PortalError(ErrorCodes.LINK_BACKPRESSURE, `peer is not reading: ${waiting} bytes queued on the link, none taken for ${now - this.stalledSince} ms`, { bytes: waiting }));
      return false;
    }
    return true;
  }

  private onData(chunk: Buffer): void {
    this.lastReceived = Date.now();
    let frames: string[];
    try {
      frames = this.decoder.push(chunk);
    } catch (err) {
      this.destroy(err instanceof PortalError ? err : new PortalError(ErrorCodes.LINK_FRAME, errorMessage(err)));
      return;
    }
    for (const frame of frames) {
      if (this.isClosed) return;
      let parsed: unknown;
      try {
        parsed = JSON.parse(frame);
      } catch (err) {
        this.events.fault(new PortalError(ErrorCodes.LINK_MESSAGE, `frame is not valid JSON: ${errorMessage(err)}`));
        continue;
      }
      const messages: unknown[] = [];
      for (const raw of Array.isArray(parsed) ? parsed : [parsed]) {
        const op = (raw as { op?: unknown } | null)?.op;
        if (op === "ping") this.send({ op: "pong" });
        else if (op !== "pong") messages.push(raw);
      }
      if (this.events.frame) {
        if (messages.length > 0) this.events.frame(messages);
        continue;
      }
      for (const raw of messages) {
        if (this.isClosed) return;
        this.events.message(raw);
      }
    }
    // A length met after complete frames of this chunk is judged once they are handled (a bad one ends the connection now).
    if (frames.length > 0 && !this.isClosed && this.decoder.pendingBytes > 0) this.onData(Buffer.alloc(0));
  }

  private tick(): void {
    const now = Date.now();
    const silentFor = now - this.lastReceived;
    const limit = this.options.heartbeatTimeoutMs ?? 3 * this.options.heartbeatMs;
    if (silentFor > limit) {
      this.destroy(new PortalError(ErrorCodes.LINK_TIMEOUT, `link peer silent for more than ${limit} ms`));
      return;
    }
    if (!this.checkProgress(now, limit)) return;
    // Ask for a sign of life whenever the peer has been quiet, however much we are sending.
    if (silentFor >= this.options.heartbeatMs) this.send({ op: "ping" });
  }

  private finish(err?: PortalError): void {
    if (this.isClosed) return;
    this.isClosed = true;
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    this.outbox.clear();
    this.events.closed(err);
  }
}
