import type { Socket } from "node:net";
import { SocketSession, type Kwargs, type Outputs } from "portico";

/** One line-based TCP connection: each line is a `text` input; `text` output is written as lines. */
export class LineSession extends SocketSession implements Outputs<LineSession, "text" | "prompt"> {
  private buffer: Buffer = Buffer.alloc(0);
  /** After an over-long line: drop bytes up to its end. */
  private discarding = false;

  constructor(socket: Socket, private readonly maxLineBytes: number) {
    super("line", socket);
    socket.setNoDelay(true);
  }

  /** Splits the bytes into lines (LF, with an optional CR before it); each line goes to the game as `text`. */
  protected received(chunk: Buffer): void {
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

  /** Out-of-band output this protocol cannot carry: shown as a line, `[name] {json}`, so nothing is silently lost. */
  override send_default(name: string, args: unknown[], kwargs: Kwargs): void {
    this.send_text([`[${name}] ${JSON.stringify({ args, kwargs })}`], {});
  }
}
