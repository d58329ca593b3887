import { connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import { createInflate, type Inflate } from "node:zlib";
import { waitFor } from "../../core/testing/wait-for.js";

/** Telnet bytes, written out here so the tests do not depend on the code under test. */
export const T = {
  IAC: 255, DONT: 254, DO: 253, WONT: 252, WILL: 251, SB: 250, GA: 249, NOP: 241, SE: 240, EOR: 239,
  ECHO: 1, SGA: 3, TTYPE: 24, EOR_OPT: 25, NAWS: 31, LINEMODE: 34, NEW_ENVIRON: 39, CHARSET: 42,
  MSDP: 69, MSSP: 70, MCCP2: 86, MXP: 91, GMCP: 201,
} as const;

export type TelnetEvent =
  | { kind: "data"; bytes: Buffer }
  | { kind: "neg"; verb: number; opt: number }
  | { kind: "sb"; opt: number; payload: Buffer }
  | { kind: "cmd"; cmd: number };

/** How the client answers the server (absent: stays silent). */
export interface Answers {
  /** Server WILL x ⇒ DO x (true) or DONT x (false). */
  will?: Partial<Record<number, boolean>>;
  /** Server DO x ⇒ WILL x (true) or WONT x (false). */
  do?: Partial<Record<number, boolean>>;
  /** Answers to `SB TTYPE SEND`, in order; the last one is repeated. */
  ttype?: string[];
  /** Sent right after our WILL NAWS. */
  naws?: [number, number];
  /** Inflate the stream after `IAC SB MCCP2 IAC SE` (default true). */
  inflate?: boolean;
}

/** `IAC SB opt <payload, IAC doubled> IAC SE`. */
export function sb(opt: number, payload: Buffer | string): Buffer {
  const p = typeof payload === "string" ? Buffer.from(payload, "utf8") : payload;
  const escaped = Buffer.from(p.toString("latin1").replace(/\xff/g, "\xff\xff"), "latin1");
  return Buffer.concat([Buffer.from([T.IAC, T.SB, opt]), escaped, Buffer.from([T.IAC, T.SE])]);
}

export function neg(verb: number, opt: number): Buffer {
  return Buffer.from([T.IAC, verb, opt]);
}

export function naws(w: number, h: number): Buffer {
  const p = Buffer.alloc(4);
  p.writeUInt16BE(w, 0);
  p.writeUInt16BE(h, 2);
  return sb(T.NAWS, p);
}

const enum S { Data, Iac, Neg, SbOpt, Sb, SbIac }

/**
 * A raw telnet client for protocol tests: records every byte, parses the server's stream with its
 * own small state machine (not the plugin's), inflates MCCP2 output (and notices the stream end),
 * and answers negotiations as scripted.
 */
export class TelnetProtocolClient {
  readonly raw: Buffer[] = [];
  /** The logical stream (compressed parts replaced by their inflated bytes). */
  readonly stream: Buffer[] = [];
  readonly events: TelnetEvent[] = [];
  closed = false;
  ended = false;
  error: Error | undefined;
  mccpStarts = 0;
  mccpEnds = 0;
  inflateError: Error | undefined;
  /** Bytes that followed the end of a compressed stream (plain output after DONT MCCP2). */
  readonly afterMccp: Buffer[] = [];
  private state = S.Data;
  private verb = 0;
  private sbOpt = 0;
  private sbBuf: number[] = [];
  private dataBuf: number[] = [];
  private inflater: Inflate | undefined;
  private compressedParts: Buffer[] = [];
  private ttypeIndex = 0;
  private readonly us = new Map<number, boolean>();
  private readonly him = new Map<number, boolean>();

  constructor(readonly socket: Socket | TLSSocket, readonly answers: Answers = {}) {
    socket.on("data", (chunk: Buffer) => this.onChunk(chunk));
    socket.on("error", (err) => (this.error = err));
    socket.on("end", () => {
      this.ended = true;
      // A zlib stream that ends exactly at a chunk boundary reports 'end' only once its input ends:
      // a complete stream then emits 'end', a truncated one an error.
      this.inflater?.end();
    });
    socket.on("close", () => (this.closed = true));
  }

  static open(port: number, answers: Answers = {}): Promise<TelnetProtocolClient> {
    return new Promise((resolve, reject) => {
      const socket = netConnect({ host: "127.0.0.1", port });
      socket.setNoDelay(true);
      const client = new TelnetProtocolClient(socket, answers);
      socket.once("connect", () => resolve(client));
      socket.once("error", reject);
    });
  }

  static openTls(port: number, answers: Answers = {}): Promise<TelnetProtocolClient> {
    return new Promise((resolve, reject) => {
      const socket = tlsConnect({ host: "127.0.0.1", port, rejectUnauthorized: false, servername: "localhost" });
      const client = new TelnetProtocolClient(socket, answers);
      socket.once("secureConnect", () => resolve(client));
      socket.once("error", reject);
    });
  }

  /** Sends bytes (a string goes out as UTF-8). */
  send(data: Buffer | string): void {
    if (this.socket.destroyed) return;
    this.socket.write(typeof data === "string" ? Buffer.from(data, "utf8") : data);
  }

  /** All data bytes (telnet commands removed, IAC IAC undone). */
  dataBytes(): Buffer {
    this.flushData();
    return Buffer.concat(this.events.filter((e): e is Extract<TelnetEvent, { kind: "data" }> => e.kind === "data").map((e) => e.bytes));
  }

  text(encoding: BufferEncoding = "utf8"): string {
    return this.dataBytes().toString(encoding);
  }

  streamBytes(): Buffer {
    return Buffer.concat(this.stream);
  }

  rawBytes(): Buffer {
    return Buffer.concat(this.raw);
  }

  negotiations(verb?: number, opt?: number): { verb: number; opt: number }[] {
    return this.events
      .filter((e): e is Extract<TelnetEvent, { kind: "neg" }> => e.kind === "neg")
      .filter((e) => (verb === undefined || e.verb === verb) && (opt === undefined || e.opt === opt))
      .map((e) => ({ verb: e.verb, opt: e.opt }));
  }

  subnegotiations(opt?: number): Buffer[] {
    return this.events
      .filter((e): e is Extract<TelnetEvent, { kind: "sb" }> => e.kind === "sb")
      .filter((e) => opt === undefined || e.opt === opt)
      .map((e) => e.payload);
  }

  commands(cmd?: number): number[] {
    return this.events
      .filter((e): e is Extract<TelnetEvent, { kind: "cmd" }> => e.kind === "cmd")
      .map((e) => e.cmd)
      .filter((c) => cmd === undefined || c === cmd);
  }

  waitText(match: string | RegExp, timeoutMs = 2000, encoding: BufferEncoding = "utf8"): Promise<string> {
    const test = (t: string) => (typeof match === "string" ? t.includes(match) : match.test(t));
    return waitFor(
      () => (test(this.text(encoding)) ? this.text(encoding) : undefined),
      timeoutMs,
      () => `text ${JSON.stringify(String(match))} (got ${JSON.stringify(this.text(encoding).slice(-300))})`,
    );
  }

  waitEvent(pred: (e: TelnetEvent) => boolean, timeoutMs = 2000, what = "telnet event"): Promise<TelnetEvent> {
    return waitFor(() => this.events.find(pred), timeoutMs, what);
  }

  waitNeg(verb: number, opt: number, timeoutMs = 2000): Promise<TelnetEvent> {
    return this.waitEvent((e) => e.kind === "neg" && e.verb === verb && e.opt === opt, timeoutMs, `IAC ${verb} ${opt}`);
  }

  waitSb(opt: number, match: (payload: Buffer) => boolean = () => true, timeoutMs = 2000): Promise<Buffer> {
    return waitFor(() => this.subnegotiations(opt).find(match), timeoutMs, `SB ${opt}`);
  }

  async waitClosed(timeoutMs = 2000): Promise<void> {
    await waitFor(() => this.closed, timeoutMs, "socket closed");
  }

  destroy(): void {
    this.socket.destroy();
  }

  // ---- internals ----

  private onChunk(chunk: Buffer): void {
    this.raw.push(chunk);
    if (this.inflater) {
      this.compressedParts.push(chunk);
      this.inflater.write(chunk);
      return;
    }
    this.feed(chunk, true);
  }

  private feed(buf: Buffer, mayStartMccp: boolean): void {
    for (let i = 0; i < buf.length; i++) {
      const mccpStart = this.parseByte(buf[i]!);
      if (mccpStart && mayStartMccp && this.answers.inflate !== false) {
        this.stream.push(buf.subarray(0, i + 1));
        this.startInflate(buf.subarray(i + 1));
        return;
      }
    }
    this.flushData();
    this.stream.push(buf);
  }

  private startInflate(rest: Buffer): void {
    this.flushData();
    this.mccpStarts += 1;
    const inflater = createInflate();
    this.inflater = inflater;
    this.compressedParts = [];
    inflater.on("data", (out: Buffer) => this.feed(out, false));
    inflater.on("error", (err) => (this.inflateError = err));
    inflater.on("end", () => {
      this.mccpEnds += 1;
      const all = Buffer.concat(this.compressedParts);
      const trailing = all.subarray(inflater.bytesWritten);
      this.inflater = undefined;
      this.compressedParts = [];
      this.afterMccp.push(trailing);
      if (trailing.length > 0) this.feed(trailing, true);
    });
    if (rest.length > 0) {
      this.compressedParts.push(rest);
      inflater.write(rest);
    }
  }

  private flushData(): void {
    if (this.dataBuf.length === 0) return;
    const bytes = Buffer.from(this.dataBuf);
    this.dataBuf = [];
    const last = this.events[this.events.length - 1];
    if (last && last.kind === "data") last.bytes = Buffer.concat([last.bytes, bytes]);
    else this.events.push({ kind: "data", bytes });
  }

  private pushEvent(e: TelnetEvent): void {
    this.flushData();
    this.events.push(e);
  }

  /** Returns true when the byte completed `IAC SB MCCP2 IAC SE`. */
  private parseByte(b: number): boolean {
    switch (this.state) {
      case S.Data:
        if (b === T.IAC) this.state = S.Iac;
        else this.dataBuf.push(b);
        return false;
      case S.Iac:
        if (b === T.IAC) {
          this.dataBuf.push(0xff);
          this.state = S.Data;
        } else if (b === T.WILL || b === T.WONT || b === T.DO || b === T.DONT) {
          this.verb = b;
          this.state = S.Neg;
        } else if (b === T.SB) {
          this.state = S.SbOpt;
        } else {
          this.pushEvent({ kind: "cmd", cmd: b });
          this.state = S.Data;
        }
        return false;
      case S.Neg:
        this.state = S.Data;
        this.pushEvent({ kind: "neg", verb: this.verb, opt: b });
        this.answer(this.verb, b);
        return false;
      case S.SbOpt:
        this.sbOpt = b;
        this.sbBuf = [];
        this.state = S.Sb;
        return false;
      case S.Sb:
        if (b === T.IAC) this.state = S.SbIac;
        else this.sbBuf.push(b);
        return false;
      case S.SbIac: {
        if (b === T.IAC) {
          this.sbBuf.push(0xff);
          this.state = S.Sb;
          return false;
        }
        this.state = S.Data;
        if (b !== T.SE) {
          this.pushEvent({ kind: "cmd", cmd: -1 }); // a malformed SB from the server
          return false;
        }
        const payload = Buffer.from(this.sbBuf);
        this.pushEvent({ kind: "sb", opt: this.sbOpt, payload });
        this.onSb(this.sbOpt, payload);
        return this.sbOpt === T.MCCP2 && payload.length === 0;
      }
    }
  }

  private answer(verb: number, opt: number): void {
    if (verb === T.WILL || verb === T.WONT) {
      const want = this.answers.will?.[opt];
      if (verb === T.WILL) {
        if (want === undefined || this.him.get(opt) === true) return;
        if (want) this.him.set(opt, true);
        this.send(neg(want ? T.DO : T.DONT, opt));
      } else if (this.him.get(opt) === true) {
        this.him.set(opt, false);
        this.send(neg(T.DONT, opt));
      }
      return;
    }
    const want = this.answers.do?.[opt];
    if (verb === T.DO) {
      if (want === undefined || this.us.get(opt) === true) return;
      if (want) this.us.set(opt, true);
      this.send(neg(want ? T.WILL : T.WONT, opt));
      if (want && opt === T.NAWS && this.answers.naws) this.send(naws(...this.answers.naws));
    } else if (this.us.get(opt) === true) {
      this.us.set(opt, false);
      this.send(neg(T.WONT, opt));
    }
  }

  private onSb(opt: number, payload: Buffer): void {
    if (opt === T.TTYPE && payload[0] === 1 && this.answers.ttype && this.answers.ttype.length > 0) {
      const list = this.answers.ttype;
      const name = list[Math.min(this.ttypeIndex, list.length - 1)]!;
      this.ttypeIndex += 1;
      this.send(sb(T.TTYPE, Buffer.concat([Buffer.from([0]), Buffer.from(name, "latin1")])));
    }
  }
}
