import { createServer, type Server, type Socket } from "node:net";
import { createDeflate, constants as zc, type Deflate } from "node:zlib";
import { Portal } from "../../core/portal.js";
import { JsonLineLogger } from "../../core/logging/logger.js";
import { telnetManifest } from "../../plugins/telnet/index.js";
import { NodeChild } from "./children.js";
import { takeSample, throughputBetween, type Sample, type Throughput } from "./stats.js";
import { makeTempDir, removeTempDir } from "./temp-dirs.js";

/** MCCP2 settings: the telnet plugin's defaults (config.ts), used by the raw zlib baseline too. */
export const MCCP_SETTINGS = { level: 6, windowBits: 12, memLevel: 5 } as const;

/** Something that pushes text lines to a client process that counts what it receives. */
export interface StreamTarget {
  /** Pushes `n` more lines now. */
  send(n: number): void;
  /** Set by the load driver; called with the number of lines the client just reported. */
  onLines: (n: number) => void;
  /** Totals the client reported so far: logical bytes (after inflating) and bytes on the wire. */
  readonly bytes: number;
  readonly wire: number;
  childCpuMs(): number | undefined;
  readonly failed: Promise<never>;
}

export interface StreamLoopOptions {
  /** Lines kept in flight (sent but not yet reported by the client). */
  window: number;
  warmupMs: number;
  durationMs: number;
  /** How long to wait for the last in-flight lines before calling them lost. */
  drainMs: number;
}

export interface StreamResult extends Throughput {
  /** Logical bytes (decompressed) and wire bytes received in the measuring window, and their rates. */
  bytes: number;
  wire: number;
  bytesPerSecond: number;
  wirePerSecond: number;
  /** Logical bytes per wire byte (1 without compression). */
  compressionRatio: number;
  sent: number;
  received: number;
  lost: number;
}

type StreamSample = Sample & { bytes: number; wire: number };

/** Lines received, CPU, time and the client's byte counters at one instant. */
function streamSample(target: StreamTarget, received: number): StreamSample {
  return { ...takeSample(received, () => target.childCpuMs()), bytes: target.bytes, wire: target.wire };
}

function resultBetween(a: StreamSample, b: StreamSample, sent: number, received: number): StreamResult {
  const t = throughputBetween(a, b);
  const bytes = b.bytes - a.bytes;
  const wire = b.wire - a.wire;
  return { ...t, bytes, wire, bytesPerSecond: bytes / t.seconds, wirePerSecond: wire / t.seconds, compressionRatio: bytes / wire, sent, received, lost: sent - received };
}

/**
 * Closed-loop output load: `window` lines in flight, and for every line the client reports, one
 * more. Like load.ts's closedLoop, with the client's byte counters sampled at the same instants.
 * Throughput's `messages` are lines; bench CPU is this process (portal or raw server + driver).
 */
export function streamLoop(target: StreamTarget, o: StreamLoopOptions): Promise<StreamResult> {
  let phase: "warmup" | "measure" | "drain" = "warmup";
  let sent = 0;
  let received = 0;
  let start: StreamSample | undefined;
  let end: StreamSample | undefined;
  const timers: NodeJS.Timeout[] = [];
  const sample = () => streamSample(target, received);

  const done = new Promise<StreamResult>((resolve) => {
    const finish = () => {
      for (const t of timers) clearTimeout(t);
      target.onLines = () => {};
      resolve(resultBetween(start!, end!, sent, received));
    };
    target.onLines = (n) => {
      received += n;
      if (phase === "drain") {
        if (received >= sent) finish();
        return;
      }
      sent += n;
      target.send(n);
    };
    timers.push(setTimeout(() => {
      start = sample();
      phase = "measure";
      timers.push(setTimeout(() => {
        end = sample();
        phase = "drain";
        if (received >= sent) finish();
        else timers.push(setTimeout(finish, o.drainMs));
      }, o.durationMs));
    }, o.warmupMs));
    sent += o.window;
    target.send(o.window);
  });
  return Promise.race([done, target.failed]).finally(() => {
    for (const t of timers) clearTimeout(t);
    target.onLines = () => {};
  });
}

