import { WebSocket } from "ws";
import { waitFor } from "../../core/testing/wait-for.js";

export interface ReceivedFrame {
  data: string | Buffer;
  binary: boolean;
}

/** A websocket test client (the `ws` library) that records every frame and how the socket closed. */
export class WsTestClient {
  readonly frames: ReceivedFrame[] = [];
  closed = false;
  closeCode = 0;
  closeReason = "";

  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data: Buffer, binary: boolean) => this.frames.push({ data: binary ? Buffer.from(data) : data.toString("utf8"), binary }));
    ws.on("error", () => undefined);
    ws.on("close", (code: number, reason: Buffer) => {
      this.closed = true;
      this.closeCode = code;
      this.closeReason = reason.toString("utf8");
    });
  }

  /** Connects to `url`, offering `protocols` (none by default); resolves once open, or once closed if the server refuses. */
  static open(url: string, protocols: string[] = [], headers: Record<string, string> = {}): Promise<WsTestClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, protocols, { headers, perMessageDeflate: false });
      const client = new WsTestClient(ws);
      ws.once("open", () => resolve(client));
      ws.once("unexpected-response", (_req, res) => reject(new Error(`HTTP ${res.statusCode} instead of a websocket`)));
      ws.once("error", (err) => reject(err));
    });
  }

  get protocol(): string {
    return this.ws.protocol;
  }

  /** TEXT frames parsed as JSON (v1 arrays, json envelopes); unparseable ones skipped. */
  get json(): unknown[] {
    return this.frames.flatMap((f) => {
      if (f.binary) return [];
      try {
        return [JSON.parse(f.data as string) as unknown];
      } catch {
        return [];
      }
    });
  }

  /** v1 messages, without the resume-token messages. */
  get v1(): [string, unknown[], Record<string, unknown>][] {
    return (this.json.filter((m) => Array.isArray(m) && m[0] !== "portico_resume")) as [string, unknown[], Record<string, unknown>][];
  }

  /** The newest resume token received. */
  get token(): string | undefined {
    const m = this.json.filter((x): x is [string, string[]] => Array.isArray(x) && x[0] === "portico_resume").at(-1);
    return m?.[1][0];
  }

  /** Content frames received (what the web client counts for `received`). */
  get contentFrames(): number {
    return this.frames.filter((f) => f.binary || !String(f.data).startsWith('["portico_resume"')).length;
  }

  /** Everything received as text: HTML tags removed from v1 text, BINARY frames decoded. */
  get text(): string {
    return this.frames.map((f) => {
      if (f.binary) return (f.data as Buffer).toString("utf8");
      try {
        const m = JSON.parse(f.data as string) as unknown;
        if (Array.isArray(m) && (m[0] === "text" || m[0] === "prompt")) return String(m[1][0]).replace(/<[^>]*>/g, "");
      } catch {
        // not JSON
      }
      return String(f.data);
    }).join("\n");
  }

  send(data: string | Buffer, binary = false): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(data, { binary });
  }

  sendV1(name: string, args: unknown[] = [], kwargs: Record<string, unknown> = {}): void {
    this.send(JSON.stringify([name, args, kwargs]));
  }

  waitFor<T>(pred: () => T, what: string, timeoutMs = 3000): Promise<NonNullable<T>> {
    return waitFor(pred, timeoutMs, () => `${what} (frames: ${JSON.stringify(this.frames.slice(-6).map((f) => (f.binary ? `<bin ${(f.data as Buffer).toString("utf8")}>` : f.data)))})`);
  }

  async waitClosed(timeoutMs = 3000): Promise<{ code: number; reason: string }> {
    await waitFor(() => this.closed, timeoutMs, "the websocket to close");
    return { code: this.closeCode, reason: this.closeReason };
  }

  /** Cuts the TCP connection without a close frame (a dropped mobile network). */
  cut(): void {
    this.ws.terminate();
  }

  /** Stops reading (the server's pings go unanswered, its output piles up). */
  stopReading(): void {
    (this.ws as unknown as { _socket: { pause(): void } })._socket.pause();
  }

  close(): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate();
  }
}
