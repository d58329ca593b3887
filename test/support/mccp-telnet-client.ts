import { connect, type Socket } from "node:net";
import { constants as zc, inflateSync } from "node:zlib";
import { waitFor } from "../../core/testing/wait-for.js";

const IAC = 255;
const SB = 250;
const SE = 240;
const WILL = 251;
const WONT = 252;
const DO = 253;
const DONT = 254;
export const MCCP2 = 86;

export interface MccpTelnetClientOptions {
  /** Options the server may enable on its side (we answer WILL with DO); everything else gets DONT. */
  acceptRemote?: number[];
  /** Options we agree to enable on our side (we answer DO with WILL); everything else gets WONT. */
  acceptLocal?: number[];
}

/**
 * A small, independent, well-behaved telnet client for tests: answers negotiation, decodes MCCP2
 * (zlib) output, including a stream that ends (Z_FINISH) and a new one starting later, and
 * collects the text lines it receives. Its byte parser is its own (not the plugin's), so it can
 * serve as an oracle for what a real client would see. A corrupt compressed stream is recorded
 * in `errors`.
 */
export class MccpTelnetClient {
  readonly lines: string[] = [];
  readonly negotiations: [number, number][] = [];
  readonly subnegotiations: { option: number; payload: Buffer }[] = [];
  readonly errors: string[] = [];
  /** Compressed streams that started / ended cleanly. */
  mccpStarts = 0;
  mccpEnds = 0;
  closed = false;
  private partial = "";
  private state: "data" | "iac" | "neg" | "sb" | "sbiac" = "data";
  private verb = 0;
  private sbOption = 0;
  private sbBytes: number[] = [];
  private compressed: Buffer | undefined;
  private inflatedSoFar = 0;
  private readonly him = new Set<number>();
  private readonly us = new Set<number>();
  private readonly refused = new Set<string>();
  private readonly driven = new Set<number>();

  private constructor(readonly socket: Socket, private readonly options: MccpTelnetClientOptions) {
    socket.on("data", (chunk: Buffer) => this.receive(chunk));
    socket.on("error", () => undefined);
    socket.on("close", () => (this.closed = true));
  }