export interface PacedLoopOptions {
  /** Lines sent on each timer tick (round-robin over the sessions, so one per session when it equals the client count). */
  perTick: number;
  intervalMs: number;
  warmupMs: number;
  durationMs: number;
  drainMs: number;
}

/**
 * Open-loop output at a fixed, modest rate: `perTick` lines every `intervalMs`, the shape of
 * interactive play (a line or two per session per tick). The rate does not depend on how fast the
 * processes are, so CPU per line compares fairly between targets; lines/s is just the set rate.
 */
export function pacedLoop(target: StreamTarget, o: PacedLoopOptions): Promise<StreamResult> {
  let phase: "warmup" | "measure" | "drain" = "warmup";
  let sent = 0;
  let received = 0;
  let start: StreamSample | undefined;
  let end: StreamSample | undefined;
  const timers: NodeJS.Timeout[] = [];
  const sample = () => streamSample(target, received);
  let ticker: NodeJS.Timeout | undefined;

  const done = new Promise<StreamResult>((resolve) => {
    const finish = () => {
      for (const t of timers) clearTimeout(t);
      target.onLines = () => {};
      resolve(resultBetween(start!, end!, sent, received));
    };
    target.onLines = (n) => {
      received += n;
      if (phase === "drain" && received >= sent) finish();
    };
    ticker = setInterval(() => {
      sent += o.perTick;
      target.send(o.perTick);
    }, o.intervalMs);
    timers.push(setTimeout(() => {
      start = sample();
      phase = "measure";
      timers.push(setTimeout(() => {
        clearInterval(ticker);
        end = sample();
        phase = "drain";
        if (received >= sent) finish();
        else timers.push(setTimeout(finish, o.drainMs));
      }, o.durationMs));
    }, o.warmupMs));
  });
  return Promise.race([done, target.failed]).finally(() => {
    clearInterval(ticker);
    for (const t of timers) clearTimeout(t);
    target.onLines = () => {};
  });
}

/** The counting client (telnet-sink.js) as a child process, with its progress lines parsed. */
class Sink {
  readonly child: NodeChild;
  lines = 0;
  bytes = 0;
  wire = 0;
  onLines: (n: number) => void = () => {};
  private tail = "";

  constructor(script: string, port: number, clients: number, flags: string[]) {
    this.child = new NodeChild("telnet sink", script, {}, ["--port", String(port), "--clients", String(clients), ...flags]);
    this.child.proc.stdout!.on("data", (s: string) => this.onStdout(s));
  }

  private onStdout(s: string): void {
    const parts = (this.tail + s).split("\n");
    this.tail = parts.pop()!;
    let latest: string | undefined;
    for (const p of parts) if (p.startsWith("P ")) latest = p;
    if (latest === undefined) return;
    const [, l, b, w] = latest.split(" ");
    const lines = Number(l);
    this.bytes = Number(b);
    this.wire = Number(w);
    const n = lines - this.lines;
    this.lines = lines;
    if (n > 0) this.onLines(n);
  }
}

/** Common plumbing of the two targets: the sink child, its counters and failure. */
abstract class SinkTarget implements StreamTarget {
  readonly failed: Promise<never>;
  protected sink: Sink | undefined;
  protected rejectFailed: (err: Error) => void = () => {};

  constructor() {
    this.failed = new Promise<never>((_, reject) => {
      this.rejectFailed = reject;
    });
    this.failed.catch(() => {});
  }

  set onLines(f: (n: number) => void) {
    this.sink!.onLines = f;
  }

  get onLines(): (n: number) => void {
    return this.sink!.onLines;
  }

  get bytes(): number {
    return this.sink?.bytes ?? 0;
  }

  get wire(): number {
    return this.sink?.wire ?? 0;
  }

  get linesSeen(): number {
    return this.sink?.lines ?? 0;
  }

