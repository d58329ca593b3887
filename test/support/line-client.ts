import { connect, type Socket } from "node:net";

/** A plain TCP client that collects CRLF/LF-terminated lines, for tests against line-based listeners. */
export class LineClient {
  readonly lines: string[] = [];
  private partial = "";
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      const parts = (this.partial + chunk).split(/\r?\n/);
      this.partial = parts.pop() ?? "";
      this.lines.push(...parts);
    });
    socket.on("error", () => undefined);
    socket.on("close", () => (this.closed = true));
  }

  static open(port: number, host = "127.0.0.1"): Promise<LineClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port }, () => resolve(new LineClient(socket)));
      socket.once("error", reject);
    });
  }

  send(line: string): void {
    this.socket.write(line + "\r\n");
  }

  /** Resolves with the first line (at or after index `from`) matching; rejects after `timeoutMs`. */
  async waitForLine(match: string | RegExp, timeoutMs = 5000, from = 0): Promise<string> {
    const test = (l: string) => (typeof match === "string" ? l.includes(match) : match.test(l));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.lines.slice(from).find(test);
      if (found !== undefined) return found;
      if (Date.now() > deadline) throw new Error(`no line matching ${String(match)} within ${timeoutMs} ms; got: ${JSON.stringify(this.lines.slice(-10))}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  close(): void {
    this.socket.destroy();
  }
}
