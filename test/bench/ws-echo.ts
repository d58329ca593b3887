import { WebSocket } from "ws";
import type { EchoTarget } from "./load.js";

export interface WsEchoOptions {
  /** Where the clients connect, e.g. ws://127.0.0.1:4001/ws. */
  url: string;
  sessions: number;
  /** "v1": Portico's web client format, replies are ["text", ["echo: …"], {}]; "raw": the message itself comes back. */
  format: "v1" | "raw";
  /** Resolves with the CPU ms used by the server process(es) measured. */
  serverCpuMs: () => number | undefined;
  failed: Promise<never>;
}

/** N websocket clients (the `ws` library, no deflate) sending round-robin and counting echoes. */
export class WsEcho implements EchoTarget {
  onReplies: (n: number) => void = () => {};
  readonly failed: Promise<never>;
  /** Frames that were not echoes (welcome lines, resume tokens). */
  other = 0;
  private readonly clients: WebSocket[] = [];
  private next = 0;
  private seq = 0;
  private closing = false;
  private rejectFailed: (err: Error) => void = () => {};

  constructor(private readonly options: WsEchoOptions) {
    this.failed = Promise.race([options.failed, new Promise<never>((_, reject) => (this.rejectFailed = reject))]);
    this.failed.catch(() => {});
  }

  async start(): Promise<void> {
    const { url, sessions, format } = this.options;
    const opened: Promise<void>[] = [];
    for (let i = 0; i < sessions; i += 1) {
      const ws = new WebSocket(url, format === "v1" ? ["v1.evennia.com"] : [], { perMessageDeflate: false });
      this.clients.push(ws);
      ws.on("error", (err) => this.rejectFailed(new Error(`websocket client: ${err.message}`)));
      ws.on("close", () => {
        if (!this.closing) this.rejectFailed(new Error("a websocket client was closed early"));
      });
      ws.on("message", (data: Buffer) => this.onMessage(data));
      opened.push(new Promise((resolve) => ws.once("open", () => resolve())));
      if (i % 50 === 49) await Promise.race([Promise.all(opened), this.failed]);
    }
    await Promise.race([Promise.all(opened), this.failed]);
  }

  send(n: number): void {
    const { clients } = this;
    for (let i = 0; i < n; i += 1) {
      const ws = clients[this.next]!;
      this.next = this.next + 1 === clients.length ? 0 : this.next + 1;
      const text = `hello ${this.seq++}`;
      ws.send(this.options.format === "v1" ? JSON.stringify(["text", [text], {}]) : text);
    }
  }

  childCpuMs(): number | undefined {
    return this.options.serverCpuMs();
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.clients.map((ws) => new Promise<void>((resolve) => {
      if (ws.readyState === WebSocket.CLOSED) return resolve();
      ws.once("close", () => resolve());
      ws.terminate();
    })));
  }

  private onMessage(data: Buffer): void {
    if (this.options.format === "raw") return this.onReplies(1);
    const text = data.toString("utf8");
    if (text.startsWith('["text",["echo: ')) this.onReplies(1);
    else this.other += 1;
  }
}
