import { ErrorCodes } from "../../errors/error-codes.js";
import { PortalError } from "../../errors/portal-error.js";
import type { Clock, TimerHandle } from "../../time/clock.js";
import { fitsFrame } from "../chunks.js";
import { MessageOutbox } from "../message-outbox.js";
import type { Envelope, OutgoingEnvelope } from "./envelope.js";

export interface EpochOptions {
  /** The epoch's id, chosen by the portal when it accepted the game's hello; every envelope carries it. */
  id: string;
  /** Publishes one envelope to the peer (see encodeEnvelope). */
  publish(env: OutgoingEnvelope): void;
  clock: Clock;
  maxFrameBytes: number;
  batchMaxBytes: number;
  heartbeatMs: number;
  heartbeatTimeoutMs: number;
  /** An unacknowledged frame is published again after this long. */
  resendMs: number;
  /** Unacknowledged bytes beyond this: the peer is not taking what we send (PORTAL_ERR_LINK_BACKPRESSURE). */
  maxBufferedBytes: number;
}

export interface EpochEvents {
  /** The messages of one data frame, in order, exactly once (ping and pong removed). */
  frame(msgs: unknown[]): void;
  /** A message that could not be sent (larger than a frame). */
  fault(err: PortalError): void;
  /** The epoch is over; `err` says why (timeout, backpressure, reset by the peer). Called once. */
  closed(err?: PortalError): void;
}

/** At most this many frames, and about this many bytes, are published again per resend round; the rest follow as acknowledgements arrive. */
const RESEND_WINDOW_FRAMES = 64;
const RESEND_WINDOW_BYTES = 1024 * 1024;
/** Acknowledgements wait this long for a data frame to ride on. */
const ACK_DELAY_MS = 5;

interface SentFrame { s: number; m: string; bytes: number }

/**
 * One link epoch over a broker that may drop messages (NATS core): what a TCP connection is to the
 * TCP link. Data frames are numbered from 1 in each direction; the receiver takes them strictly in
 * order, discards duplicates, asks for a resend from the first missing one (`n`), and acknowledges
 * the highest it took (`a`, on its next frame or alone). The sender keeps frames until acknowledged
 * and publishes them again when no acknowledgement came for `resendMs` (then twice that, and so on,
 * up to two heartbeats, until an acknowledgement comes: a peer busy with a large sync is not flooded
 * with copies; at most 64 frames, about 1 MiB, per round). So every message arrives
 * once and in order, or the epoch ends (peer silent past the heartbeat timeout, or not taking what
 * is sent) and both ends start a new one, as after a TCP reconnect.
 */
export class ReliableEpoch {
  private nextSeq = 1;
  private readonly unacked: SentFrame[] = [];
  private unackedBytes = 0;
  private lastAckProgress: number;
  /** Resend rounds since the last acknowledgement progress: each waits twice as long as the one before (a busy peer is not flooded). */
  private resendRounds = 0;
  private expected = 1;
  private ackOwed = false;
  private ackTimer: TimerHandle | undefined;
  private lastNak = { seq: 0, at: 0 };
  private lastReceived: number;
  private readonly outbox: MessageOutbox;
  private ticker: TimerHandle | undefined;
  private paused = false;
  private isClosed = false;
  /** Counters for tests and status: frames published again, duplicates discarded, gaps seen. */
  readonly stats = { resent: 0, duplicates: 0, gaps: 0 };

  constructor(
    private readonly options: EpochOptions,
    private readonly events: EpochEvents,
  ) {
    this.lastReceived = options.clock.now();
    this.lastAckProgress = this.lastReceived;
    this.outbox = new MessageOutbox(options, () => options.maxFrameBytes - 64, (batch) => this.publishBatch(batch));
    this.scheduleTick();
  }