  childCpuMs(): number | undefined {
    return this.sink?.child.cpuMs();
  }

  abstract send(n: number): void;

  protected async startSink(script: string, port: number, clients: number, flags: string[]): Promise<void> {
    const sink = new Sink(script, port, clients, flags);
    this.sink = sink;
    sink.child.failed.catch((err: Error) => this.rejectFailed(err));
    await sink.child.waitFor(/^CONNECTED \d+$/m, 10_000);
  }

  protected async stopSink(): Promise<void> {
    await this.sink?.child.kill();
  }
}

/**
 * The baseline: the same wire bytes the telnet session would write (rendered, CR LF, UTF-8),
 * written straight to plain TCP sockets by this process, round-robin, in the plugin's OutputPipe's
 * write shape: "tick" (default) corks each socket for the rest of the tick, so a tick's lines go
 * out in one writev; "line" is one socket.write per line. With `deflate`, each socket gets its own
 * zlib stream (MCCP2's settings) that is sync-flushed once per tick; "tick" hands it the tick's
 * lines as one sync-flushed chunk, "line" writes it once per line and calls flush() once per tick
 * (the plugin's OutputPipe before the benchmark's fix).
 */
export class RawStream extends SinkTarget {
  private server: Server | undefined;
  private readonly sockets: Socket[] = [];
  private readonly writers: ((b: Buffer) => void)[] = [];
  private readonly deflates: Deflate[] = [];
  private next = 0;
  private line = 0;

  constructor(
    private readonly sinkScript: string,
    private readonly wireLines: readonly Buffer[],
    private readonly clients: number,
    private readonly deflate = false,
    private readonly writes: "tick" | "line" = "tick",
  ) {
    super();
  }

  async start(): Promise<void> {
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : 0;
    await this.startSink(this.sinkScript, port, this.clients, this.deflate ? ["--mccp"] : []);
    while (this.writers.length < this.clients) await new Promise((r) => setTimeout(r, 5));
  }

  send(n: number): void {
    const writers = this.writers;
    const lines = this.wireLines;
    for (let i = 0; i < n; i += 1) {
      writers[this.next]!(lines[this.line]!);
      this.next = this.next + 1 === writers.length ? 0 : this.next + 1;
      this.line = this.line + 1 === lines.length ? 0 : this.line + 1;
    }
  }

  async close(): Promise<void> {
    for (const d of this.deflates) d.destroy();
    for (const s of this.sockets) s.destroy();
    await this.stopSink();
    const server = this.server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    this.sockets.push(socket);
    socket.setNoDelay(true);
    socket.on("error", (err) => this.rejectFailed(new Error(`raw stream socket: ${err.message}`)));
    const perTick = this.writes === "tick";
    if (!this.deflate) {
      let corked = false;
      this.writers.push(perTick
        ? (b) => {
          if (!corked) {
            corked = true;
            socket.cork();
            queueMicrotask(() => {
              corked = false;
              socket.uncork();
            });
          }
          socket.write(b);
        }
        : (b) => socket.write(b));
      return;
    }
    // "tick": one sync-flushed write per tick (flush as the default flag); "line": a write per line and a flush per tick.
    const deflate = createDeflate(perTick ? { ...MCCP_SETTINGS, flush: zc.Z_SYNC_FLUSH } : MCCP_SETTINGS);
    deflate.on("data", (chunk: Buffer) => socket.write(chunk));
    deflate.on("error", (err) => this.rejectFailed(new Error(`raw deflate: ${err.message}`)));
    this.deflates.push(deflate);
    let flushScheduled = false;
    let pending: Buffer[] = [];
    this.writers.push((b) => {
      if (perTick) pending.push(b);
      else deflate.write(b);
      if (flushScheduled) return;
      flushScheduled = true;
      queueMicrotask(() => {
        flushScheduled = false;
        if (!perTick) {
          deflate.flush(zc.Z_SYNC_FLUSH);
          return;
        }
        deflate.write(pending.length === 1 ? pending[0]! : Buffer.concat(pending));
        pending = [];
      });
    });
  }
}

