import type { Socket } from "node:net";
import { PortalSession, type Kwargs, type SessionPort } from "../../core/index.js";

/** One plain line-based TCP connection: each line is a `text` input; `text` output is written as lines. */
export class LineSession extends PortalSession {
  private buffer: Buffer = Buffer.alloc(0);
  /** After an over-long line: drop bytes up to its end. */
  private discarding = false;

  constructor(port: SessionPort, private readonly socket: Socket, private readonly maxLineBytes: number) {
    super(port, "line", socket.remoteAddress ?? null);
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => {
      this.bytesIn += chunk.length;
      this.onData(chunk);
    });
    socket.on("error", () => socket.destroy());
    socket.on("close", () => this.closed());
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf(0x0a)) >= 0) {
      const end = nl > 0 && this.buffer[nl - 1] === 0x0d ? nl - 1 : nl;
      const line = this.buffer.subarray(0, end);
      this.buffer = this.buffer.subarray(nl + 1);
      if (this.discarding) this.discarding = false;
      else this.textIn(Buffer.from(line));
    }
    if (this.buffer.length > this.maxLineBytes) {
      this.buffer = Buffer.alloc(0);
      if (!this.discarding) this.send_text(["Line too long; it was discarded."], {});
      this.discarding = true;
    }
  }

  send_text(args: unknown[], _kwargs: Kwargs): void {
    const text = String(args[0] ?? "");
    this.write(text.replace(/\r?\n/g, "\r\n") + "\r\n");
  }

  send_prompt(args: unknown[], _kwargs: Kwargs): void {
    this.write(String(args[0] ?? ""));
  }

  close(reason?: string): void {
    if (reason) this.send_text([reason], {});
    this.socket.end();
    this.socket.destroySoon?.();
  }

  private write(text: string): void {
    if (this.socket.destroyed || !this.socket.writable) return;
    this.bytesOut += Buffer.byteLength(text);
    this.socket.write(text);
  }
}
