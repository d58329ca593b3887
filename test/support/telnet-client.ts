import { connect, type Socket } from "node:net";
import { waitForLine } from "../../core/testing/wait-for.js";

const IAC = 255, SB = 250, SE = 240, WILL = 251, WONT = 252, DO = 253, DONT = 254;

/**
 * A minimal telnet client for end-to-end tests: refuses every option the server offers, drops
 * subnegotiations and other commands, and collects text lines (UTF-8) with ANSI escapes removed.
 */
export class TelnetTestClient {
  readonly lines: string[] = [];
  closed = false;
  private partial: number[] = [];
  private state: "data" | "iac" | "verb" | "sb" | "sbiac" = "data";
  private verb = 0;

  private constructor(readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", () => undefined);
    socket.on("close", () => (this.closed = true));
  }

  /** `localAddress` binds the client's end (e.g. 127.0.0.12), so tests can come from many loopback addresses. */
  static open(port: number, host = "127.0.0.1", timeoutMs = 5000, localAddress?: string): Promise<TelnetTestClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port, ...(localAddress !== undefined ? { localAddress } : {}) }, () => {
        clearTimeout(timer);
        resolve(new TelnetTestClient(socket));
      });
      const timer = setTimeout(() => socket.destroy(new Error(`connect to ${port} timed out`)), timeoutMs);
      socket.once("error", (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  send(line: string): void {
    if (!this.closed) this.socket.write(line + "\r\n");
  }

  /** The first line at or after `from` that matches; rejects after `timeoutMs` showing the last lines. */
  waitForLine(match: string | RegExp, timeoutMs = 5000, from = 0): Promise<string> {
    return waitForLine(this.lines, match, timeoutMs, from);
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    for (const b of chunk) {
      switch (this.state) {
        case "data":
          if (b === IAC) this.state = "iac";
          else if (b === 10) this.flushLine();
          else if (b !== 13) this.partial.push(b);
          break;
        case "iac":
          if (b === IAC) {
            this.partial.push(b);
            this.state = "data";
          } else if (b === WILL || b === WONT || b === DO || b === DONT) {
            this.verb = b;
            this.state = "verb";
          } else if (b === SB) this.state = "sb";
          else this.state = "data";
          break;
        case "verb":
          if (this.verb === WILL) this.socket.write(Buffer.from([IAC, DONT, b]));
          else if (this.verb === DO) this.socket.write(Buffer.from([IAC, WONT, b]));
          this.state = "data";
          break;
        case "sb":
          if (b === IAC) this.state = "sbiac";
          break;
        case "sbiac":
          this.state = b === SE ? "data" : "sb";
          break;
      }
    }
  }

  private flushLine(): void {
    const text = Buffer.from(this.partial).toString("utf8").replace(/\x1b\[[0-9;]*[A-Za-z]/g, "");
    this.partial = [];
    this.lines.push(text);
  }
}