  get id(): string {
    return this.options.id;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Bytes sent and not yet acknowledged by the peer. */
  get pendingBytes(): number {
    return this.unackedBytes;
  }

  /** Queues a message; as on the TCP link, pending ones go out together at the end of the turn (or within `mayWaitMs`). */
  send(msg: object, mayWaitMs = 0): void {
    if (this.isClosed) return;
    const json = JSON.stringify(msg);
    if (!fitsFrame(json, this.options.maxFrameBytes - 64)) {
      const op = (msg as { op?: unknown }).op;
      this.events.fault(new PortalError(ErrorCodes.LINK_FRAME, `message "${String(op)}" of ${Buffer.byteLength(json)} bytes exceeds the frame limit; not sent`, { op }));
      return;
    }
    this.outbox.push(json, mayWaitMs);
  }

  /** Publishes everything queued now, as numbered data frames. */
  flush(): void {
    if (!this.isClosed) this.outbox.flush();
  }

  /** One envelope of this epoch from the peer. */
  receive(env: Envelope): void {
    if (this.isClosed) return;
    this.lastReceived = this.options.clock.now();
    if (env.a !== undefined) this.acknowledged(env.a);
    if (env.n !== undefined) this.resendFrom(env.n);
    if (env.s === undefined) return;
    if (env.s < this.expected) {
      this.stats.duplicates += 1;
      this.owe();
      return;
    }
    if (env.s > this.expected) {
      this.stats.gaps += 1;
      const now = this.options.clock.now();
      if (this.lastNak.seq !== this.expected || now - this.lastNak.at >= this.options.resendMs) {
        this.lastNak = { seq: this.expected, at: now };
        this.options.publish({ e: this.id, a: this.expected - 1, n: this.expected });
      }
      return;
    }
    this.expected += 1;
    this.owe();
    const msgs: unknown[] = [];
    for (const raw of env.m ?? []) {
      const op = (raw as { op?: unknown } | null)?.op;
      if (op === "ping") this.send({ op: "pong" });
      else if (op !== "pong") msgs.push(raw);
    }
    if (msgs.length > 0) this.events.frame(msgs);
  }

  /** Our own broker connection is down: nothing can be heard, so the peer's silence does not count until resume(). */
  pause(): void {
    this.paused = true;
  }

  /** Our broker connection is back: the peer gets a whole heartbeat timeout from now, and what it has not acknowledged goes again. */
  resume(): void {
    this.paused = false;
    this.lastReceived = this.options.clock.now();
    this.resendFrom(this.unacked[0]?.s ?? this.nextSeq);
  }

  /** Ends the epoch (queued messages are published first unless `err` is given). */
  close(err?: PortalError): void {
    if (this.isClosed) return;
    if (!err) this.flush();
    this.isClosed = true;
    this.options.clock.clearTimeout(this.ticker);
    this.options.clock.clearTimeout(this.ackTimer);
    this.outbox.clear();
    this.unacked.length = 0;
    this.unackedBytes = 0;
    this.events.closed(err);
  }

  /** One batch of queued messages becomes the next numbered data frame, kept until acknowledged. */
  private publishBatch(batch: string[]): void {
    if (this.isClosed) return;
    const m = `[${batch.join(",")}]`;
    const frame: SentFrame = { s: this.nextSeq++, m, bytes: m.length };
    if (this.unacked.length === 0) this.lastAckProgress = this.options.clock.now();
    this.unacked.push(frame);
    this.unackedBytes += frame.bytes;
    this.publishData(frame);
    if (this.unackedBytes > this.options.maxBufferedBytes) {
      this.close(new PortalError(ErrorCodes.LINK_BACKPRESSURE, `peer is not taking the link's frames: ${this.unackedBytes} bytes unacknowledged`, { bytes: this.unackedBytes }));
    }
  }

  private publishData(frame: SentFrame): void {
    this.ackOwed = false;
    this.options.clock.clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    this.options.publish({ e: this.id, s: frame.s, a: this.expected - 1, m: frame.m });
  }

  private owe(): void {
    this.ackOwed = true;
    this.ackTimer ??= this.options.clock.setTimeout(() => {
      this.ackTimer = undefined;
      if (this.ackOwed && !this.isClosed) {
        this.ackOwed = false;
        this.options.publish({ e: this.id, a: this.expected - 1 });
      }
    }, ACK_DELAY_MS);
  }

  private acknowledged(upTo: number): void {
    let progressed = false;
    while (this.unacked.length > 0 && this.unacked[0]!.s <= upTo) {
      this.unackedBytes -= this.unacked.shift()!.bytes;
      progressed = true;
    }
    if (progressed) {
      this.lastAckProgress = this.options.clock.now();
      this.resendRounds = 0;
    }
  }

  private resendFrom(seq: number): void {
    let n = 0;
    let bytes = 0;
    for (const frame of this.unacked) {
      if (frame.s < seq) continue;
      if (n >= RESEND_WINDOW_FRAMES || (n > 0 && bytes + frame.bytes > RESEND_WINDOW_BYTES)) break;
      n += 1;
      bytes += frame.bytes;
      this.stats.resent += 1;
      this.publishData(frame);
    }
    if (n > 0) this.lastAckProgress = this.options.clock.now();
  }

  private scheduleTick(): void {
    const every = Math.min(this.options.resendMs, this.options.heartbeatMs);
    this.ticker = this.options.clock.setTimeout(() => {
      this.tick();
      if (!this.isClosed) this.scheduleTick();
    }, every);
  }

  private tick(): void {
    const now = this.options.clock.now();
    if (this.paused) return;
    const silentFor = now - this.lastReceived;
    if (silentFor > this.options.heartbeatTimeoutMs) {
      this.close(new PortalError(ErrorCodes.LINK_TIMEOUT, `link peer silent for more than ${this.options.heartbeatTimeoutMs} ms`));
      return;
    }
    const wait = Math.min(this.options.resendMs * 2 ** this.resendRounds, Math.max(this.options.resendMs, this.options.heartbeatMs * 2));
    if (this.unacked.length > 0 && now - this.lastAckProgress >= wait) {
      this.resendRounds = Math.min(this.resendRounds + 1, 16);
      this.resendFrom(this.unacked[0]!.s);
    }
    if (silentFor >= this.options.heartbeatMs) this.send({ op: "ping" });
  }
}
