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

/** Reassembles frames from arbitrary chunks. Throws PORTAL_ERR_LINK_FRAME on a length it cannot accept; the stream is then unusable. */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private failed = false;

  constructor(private readonly maxFrameBytes: number) {}

  /** Bytes held while waiting for the rest of a frame. */
  get pendingBytes(): number {
    return this.buffered;
  }

  push(chunk: Buffer): string[] {
    if (this.failed) return [];
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: string[] = [];
    while (this.buffered >= FRAME_HEADER_BYTES) {
      const head = this.peekHeader();
      if (head === 0 || head > this.maxFrameBytes) {
        this.failed = true;
        this.chunks = [];
        this.buffered = 0;
        throw new PortalError(ErrorCodes.LINK_FRAME, `frame length ${head} outside 1..${this.maxFrameBytes}`, { length: head });
      }
      if (this.buffered < FRAME_HEADER_BYTES + head) break;
      const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered);
      frames.push(all.toString("utf8", FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + head));
      const rest = all.subarray(FRAME_HEADER_BYTES + head);
      this.chunks = rest.length ? [rest] : [];
      this.buffered = rest.length;
    }
    return frames;
  }

  private peekHeader(): number {
    const first = this.chunks[0]!;
    if (first.length >= FRAME_HEADER_BYTES) return first.readUInt32BE(0);
    return Buffer.concat(this.chunks, this.buffered).readUInt32BE(0);
  }
}
