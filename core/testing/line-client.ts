import { connect, type Socket } from "node:net";
import { collectLines } from "./collect-lines.js";
import { waitForLine } from "./wait-for.js";

/** A plain TCP client that collects CRLF/LF-terminated lines, for tests against line-based listeners. */
export class LineClient {
  readonly lines: string[] = [];
  closed = false;

  private constructor(readonly socket: Socket) {
    collectLines(socket, this.lines, /\r?\n/);
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
  waitForLine(match: string | RegExp, timeoutMs = 5000, from = 0): Promise<string> {
    return waitForLine(this.lines, match, timeoutMs, from);
  }

  close(): void {
    this.socket.destroy();
  }
}