  static open(port: number, options: MccpTelnetClientOptions = {}, host = "127.0.0.1"): Promise<MccpTelnetClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port }, () => {
        socket.off("error", reject);
        resolve(new MccpTelnetClient(socket, options));
      });
      socket.once("error", reject);
    });
  }

  /** True while the server's output is being inflated. */
  get decompressing(): boolean {
    return this.compressed !== undefined;
  }

  send(line: string): void {
    if (!this.closed) this.socket.write(Buffer.from(line + "\r\n", "utf8"));
  }

  sendRaw(bytes: Buffer | number[]): void {
    if (!this.closed) this.socket.write(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes));
  }

  /** The test negotiates this option itself (raw DO/DONT): the client stops answering the server's WILL/WONT for it. */
  drive(option: number): void {
    this.driven.add(option);
  }

  /** Resolves with the first line (at or after index `from`) matching; rejects after `timeoutMs`. */
  async waitForLine(match: string | RegExp, timeoutMs = 5000, from = 0): Promise<string> {
    const test = (l: string) => (typeof match === "string" ? l.includes(match) : match.test(l));
    const last = () => JSON.stringify(this.lines.slice(-8));
    const found = await waitFor(
      () => {
        for (let i = from; i < this.lines.length; i++) if (test(this.lines[i]!)) return { line: this.lines[i]!, failure: undefined };
        // A client error or a closed connection fails at once instead of waiting out the timeout.
        if (this.errors.length > 0) return { line: "", failure: `client error while waiting for ${String(match)}: ${this.errors.join("; ")}` };
        if (this.closed) return { line: "", failure: `no line matching ${String(match)} (connection closed); last: ${last()}` };
        return undefined;
      },
      timeoutMs,
      () => `a line matching ${String(match)} (last: ${last()})`,
    );
    if (found.failure !== undefined) throw new Error(found.failure);
    return found.line;
  }

  close(): void {
    this.socket.destroy();
  }

  private receive(chunk: Buffer): void {
    if (this.compressed) this.inflate(chunk);
    else this.parse(chunk, 0);
  }

  /** Accumulates compressed bytes; inflates what can be; a finished stream hands its trailing bytes back to the plain parser. */
  private inflate(chunk: Buffer): void {
    const acc = Buffer.concat([this.compressed!, chunk]);
    this.compressed = acc;
    let whole: { buffer: Buffer; engine: { bytesWritten: number } } | undefined;
    try {
      whole = inflateSync(acc, { info: true }) as unknown as { buffer: Buffer; engine: { bytesWritten: number } };
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code !== "Z_BUF_ERROR") {
        this.fail(`compressed stream corrupt (${code ?? String(err)})`);
        return;
      }
    }
    if (whole) {
      // The stream ended (Z_FINISH seen): the rest is plain telnet again.
      const fresh = whole.buffer.subarray(this.inflatedSoFar);
      const rest = acc.subarray(whole.engine.bytesWritten);
      this.compressed = undefined;
      this.inflatedSoFar = 0;
      this.mccpEnds += 1;
      this.parse(fresh, 0, true);
      if (rest.length > 0) this.receive(rest);
      return;
    }
    let partial: Buffer;
    try {
      partial = inflateSync(acc, { finishFlush: zc.Z_SYNC_FLUSH });
    } catch (err) {
      this.fail(`compressed stream corrupt (${(err as { code?: string }).code ?? String(err)})`);
      return;
    }
    const fresh = partial.subarray(this.inflatedSoFar);
    this.inflatedSoFar = partial.length;
    this.parse(fresh, 0, true);
  }

  private fail(message: string): void {
    this.errors.push(message);
    this.compressed = undefined;
    this.socket.destroy();
  }

  /** The plain telnet byte parser; on IAC SB MCCP2 IAC SE the remaining bytes are compressed. */
  private parse(data: Buffer, start: number, insideStream = false): void {
    let text: number[] = [];
    const flushText = () => {
      if (text.length === 0) return;
      this.addText(Buffer.from(text));
      text = [];
    };
    for (let i = start; i < data.length; i++) {
      const b = data[i]!;
      switch (this.state) {
        case "data":
          if (b === IAC) this.state = "iac";
          else text.push(b);
          break;
        case "iac":
          if (b === IAC) {
            text.push(b);
            this.state = "data";
          } else if (b === WILL || b === WONT || b === DO || b === DONT) {
            this.verb = b;
            this.state = "neg";
          } else if (b === SB) {
            this.sbOption = -1;
            this.sbBytes = [];
            this.state = "sb";
          } else this.state = "data";
          break;
        case "neg":
          this.state = "data";
          this.negotiate(this.verb, b);
          break;
        case "sb":
          if (b === IAC) this.state = "sbiac";
          else if (this.sbOption < 0) this.sbOption = b;
          else this.sbBytes.push(b);
          break;
        case "sbiac":
          if (b === IAC) {
            this.sbBytes.push(b);
            this.state = "sb";
          } else if (b === SE) {
            this.state = "data";
            const option = this.sbOption;
            this.subnegotiations.push({ option, payload: Buffer.from(this.sbBytes) });
            if (option === MCCP2) {
              if (insideStream) {
                this.errors.push("IAC SB MCCP2 IAC SE inside a compressed stream");
                continue;
              }
              flushText();
              this.mccpStarts += 1;
              this.compressed = Buffer.alloc(0);
              this.inflatedSoFar = 0;
              const rest = data.subarray(i + 1);
              if (rest.length > 0) this.inflate(rest);
              return;
            }
          } else {
            this.errors.push(`IAC ${b} inside a subnegotiation`);
            this.state = "data";
          }
          break;
      }
    }
    flushText();
  }

  private negotiate(verb: number, option: number): void {
    this.negotiations.push([verb, option]);
    const acceptRemote = this.options.acceptRemote ?? [];
    const acceptLocal = this.options.acceptLocal ?? [];
    if (this.driven.has(option)) return;
    if (verb === WILL) {
      if (this.him.has(option)) return;
      if (acceptRemote.includes(option)) {
        this.him.add(option);
        this.sendRaw([IAC, DO, option]);
      } else this.refuseOnce(DONT, option);
    } else if (verb === WONT) {
      this.him.delete(option);
    } else if (verb === DO) {
      if (this.us.has(option)) return;
      if (acceptLocal.includes(option)) {
        this.us.add(option);
        this.sendRaw([IAC, WILL, option]);
      } else this.refuseOnce(WONT, option);
    } else if (verb === DONT) {
      this.us.delete(option);
    }
  }

  private refuseOnce(verb: number, option: number): void {
    const key = `${verb}:${option}`;
    if (this.refused.has(key)) return;
    this.refused.add(key);
    this.sendRaw([IAC, verb, option]);
  }

  private addText(bytes: Buffer): void {
    const parts = (this.partial + bytes.toString("utf8")).split(/\r\n|\n/);
    this.partial = parts.pop() ?? "";
    // eslint-disable-next-line no-control-regex
    for (const p of parts) this.lines.push(p.replace(/\x1b\[[0-9;]*m/g, ""));
  }
}
