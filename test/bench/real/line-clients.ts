import { connect, type Socket } from "node:net";
import { WebSocket } from "ws";
import { DO, DONT, IAC, SB, SE, WILL, WONT } from "../../support/telnet-bytes.js";

/** Where and how a load-generator client connects. */
export interface ClientSpec {
  proto: "telnet" | "ws";
  host: string;
  port: number;
  /** Websocket path, e.g. "/ws". */
  path?: string;
  /** Websocket message shape: "v1" = Portico's ["text", [line], {}]; "raw" = the line itself. */
  format?: "v1" | "raw";
}

/** One connection that sends and receives lines of text, whatever the wire. */
export interface LineClient {
  send(line: string): void;
  /** Each received line, without its line ending. */
  onLine: (line: string) => void;
  /** Called once when the connection closes (or fails), with an error message if it failed. */
  onClose: (error?: string) => void;
  close(): void;
}


/**
 * A plain telnet client that refuses every option (answers DO with WONT and WILL with DONT), as a
 * bare client would, and splits what is left into lines.
 */
class TelnetLineClient implements LineClient {
  onLine: (line: string) => void = () => {};
  onClose: (error?: string) => void = () => {};
  private readonly socket: Socket;
  private tail = "";
  /** 0 data, 1 after IAC, 2 after IAC DO/DONT/WILL/WONT, 3 in SB, 4 after IAC in SB. */
  private state = 0;
  private verb = 0;
  private failed: string | undefined;

  constructor(spec: ClientSpec, localAddress: string | undefined) {
    this.socket = connect({ host: spec.host, port: spec.port, ...(localAddress ? { localAddress } : {}) });
    this.socket.setNoDelay(true);
    this.socket.on("data", (chunk: Buffer) => this.onData(chunk));
    this.socket.on("error", (err) => (this.failed = err.message));
    this.socket.on("close", () => this.onClose(this.failed));
  }

  send(line: string): void {
    this.socket.write(line + "\r\n");
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    const text = this.state === 0 && chunk.indexOf(IAC) < 0 ? chunk.toString("latin1") : this.strip(chunk);
    const lines = (this.tail + text).split("\n");
    this.tail = lines.pop()!;
    for (const line of lines) this.onLine(line.endsWith("\r") ? line.slice(0, -1) : line);
  }

  /** Removes telnet commands, answering negotiations with a refusal. */
  private strip(chunk: Buffer): string {
    const out = Buffer.allocUnsafe(chunk.length);
    let n = 0;
    const answers: number[] = [];
    for (const b of chunk) {
      switch (this.state) {
        case 0:
          if (b === IAC) this.state = 1;
          else out[n++] = b;
          break;
        case 1:
          if (b === IAC) {
            out[n++] = b;
            this.state = 0;
          } else if (b === DO || b === DONT || b === WILL || b === WONT) {
            this.verb = b;
            this.state = 2;
          } else this.state = b === SB ? 3 : 0;
          break;
        case 2:
          if (this.verb === DO) answers.push(IAC, WONT, b);
          else if (this.verb === WILL) answers.push(IAC, DONT, b);
          this.state = 0;
          break;
        case 3:
          if (b === IAC) this.state = 4;
          break;
        default:
          this.state = b === SE ? 0 : 3;
      }
    }
    if (answers.length > 0) this.socket.write(Buffer.from(answers));
    return out.toString("latin1", 0, n);
  }
}

/** A websocket client (the `ws` library, no compression). */
class WsLineClient implements LineClient {
  onLine: (line: string) => void = () => {};
  onClose: (error?: string) => void = () => {};
  private readonly ws: WebSocket;
  private readonly v1: boolean;
  private readonly queued: string[] = [];
  private failed: string | undefined;

  constructor(spec: ClientSpec, localAddress: string | undefined) {
    this.v1 = (spec.format ?? "v1") === "v1";
    const url = `ws://${spec.host}:${spec.port}${spec.path ?? "/"}`;
    this.ws = new WebSocket(url, this.v1 ? ["v1.evennia.com"] : [], { perMessageDeflate: false, ...(localAddress ? { localAddress } : {}) });
    this.ws.on("message", (data: Buffer) => this.onMessage(data.toString("utf8")));
    this.ws.on("open", () => {
      for (const frame of this.queued.splice(0)) this.ws.send(frame);
    });
    this.ws.on("error", (err) => (this.failed = err.message));
    this.ws.on("close", () => this.onClose(this.failed));
  }

  send(line: string): void {
    const frame = this.v1 ? JSON.stringify(["text", [line], {}]) : line;
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(frame);
    else this.queued.push(frame);
  }

  close(): void {
    this.ws.terminate();
  }

  private onMessage(text: string): void {
    if (!this.v1) return this.onLine(text);
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    if (!Array.isArray(msg) || msg[0] !== "text" || !Array.isArray(msg[1])) return;
    for (const line of String(msg[1][0] ?? "").split("\n")) this.onLine(line.endsWith("\r") ? line.slice(0, -1) : line);
  }
}

/** Opens one client; `localAddress` spreads source addresses over 127.0.0.0/8. */
export function openClient(spec: ClientSpec, localAddress?: string): LineClient {
  return spec.proto === "telnet" ? new TelnetLineClient(spec, localAddress) : new WsLineClient(spec, localAddress);
}

/** The i-th source address: 64 connections per address, from 127.1.0.1 on (127.0.0.1 stays free). */
export function sourceAddress(i: number): string {
  const k = Math.floor(i / 64) + 1;
  return `127.${1 + (k >> 16)}.${(k >> 8) & 255}.${k & 255}`;
}
