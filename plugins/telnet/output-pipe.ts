import { createDeflate, constants as zc, type Deflate } from "node:zlib";
import type { Socket } from "node:net";
import { CMD } from "./telnet-codes.js";

/** The listener's settings every one of its pipes shares (its config fits as it is). */
export interface OutputSettings {
  /** zlib level, window bits and memory level of the MCCP2 stream. */
  mccpLevel: number;
  mccpWindowBits: number;
  mccpMemLevel: number;
  /** Output queued for a client that does not read before it is cut off. */
  maxBufferedBytes: number;
}

/** Told when the client stopped reading (the socket is destroyed right after). */
export interface OutputOwner {
  outputOverflow(): void;
}

/** Doubles every 0xFF so data can never be read as a telnet command. */
export function escapeIac(data: Buffer): Buffer {
  let count = 0;
  let at = data.indexOf(CMD.IAC);
  if (at < 0) return data;
  while (at >= 0) {
    count++;
    at = data.indexOf(CMD.IAC, at + 1);
  }
  const out = Buffer.allocUnsafe(data.length + count);
  let o = 0;
  for (let i = 0; i < data.length; i++) {
    const b = data[i]!;
    out[o++] = b;
    if (b === CMD.IAC) out[o++] = b;
  }
  return out;
}

/**
 * Everything written to one telnet client goes through here: plain, or through an MCCP2 deflate
 * stream that is sync-flushed once per tick of writes and finished cleanly (Z_FINISH) when the
 * client turns compression off. Writes made while the stream is finishing wait and follow it.
 * The writes of one tick reach the socket as one writev (corked until the tick's microtasks run),
 * and reach the compressor as one sync-flushed chunk: per-line writes cost a syscall, or a zlib
 * thread-pool round trip, each (docs/performance-micro.md, "Telnet throughput"). Nothing is allocated
 * until it is needed: an idle session's pipe is one small object.
 */
export class OutputPipe {
  private deflate: Deflate | undefined;
  private finishing = false;
  /** Output (and compression on/off requests) made while the stream is finishing, in order. */
  private held: (Buffer | "start" | "stop")[] | undefined;
  /** This tick's output for the compressor, handed over in one write by the flush. */
  private pending: Buffer[] | undefined;
  private flushScheduled = false;
  private corked = false;

  constructor(
    private readonly socket: Socket,
    private readonly settings: OutputSettings,
    private readonly owner: OutputOwner,
  ) {}

  /** Writes bytes as they are (already escaped data, or commands). */
  write(bytes: Buffer): void {
    if (bytes.length === 0 || this.socket.destroyed) return;
    if (this.finishing) {
      (this.held ??= []).push(bytes);
      return;
    }
    if (this.deflate) {
      (this.pending ??= []).push(bytes);
      this.scheduleFlush();
      return;
    }
    this.toSocket(bytes);
  }

  startCompression(): void {
    if (this.finishing) {
      // Turned back on before the old stream finished: start a new one right after it, in order.
      (this.held ??= []).push("start");
      return;
    }
    if (this.deflate || this.socket.destroyed) return;
    // Every write is sync-flushed: there is one per tick (see scheduleFlush), so no separate flush call is needed.
    const { mccpLevel, mccpWindowBits, mccpMemLevel } = this.settings;
    const deflate = createDeflate({ level: mccpLevel, windowBits: mccpWindowBits, memLevel: mccpMemLevel, flush: zc.Z_SYNC_FLUSH });
    deflate.on("data", (chunk: Buffer) => this.toSocket(chunk));
    deflate.on("error", () => this.socket.destroy());
    this.deflate = deflate;
  }

  /** Finishes the compressed stream; later writes go out plain, after it. */
  stopCompression(): void {
    const deflate = this.deflate;
    if (this.finishing) {
      (this.held ??= []).push("stop");
      return;
    }
    if (!deflate) return;
    this.compressPending();
    this.finishing = true;
    deflate.once("end", () => {
      this.deflate = undefined;
      this.finishing = false;
      const held = this.held ?? [];
      this.held = undefined;
      for (const b of held) {
        if (b === "start") this.startCompression();
        else if (b === "stop") this.stopCompression();
        else this.write(b);
      }
    });
    deflate.end();
  }

  /** Finishes compression (if on), then calls `done` once every byte is handed to the socket. */
  end(done: () => void): void {
    if (!this.deflate) {
      done();
      return;
    }
    this.stopCompression();
    this.deflate?.once("end", () => setImmediate(done));
  }

  /** Releases the compressor (connection gone). */
  close(): void {
    this.deflate?.destroy();
    this.deflate = undefined;
    this.held = undefined;
    this.pending = undefined;
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(() => {
      this.flushScheduled = false;
      if (this.deflate && !this.finishing) this.compressPending();
    });
  }

  private compressPending(): void {
    const parts = this.pending;
    if (parts === undefined || parts.length === 0 || !this.deflate) return;
    this.pending = undefined;
    this.deflate.write(parts.length === 1 ? parts[0]! : Buffer.concat(parts));
  }

  private toSocket(bytes: Buffer): void {
    if (this.socket.destroyed) return;
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      queueMicrotask(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    this.socket.write(bytes);
    if (this.socket.writableLength > this.settings.maxBufferedBytes) {
      this.owner.outputOverflow();
      this.socket.destroy();
    }
  }
}