/**
 * A Portal in this process with one telnet listener on 127.0.0.1, port 0 (no game on the link:
 * output goes in through handler.data_out, exactly where the link would hand it over).
 */
export class TelnetPortal {
  portal: Portal | undefined;
  port = 0;
  private readonly dataDir = makeTempDir("portico-telnet-bench-");

  async start(): Promise<void> {
    const logger = new JsonLineLogger("warn", { bench: "telnet" }, (line) => process.stderr.write(line));
    const portal = new Portal({
      config: {
        dataDir: this.dataDir,
        link: { port: 0 },
        limits: { maxCommandRate: 0, maxConnectionRate: 0 },
        listeners: [{ plugin: "plugins.telnet.TelnetFactory", config: { host: "127.0.0.1", port: 0 } }],
      },
      plugins: [telnetManifest],
      logger,
    });
    this.portal = portal;
    await portal.start();
    this.port = Number(portal.launcher.list()[0]!.status.port);
  }

  async close(): Promise<void> {
    try {
      await this.portal?.stop("benchmark finished");
    } finally {
      removeTempDir(this.dataDir);
    }
  }
}

/**
 * Telnet output end to end: the sink's clients connect to the portal's telnet listener and
 * negotiate (MCCP2 accepted or refused); lines go in as `data_out(sessid, [["text", [markup], {}]])`,
 * round-robin over the sessions, and through send_text's rendering, CR LF, encoding, IAC escaping
 * and the output pipe (MCCP2 or plain) to the sockets.
 */
export class TelnetStream extends SinkTarget {
  /** Each session's protocol flags once negotiation settled (the first one is reported). */
  flags: Record<string, unknown> = {};
  private sessids: string[] = [];
  private next = 0;
  private line = 0;

  constructor(
    private readonly host: TelnetPortal,
    private readonly sinkScript: string,
    private readonly markup: readonly string[],
    private readonly clients: number,
    private readonly mccp: boolean,
  ) {
    super();
  }

  async start(): Promise<void> {
    const handler = this.host.portal!.handler;
    const before = new Set(handler.all().map((s) => s.sessid));
    await this.startSink(this.sinkScript, this.host.port, this.clients, ["--telnet", ...(this.mccp ? ["--mccp"] : [])]);
    const deadline = Date.now() + 10_000;
    for (;;) {
      const fresh = handler.all().filter((s) => !before.has(s.sessid) && s.protocol_key === "telnet");
      const settled = fresh.filter((s) => s.protocol_flags.TTYPE === true && s.protocol_flags.MCCP === this.mccp);
      if (settled.length === this.clients) {
        this.sessids = settled.map((s) => s.sessid);
        this.flags = { ...settled[0]!.protocol_flags };
        break;
      }
      if (Date.now() > deadline) throw new Error(`only ${settled.length} of ${this.clients} telnet sessions finished negotiating within 10 s`);
      await Promise.race([new Promise((r) => setTimeout(r, 10)), this.failed]);
    }
    // Let the last negotiation bytes (CHARSET, MSSP refusals ...) arrive before the load starts.
    await new Promise((r) => setTimeout(r, 100));
  }

  send(n: number): void {
    const handler = this.host.portal!.handler;
    const sessids = this.sessids;
    const markup = this.markup;
    for (let i = 0; i < n; i += 1) {
      handler.data_out(sessids[this.next]!, [["text", [markup[this.line]!], {}]]);
      this.next = this.next + 1 === sessids.length ? 0 : this.next + 1;
      this.line = this.line + 1 === markup.length ? 0 : this.line + 1;
    }
  }

  async close(): Promise<void> {
    await this.stopSink();
    // The portal closes the sessions when the sockets go; wait for that so the next phase starts clean.
    const handler = this.host.portal!.handler;
    const deadline = Date.now() + 2000;
    while (Date.now() < deadline && handler.all().some((s) => this.sessids.includes(s.sessid))) await new Promise((r) => setTimeout(r, 5));
  }
}
