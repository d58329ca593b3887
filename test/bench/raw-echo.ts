import { connect, type Socket } from "node:net";
import { NodeChild } from "./children.js";
import type { EchoTarget } from "./load.js";

/**
 * The baseline: a Node TCP client pipelining newline-framed messages to raw-echo-server.js in a
 * child process. Batched: the messages sent together go out in one write (and the server answers
 * each read with one write). Per message: every message and every reply is its own socket.write.
 */
export class RawEcho implements EchoTarget {
  onReplies: (n: number) => void = () => {};
  readonly failed: Promise<never>;
  private child: NodeChild | undefined;
  private socket: Socket | undefined;
  private tail = "";
  private seq = 0;
  private closing = false;
  private rejectFailed: (err: Error) => void = () => {};

  constructor(
    private readonly serverScript: string,
    private readonly perMessage = false,
  ) {
    this.failed = new Promise<never>((_, reject) => {
      this.rejectFailed = reject;
    });
    this.failed.catch(() => {});
  }

  async start(): Promise<void> {
    const child = new NodeChild("raw echo server", this.serverScript, {}, this.perMessage ? ["--per-message"] : []);
    this.child = child;
    child.failed.catch((err: Error) => this.rejectFailed(err));
    const [, port] = await child.waitFor(/^LISTENING (\d+)$/m, 10_000);
    const socket = connect({ host: "127.0.0.1", port: Number(port) });
    this.socket = socket;
    socket.setNoDelay(true);
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => this.onData(chunk));
    socket.on("error", (err) => this.rejectFailed(new Error(`raw echo socket: ${err.message}`)));
    socket.on("close", () => {
      if (!this.closing) this.rejectFailed(new Error("raw echo socket closed early"));
    });
    await Promise.race([new Promise<void>((resolve) => socket.once("connect", () => resolve())), this.failed]);
  }

  send(n: number): void {
    if (this.perMessage) {
      for (let i = 0; i < n; i += 1) this.socket!.write(`hello ${this.seq++}\n`);
      return;
    }
    let out = "";
    for (let i = 0; i < n; i += 1) out += `hello ${this.seq++}\n`;
    this.socket!.write(out);
  }

  childCpuMs(): number | undefined {
    return this.child?.cpuMs();
  }

  async close(): Promise<void> {
    this.closing = true;
    const socket = this.socket;
    if (socket && !socket.destroyed) {
      await new Promise<void>((resolve) => {
        socket.once("close", () => resolve());
        socket.destroy();
      });
    }
    await this.child?.kill();
  }

  private onData(chunk: string): void {
    const lines = (this.tail + chunk).split("\n");
    this.tail = lines.pop()!;
    if (lines.length > 0) this.onReplies(lines.length);
  }
}
