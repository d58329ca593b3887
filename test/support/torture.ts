import { expect } from "chai";
import { appendFileSync, mkdtempSync, rmSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { WebSocket } from "ws";
import { Portal, type LogFields, type Logger } from "../../core/index.js";
import { sleep, waitFor } from "../../core/testing/wait-for.js";
import { bundledPlugins } from "../../plugins/index.js";
import { GameProcess } from "./game-process.js";

/**
 * The torture suite's harness (test/torture/*): short or long form, seeds, a portal with the echo
 * game, the logged-in canary that must keep getting answers while a target is hammered, memory
 * watching, and the one-line summary each target prints (and appends to PORTICO_TORTURE_REPORT).
 *
 * PORTICO_TORTURE=long selects the long form (>= 100 000 cases per target); anything else is the
 * short form that runs inside `npm test`. PORTICO_FUZZ_SEED=<n> replays a run; without it the short
 * form uses each target's fixed seed and the long form a fresh one, printed either way.
 * PORTICO_TORTURE_CASES=<n> sets every target's case count (its time bound stays).
 */
export const LONG = process.env.PORTICO_TORTURE === "long";

/** The short-form or long-form value. */
export function pick<T>(short: T, long: T): T {
  return LONG ? long : short;
}

/** A target's case count: the short or long form's, or PORTICO_TORTURE_CASES when set (to replay or to go further). */
export function caseCount(short: number, long: number): number {
  const env = Number(process.env.PORTICO_TORTURE_CASES);
  return Number.isSafeInteger(env) && env > 0 ? env : pick(short, long);
}

/** The seed for a target: PORTICO_FUZZ_SEED, else (short form) the target's own, else (long form) a fresh one. */
export function fuzzSeed(fixed: number): number {
  const env = process.env.PORTICO_FUZZ_SEED;
  if (env !== undefined && env !== "") return Number(env) >>> 0;
  return LONG ? (Date.now() ^ (process.pid << 16)) >>> 0 : fixed >>> 0;
}

/** How to replay a target: the environment to set. */
export function replayHint(seed: number): string {
  return `PORTICO_FUZZ_SEED=${seed}${LONG ? " PORTICO_TORTURE=long" : ""}`;
}

/** Keeps counts and a few warn/error entries only, so a fuzz's flood of debug lines does not skew the memory figures. */
export class CountingLogger implements Logger {
  readonly counts = { debug: 0, info: 0, warn: 0, error: 0 };
  readonly notable: { level: string; msg: string; fields: string }[] = [];
  /** Warn and error messages by text (first 80 characters), counted: what the fuzz made the portal say. */
  readonly warnings = new Map<string, number>();
  debug(): void { this.counts.debug += 1; }
  info(): void { this.counts.info += 1; }
  warn(fields: LogFields, msg: string): void { this.keep("warn", fields, msg); }
  error(fields: LogFields, msg: string): void { this.keep("error", fields, msg); }
  child(): Logger { return this; }
  /** The `n` most frequent warn/error messages with their counts (for a target's notes). */
  top(n = 5): Record<string, number> {
    return Object.fromEntries([...this.warnings].sort((a, b) => b[1] - a[1]).slice(0, n));
  }
  /** Error entries (at most 50 kept), without those `allowed` matches. */
  errors(allowed: (e: { msg: string; fields: string }) => boolean = () => false): { level: string; msg: string; fields: string }[] {
    return this.notable.filter((e) => e.level === "error" && !allowed(e));
  }
  private keep(level: "warn" | "error", fields: LogFields, msg: string): void {
    this.counts[level] += 1;
    const key = `${level}: ${msg.slice(0, 80)}`;
    if (this.warnings.size < 500 || this.warnings.has(key)) this.warnings.set(key, (this.warnings.get(key) ?? 0) + 1);
    if (level === "error" ? this.notable.filter((e) => e.level === "error").length < 50 : this.notable.length < 50) {
      let text: string;
      try {
        text = JSON.stringify(fields, (_k, v) => (v instanceof Error ? v.stack : v)).slice(0, 500);
      } catch {
        text = String(fields);
      }
      this.notable.push({ level, msg, fields: text });
    }
  }
}

/** The V8 collector (exposed at run time if node was not started with --expose-gc). */
export function collectGarbage(): () => void {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (existing) return existing;
  setFlagsFromString("--expose-gc");
  return runInNewContext("gc") as () => void;
}

const MB = 1024 * 1024;
const mb = (n: number) => Math.round((n / MB) * 10) / 10;

/** Heap and RSS: a baseline after a full collection, peaks sampled while the target runs, and the figures after. */
export class MemoryWatch {
  readonly before: { heapMb: number; rssMb: number };
  after: { heapMb: number; rssMb: number } | undefined;
  peakHeapMb = 0;
  peakRssMb = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly gc = collectGarbage();

  constructor() {
    this.gc();
    this.gc();
    const m = process.memoryUsage();
    this.before = { heapMb: mb(m.heapUsed), rssMb: mb(m.rss) };
    this.sample();
    this.timer = setInterval(() => this.sample(), 100);
    this.timer.unref();
  }

  sample(): void {
    const m = process.memoryUsage();
    this.peakHeapMb = Math.max(this.peakHeapMb, mb(m.heapUsed));
    this.peakRssMb = Math.max(this.peakRssMb, mb(m.rss));
  }

  /** Stops sampling and measures again after a full collection (twice, with a pause for sockets' native memory to go). */
  async finish(): Promise<{ heapMb: number; rssMb: number }> {
    clearInterval(this.timer);
    this.sample();
    this.gc();
    await sleep(50);
    this.gc();
    const m = process.memoryUsage();
    this.after = { heapMb: mb(m.heapUsed), rssMb: mb(m.rss) };
    return this.after;
  }

  get heapGrowthMb(): number {
    return (this.after?.heapMb ?? this.before.heapMb) - this.before.heapMb;
  }
}

/** What a canary measured: round trips, their percentiles, and commands that got no answer within the bound. */
export interface CanaryStats {
  name: string;
  n: number;
  p50: number;
  p99: number;
  max: number;
  misses: number;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Round-trip figures of a canary from its latencies (ms) and the number of commands it got no answer to. */
export function canaryStats(name: string, latencies: readonly number[], misses: number): CanaryStats {
  const sorted = [...latencies].sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 10) / 10;
  return { name, n: sorted.length, p50: r(percentile(sorted, 50)), p99: r(percentile(sorted, 99)), max: r(sorted.at(-1) ?? 0), misses };
}

interface CanaryTransport {
  send(line: string): void;
  close(): void;
  readonly closed: boolean;
}

let canarySerial = 0;

/**
 * A logged-in player (telnet or websocket) that sends a command every `intervalMs` and times the
 * echo game's answer; an answer later than `boundMs` is a miss. It never sends the next command
 * before the previous one was answered or missed.
 */
export class Canary {
  readonly latencies: number[] = [];
  readonly misses: string[] = [];
  private text = "";
  private readonly waiters = new Map<string, () => void>();
  private running = false;
  private loop: Promise<void> | undefined;
  private n = 0;
  private readonly id = ++canarySerial;

  private constructor(readonly name: string, private readonly transport: CanaryTransport) {}

  /** A telnet canary on `port`, logged in as `name` (it never answers the portal's negotiation). */
  static async telnet(port: number, name: string): Promise<Canary> {
    const socket: Socket = await new Promise((resolve, reject) => {
      const s = connect({ host: "127.0.0.1", port }, () => resolve(s));
      s.once("error", reject);
    });
    socket.setNoDelay(true);
    const canary = new Canary(name, {
      send: (line) => void socket.write(line + "\r\n"),
      close: () => socket.destroy(),
      get closed() {
        return socket.destroyed;
      },
    });
    socket.on("error", () => undefined);
    socket.on("data", (chunk: Buffer) => canary.receive(chunk.toString("latin1")));
    await canary.login();
    return canary;
  }

  /** A websocket canary (v1.evennia.com) at `url`, logged in as `name`. */
  static async websocket(url: string, name: string): Promise<Canary> {
    const ws = new WebSocket(url, ["v1.evennia.com"], { perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    const canary = new Canary(name, {
      send: (line) => ws.send(JSON.stringify(["text", [line], {}])),
      close: () => ws.terminate(),
      get closed() {
        return ws.readyState !== WebSocket.OPEN;
      },
    });
    ws.on("error", () => undefined);
    ws.on("message", (data: Buffer) => canary.receive(data.toString("utf8")));
    await canary.login();
    return canary;
  }

  private async login(): Promise<void> {
    await this.until("Welcome", 10_000);
    this.transport.send(`login ${this.name}`);
    await this.until(`Logged in as ${this.name}.`, 10_000);
  }

  private async until(marker: string, timeoutMs: number): Promise<void> {
    const got = await this.wait(marker, timeoutMs);
    if (!got) throw new Error(`canary ${this.name}: no "${marker}" within ${timeoutMs} ms (last: ${JSON.stringify(this.text.slice(-200))})`);
  }

  private receive(s: string): void {
    this.text += s;
    for (const [marker, done] of this.waiters) {
      if (this.text.includes(marker)) {
        this.waiters.delete(marker);
        done();
      }
    }
    if (this.text.length > 4096) this.text = this.text.slice(-256);
  }

  private wait(marker: string, timeoutMs: number): Promise<boolean> {
    if (this.text.includes(marker)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.delete(marker);
        resolve(false);
      }, timeoutMs);
      this.waiters.set(marker, () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /** Starts the command loop. */
  start(intervalMs = 50, boundMs = 5000): void {
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        const token = `ck${this.id}x${++this.n}.`;
        const t0 = performance.now();
        this.transport.send(token);
        const answered = await this.wait(`echo: ${token}`, boundMs);
        const ms = performance.now() - t0;
        if (answered) this.latencies.push(ms);
        else this.misses.push(`${token} not answered within ${boundMs} ms${this.transport.closed ? " (connection closed)" : ""}`);
        await sleep(intervalMs);
      }
    })();
  }

  async stop(): Promise<CanaryStats> {
    this.running = false;
    await this.loop;
    return this.stats();
  }

  /** One more command, answered within `boundMs` (true) or not. */
  async probe(boundMs = 5000): Promise<boolean> {
    const token = `ck${this.id}x${++this.n}.`;
    this.transport.send(token);
    return this.wait(`echo: ${token}`, boundMs);
  }

  stats(): CanaryStats {
    return canaryStats(this.name, this.latencies, this.misses.length);
  }

  close(): void {
    this.running = false;
    this.transport.close();
  }
}

export interface ListenerSpec {
  plugin: string;
  config?: Record<string, unknown>;
}

export interface RigOptions {
  /** Telnet listener config laid over the rig's (the canary's listener, always started first). */
  telnet?: Record<string, unknown>;
  /** More listeners. */
  listeners?: ListenerSpec[];
  /** Portal config laid over the rig's, section by section (limits, link, plugins). */
  portal?: Record<string, Record<string, unknown>>;
  /** Run the echo game as a child process (default true); false leaves the link to the test. */
  game?: boolean;
}

/**
 * A real portal (bundled plugins, telnet on a free port first, then `listeners`) with the echo game
 * (test/fixtures/echo-game.ts, its `reload` word off) as a child process on the link.
 */
export class Rig {
  private constructor(
    readonly portal: Portal,
    readonly logger: CountingLogger,
    readonly dataDir: string,
    readonly game: GameProcess | undefined,
  ) {}

  static async start(options: RigOptions = {}): Promise<Rig> {
    const dataDir = mkdtempSync(join(tmpdir(), "portico-torture-"));
    const logger = new CountingLogger();
    const extra = options.portal ?? {};
    const portal = new Portal({
      config: {
        dataDir,
        ...extra,
        link: { port: 0, ...extra.link },
        limits: { maxConnectionRate: 0, ...extra.limits },
        listeners: [
          { plugin: "plugins.telnet.TelnetFactory", config: { host: "127.0.0.1", port: 0, ...options.telnet } },
          ...(options.listeners ?? []).map((l) => ({ plugin: l.plugin, config: { host: "127.0.0.1", port: 0, ...l.config } })),
        ],
      },
      plugins: bundledPlugins,
      logger,
    });
    try {
      await portal.start();
    } catch (err) {
      rmSync(dataDir, { recursive: true, force: true });
      throw err;
    }
    let game: GameProcess | undefined;
    if (options.game !== false) {
      game = GameProcess.start(portal.linkAddress!.port, dataDir, { PORTICO_ECHO_RELOAD: "0" });
      await game.waitForSync(1, 15_000);
    }
    return new Rig(portal, logger, dataDir, game);
  }

  /** The port of the (first) listener of plugin `path`. */
  port(path = "plugins.telnet.TelnetFactory"): number {
    const entry = this.portal.launcher.list().find((p) => p.path === path);
    if (!entry) throw new Error(`no listener ${path}`);
    return Number(entry.status.port);
  }

  /** `status().connections` of the listener of plugin `path` (open sockets). */
  connections(path = "plugins.telnet.TelnetFactory"): number {
    return Number(this.portal.launcher.list().find((p) => p.path === path)?.status.connections ?? 0);
  }

  /** The session handler's counters: inputs forwarded, output instructions dispatched, inputs refused. */
  get traffic(): { commandsIn: number; commandsOut: number; inputsRejected: number } {
    const { commandsIn, commandsOut, inputsRejected } = this.portal.handler.stats;
    return { commandsIn, commandsOut, inputsRejected };
  }

  /** Sessions the portal holds (logged in or not, bots included). */
  get sessions(): number {
    return this.portal.handler.count_loggedin(true);
  }

  /** Waits until the portal holds exactly `n` sessions. */
  async settleSessions(n: number, timeoutMs = 10_000): Promise<void> {
    await waitFor(() => this.sessions === n, timeoutMs, () => `sessions back to ${n} (now ${this.sessions}: ${JSON.stringify(this.portal.status().sessions)})`, 20);
  }

  async stop(): Promise<void> {
    await this.game?.kill();
    await this.portal.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** One target's figures, printed as a line and (with PORTICO_TORTURE_REPORT) appended to that file as JSON. */
export interface TortureSummary {
  target: string;
  form: "short" | "long";
  seed: number;
  cases: Record<string, number>;
  seconds: number;
  memory: { heapBeforeMb: number; heapAfterMb: number; peakHeapMb: number; rssBeforeMb: number; rssAfterMb: number; peakRssMb: number };
  canaries: CanaryStats[];
  notes: Record<string, unknown>;
}

/** Collects a target's counts; `finish()` prints and records the summary. */
export class TortureReport {
  readonly cases: Record<string, number> = {};
  readonly notes: Record<string, unknown> = {};
  private readonly t0 = performance.now();

  constructor(readonly target: string, readonly seed: number, readonly memory: MemoryWatch) {
    console.log(`    [${target}] ${LONG ? "long" : "short"} form, seed ${seed} (replay: ${replayHint(seed)})`);
  }

  count(kind: string, n = 1): void {
    this.cases[kind] = (this.cases[kind] ?? 0) + n;
  }

  get elapsedMs(): number {
    return performance.now() - this.t0;
  }

  async finish(canaries: CanaryStats[] = []): Promise<TortureSummary> {
    const seconds = Math.round(this.elapsedMs / 100) / 10;
    const after = this.memory.after ?? (await this.memory.finish());
    const m = this.memory;
    const summary: TortureSummary = {
      target: this.target, form: LONG ? "long" : "short", seed: this.seed, cases: { ...this.cases }, seconds,
      memory: {
        heapBeforeMb: m.before.heapMb, heapAfterMb: after.heapMb, peakHeapMb: m.peakHeapMb,
        rssBeforeMb: m.before.rssMb, rssAfterMb: after.rssMb, peakRssMb: m.peakRssMb,
      },
      canaries, notes: { ...this.notes },
    };
    console.log(`    [${this.target}] ${formatSummary(summary)}`);
    if (Object.keys(summary.notes).length > 0) console.log(`    [${this.target}] notes ${JSON.stringify(summary.notes)}`);
    const file = process.env.PORTICO_TORTURE_REPORT;
    if (file) appendFileSync(file, JSON.stringify(summary) + "\n");
    return summary;
  }
}

/** `cases 100000 (parser 100000), 41.2 s, heap 40.1 -> 41.0 MB (peak 120.3), rss ..., canary telnet p99 3.1 ms max 20.2 ms (1234 answers, 0 missed)`. */
export function formatSummary(s: TortureSummary): string {
  const total = Object.values(s.cases).reduce((a, b) => a + b, 0);
  const kinds = Object.entries(s.cases).map(([k, v]) => `${k} ${v}`).join(", ");
  const m = s.memory;
  const canaries = s.canaries.map((c) => `canary ${c.name} p99 ${c.p99} ms max ${c.max} ms (${c.n} answers, ${c.misses} missed)`).join("; ");
  return `cases ${total} (${kinds}), ${s.seconds} s, heap ${m.heapBeforeMb} -> ${m.heapAfterMb} MB (peak ${m.peakHeapMb}), rss ${m.rssBeforeMb} -> ${m.rssAfterMb} MB (peak ${m.peakRssMb})${canaries ? `, ${canaries}` : ""}`;
}

/**
 * What every live target asserts at the end: each canary got every answer and answers one more
 * command, nothing was logged at error level (but what `allowedError` matches), the echo game (if
 * any) still runs, and the heap grew less than `maxGrowthMb` (after `memory.finish()`).
 */
export async function expectUnharmed(rig: Rig, canaries: readonly Canary[], memory: MemoryWatch, maxGrowthMb = 48, allowedError?: (e: { msg: string; fields: string }) => boolean): Promise<void> {
  for (const c of canaries) expect(c.misses, `${c.name}: commands without an answer`).to.deep.equal([]);
  for (const c of canaries) expect(await c.probe(), `${c.name} answered after the fuzz`).to.equal(true);
  expect(rig.logger.errors(allowedError), "error log entries").to.deep.equal([]);
  if (rig.game) expect(rig.game.child.exitCode, "echo game still running").to.equal(null);
  expect(memory.heapGrowthMb, `heap growth (MB): ${memory.before.heapMb} -> ${memory.after?.heapMb}`).to.be.below(maxGrowthMb);
}
