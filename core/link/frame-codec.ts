import { ErrorCodes } from "../errors/error-codes.js";
import { PortalError } from "../errors/portal-error.js";

/**
 * Link framing: every frame is a 4-byte unsigned big-endian length followed by that many bytes
 * of UTF-8 JSON. Frames are cut by length only, never by where a TCP read happens to end.
 */
export const FRAME_HEADER_BYTES = 4;

export function encodeFrame(json: string): Buffer {
  const body = Buffer.from(json, "utf8");
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + body.length);
  frame.writeUInt32BE(body.length, 0);
  body.copy(frame, FRAME_HEADER_BYTES);
  return frame;
}

/**
 * Reassembles frames from arbitrary chunks, in time linear in the bytes received whatever the
 * chunking: a header is gathered in a 4-byte scratch buffer, a body that lies whole in one chunk
 * is decoded straight from it, and a body spread over chunks is copied once into a buffer of
 * exactly its length. Throws PORTAL_ERR_LINK_FRAME on a length it cannot accept (after returning
 * the complete frames before it: see the constructor); the stream is then unusable.
 */
export class FrameDecoder {
  private readonly header = Buffer.alloc(FRAME_HEADER_BYTES);
  private headerFilled = 0;
  /** Length of the frame being read, once its header is complete; -1 while reading a header. */
  private frameLength = -1;
  private lengthChecked = false;
  /** The frame's body when it spans chunks, filled up to `bodyFilled`. */
  private body: Buffer | undefined;
  private bodyFilled = 0;
  /** Chunks (or a chunk's rest) not read yet: the rest of a push after a length it did not judge (see the constructor). */
  private held: Buffer[] = [];
  private failed = false;
  private maxFrameBytes: number;

  /**
   * @param maxFrameBytes the largest frame accepted (see setMaxFrameBytes). A header of length 0 or
   *   over the cap, met after other frames in the same push, is not judged yet: push() returns the
   *   frames before it and holds the rest, which the next push() (an empty chunk will do) reads under
   *   the cap then in force. So the complete frames before a bad length are delivered however the
   *   bytes were chunked, and a cap raised on the frames of one push (e.g. once a peer has
   *   authenticated) applies to the frames that follow them.
   */
  constructor(maxFrameBytes: number) {
    this.maxFrameBytes = checkedLimit(maxFrameBytes);
  }

  /** Bytes held while waiting for the rest of a frame. */
  get pendingBytes(): number {
    let held = 0;
    for (const h of this.held) held += h.length;
    return held + (this.frameLength >= 0 ? FRAME_HEADER_BYTES + this.bodyFilled : this.headerFilled);
  }

  /** Changes the largest frame accepted; it applies to every frame whose length has not been judged yet. */
  setMaxFrameBytes(n: number): void {
    this.maxFrameBytes = checkedLimit(n);
  }

  push(chunk: Buffer): string[] {
    if (this.failed) return [];
    const frames: string[] = [];
    if (this.held.length === 0) {
      const rest = this.consume(chunk, frames);
      if (rest) this.held.push(rest);
      return frames;
    }
    const queue = this.held;
    this.held = [];
    if (chunk.length > 0) queue.push(chunk);
    for (let i = 0; i < queue.length; i++) {
      const rest = this.consume(queue[i]!, frames);
      if (rest) {
        this.held = [rest, ...queue.slice(i + 1)];
        break;
      }
    }
    return frames;
  }

  /** Reads `buf` to its end, appending complete frames; returns the unread rest when a length is left to judge later. */
  private consume(buf: Buffer, frames: string[]): Buffer | undefined {
    const end = buf.length;
    let at = 0;
    for (;;) {
      if (this.frameLength < 0) {
        if (this.headerFilled === 0 && end - at >= FRAME_HEADER_BYTES) {
          this.frameLength = buf.readUInt32BE(at);
          at += FRAME_HEADER_BYTES;
        } else {
          if (at === end) return undefined;
          const n = Math.min(FRAME_HEADER_BYTES - this.headerFilled, end - at);
          buf.copy(this.header, this.headerFilled, at, at + n);
          this.headerFilled += n;
          at += n;
          if (this.headerFilled < FRAME_HEADER_BYTES) return undefined;
          this.headerFilled = 0;
          this.frameLength = this.header.readUInt32BE(0);
        }
        this.lengthChecked = false;
      }
      if (this.body === undefined) {
        const length = this.frameLength;
        if (!this.lengthChecked) {
          if (length === 0 || length > this.maxFrameBytes) {
            if (frames.length > 0) return buf.subarray(at);
            this.fail(length);
          }
          this.lengthChecked = true;
        }
        if (end - at >= length) {
          frames.push(buf.toString("utf8", at, at + length));
          at += length;
          this.frameLength = -1;
          continue;
        }
        if (at === end) return undefined;
        this.body = Buffer.allocUnsafe(length);
        this.bodyFilled = 0;
      }
      const n = Math.min(this.body.length - this.bodyFilled, end - at);
      buf.copy(this.body, this.bodyFilled, at, at + n);
      this.bodyFilled += n;
      at += n;
      if (this.bodyFilled < this.body.length) return undefined;
      frames.push(this.body.toString("utf8"));
      this.body = undefined;
      this.bodyFilled = 0;
      this.frameLength = -1;
    }
  }

  private fail(length: number): never {
    const max = this.maxFrameBytes;
    this.failed = true;
    this.held = [];
    this.headerFilled = 0;
    this.frameLength = -1;
    this.body = undefined;
    this.bodyFilled = 0;
    throw new PortalError(ErrorCodes.LINK_FRAME, `frame length ${length} outside 1..${max}`, { length, maxFrameBytes: max });
  }
}

function checkedLimit(n: number): number {
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`maxFrameBytes must be a positive integer, got ${String(n)}`);
  return n;
}
