// Shared by the abuse and soak torture tests (test/torture/abuse-*.test.ts, soak-*.test.ts): a real
// `portico start` in a child process (probed for heap-after-GC, active handles/timers and file
// descriptors), loopback clients bound to addresses spread over 127.0.0.0/8, logged-in players of the
// default game, and the figures each test prints.
//
// Short form by default (seconds, inside `npm test`); PORTICO_TORTURE=long runs the full numbers.
// PORTICO_TORTURE_NOTES=<file> also appends every printed figure line to that file.
import { spawn, type ChildProcess } from "node:child_process";
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { get as httpGet } from "node:http";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { WebSocket } from "ws";
import { sleep, waitFor } from "../../core/testing/wait-for.js";
import { PORTICO_BIN, runCli, type CliResult } from "../support/portico-process.js";
import { fdCount, fdLimit, procMemory } from "../support/proc-info.js";
import { TelnetTestClient } from "../support/telnet-client.js";

export const LONG = process.env.PORTICO_TORTURE === "long";
export const FORM = LONG ? "long" : "short";

/** `short` inside `npm test`, `long` with PORTICO_TORTURE=long. */
export function scale<T>(short: T, long: T): T {
  return LONG ? long : short;
}

const PROBE = fileURLToPath(new URL("./abuse-probe.js", import.meta.url));
const TELNET = "plugins.telnet.TelnetFactory";
const WEB = "plugins.websocket.WebsocketFactory";

// ---------------------------------------------------------------- figures

function show(v: unknown): string {
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2);
  return typeof v === "string" ? v : JSON.stringify(v);
}

/** Prints one line of measured figures (and appends it to PORTICO_TORTURE_NOTES when set). */
export function report(title: string, figures: Record<string, unknown>): void {
  const line = `${title}: ${Object.entries(figures).map(([k, v]) => `${k}=${show(v)}`).join(", ")}`;
  // eslint-disable-next-line no-console
  console.log(`      [torture ${FORM}] ${line}`);
  const notes = process.env.PORTICO_TORTURE_NOTES;
  if (notes) appendFileSync(notes, `${new Date().toISOString()} [${FORM}] ${line}\n`);
}

export const MB = 1024 * 1024;
export const mb = (bytes: number): number => Math.round((bytes / MB) * 10) / 10;

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

// ---------------------------------------------------------------- addresses

/**
 * The i-th client address of a test: 127.<block + i / 64516>.<1..254>.<1..254>. Each test uses its own
 * block, so leftover TIME_WAIT sockets of one test never collide with the next; every address gets its
 * own ephemeral port range, so 10 000s of connections do not exhaust it.
 */
export function addressAt(block: number, i: number): string {
  return `127.${block + Math.floor(i / 64516)}.${1 + (Math.floor(i / 254) % 254)}.${1 + (i % 254)}`;
}

// ---------------------------------------------------------------- /proc

// The /proc readers live in test/support/proc-info.ts (the benchmark uses them too).
export { fdCount, fdLimit, procMemory };

// ---------------------------------------------------------------- the portal

export interface Probe {
  seq: number;
  pid: number;
  gc: boolean;
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  resources: Record<string, number>;
  fds: number;
}


/** A telnet and a websocket listener on 127.0.0.1, free ports, with `telnet` / `web` laid over. */
export function listeners(telnet: Record<string, unknown> | null = {}, web: Record<string, unknown> | null = {}): Record<string, unknown>[] {
  return [
    ...(telnet ? [{ plugin: TELNET, config: { host: "127.0.0.1", port: 0, ...telnet } }] : []),
    ...(web ? [{ plugin: WEB, config: { host: "127.0.0.1", port: 0, webclient: false, ...web } }] : []),
  ];
}

/**
 * `portico start` (the default game, supervised) in a fresh directory with `config`, run as
 * `node --expose-gc --import abuse-probe.js`, its log kept as a tail plus counters, so 100 000s of
 * lines cost nothing.
 */
/** The environment without PORTICO_* variables: a test portal gets only the settings its test gives it. */
export function envWithoutPortico(): Record<string, string> {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("PORTICO_"))) as Record<string, string>;
}

/** Waits until a started portal is ready; kills it if it never is. */
export async function readyOrKill<P extends { ready(): Promise<unknown>; kill(): Promise<unknown> }>(p: P): Promise<P> {
  try {
    await p.ready();
  } catch (err) {
    await p.kill();
    throw err;
  }
  return p;
}

export class TorturePortal {
  readonly tail: string[] = [];
  readonly probes: Probe[] = [];
  /** Probe lines of the game process (relayed through the portal's log). */
  readonly gameProbes: Probe[] = [];
  lines = 0;
  /** Log lines counted by their "msg" (every line) and their "code" (lines that have one). */
  readonly byMsg = new Map<string, number>();
  readonly byCode = new Map<string, number>();
  readonly exited: Promise<number | null>;
  telnetPort = 0;
  webPort = 0;
  adminPort = 0;
  secret = "";
  private readonly watchers: { re: RegExp; resolve: (line: string) => void }[] = [];

  private constructor(readonly child: ChildProcess, readonly cwd: string) {
    this.exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
    for (const stream of [child.stdout, child.stderr]) {
      let partial = "";
      stream!.setEncoding("utf8");
      stream!.on("data", (chunk: string) => {
        const parts = (partial + chunk).split("\n");
        partial = parts.pop() ?? "";
        for (const l of parts) this.onLine(l);
      });
    }
  }

  static async start(config: Record<string, unknown>, env: Record<string, string> = {}): Promise<TorturePortal> {
    const cwd = mkdtempSync(join(tmpdir(), "portico-torture-"));
    const full = { serverName: "Torture", link: { port: 0 }, admin: { port: 0 }, ...config };
    writeFileSync(join(cwd, "portico.config.json"), JSON.stringify(full, null, 2));
    const clean = envWithoutPortico();
    // NODE_OPTIONS, not argv: the game process inherits it, so it can be probed too
    const child = spawn(process.execPath, ["--expose-gc", "--enable-source-maps", PORTICO_BIN, "start"], {
      cwd, env: { ...clean, NODE_OPTIONS: `--import=${PROBE}`, ...env }, stdio: ["ignore", "pipe", "pipe"],
    });
    return readyOrKill(new TorturePortal(child, cwd));
  }

  get pid(): number {
    return this.child.pid!;
  }

  private onLine(line: string): void {
    if (line.startsWith("PORTICO-PROBE ")) {
      this.probes.push(JSON.parse(line.slice("PORTICO-PROBE ".length)) as Probe);
      return;
    }
    if (line.startsWith("{") && line.includes("PORTICO-PROBE ")) {
      const msg = String((JSON.parse(line) as { msg?: unknown }).msg ?? "");
      if (msg.startsWith("PORTICO-PROBE ")) this.gameProbes.push(JSON.parse(msg.slice("PORTICO-PROBE ".length)) as Probe);
      return;
    }
    this.lines += 1;
    this.tail.push(line);
    if (this.tail.length > 3000) this.tail.splice(0, 1000);
    if (line.startsWith("{")) {
      const msg = /"msg":"((?:[^"\\]|\\.)*)"/.exec(line)?.[1];
      const code = /"code":"([A-Z_]+)"/.exec(line)?.[1];
      if (msg !== undefined) this.byMsg.set(msg, (this.byMsg.get(msg) ?? 0) + 1);
      if (code !== undefined) this.byCode.set(code, (this.byCode.get(code) ?? 0) + 1);
    }
    for (let i = this.watchers.length - 1; i >= 0; i--) {
      if (this.watchers[i]!.re.test(line)) {
        this.watchers[i]!.resolve(line);
        this.watchers.splice(i, 1);
      }
    }
  }

  /** Resolves with the next log line matching `re` (or one already in the tail). */
  waitForLog(re: RegExp, timeoutMs = 15_000): Promise<string> {
    const seen = this.tail.find((l) => re.test(l));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const w = { re, resolve: (l: string) => { clearTimeout(t); resolve(l); } };
      const t = setTimeout(() => {
        this.watchers.splice(this.watchers.indexOf(w), 1);
        reject(new Error(`no log line matching ${String(re)} within ${timeoutMs} ms; last lines: ${this.tail.slice(-8).join("\n")}`));
      }, timeoutMs);
      this.watchers.push(w);
    });
  }

  msgCount(msg: string): number {
    return this.byMsg.get(msg) ?? 0;
  }

  codeCount(code: string): number {
    return this.byCode.get(code) ?? 0;
  }

  async ready(): Promise<void> {
    const runtimeFile = join(this.cwd, "data", "portico.runtime.json");
    await waitFor(() => {
      if (this.child.exitCode !== null) throw new Error(`portico exited with ${this.child.exitCode}: ${this.tail.slice(-10).join("\n")}`);
      return existsSync(runtimeFile) && this.tail.some((l) => l.includes("portico is running"));
    }, 20_000, () => `portico running (last lines: ${this.tail.slice(-10).join("\n")})`, 50);
    if (this.child.exitCode !== null) throw new Error(`portico exited: ${this.tail.slice(-10).join("\n")}`);
    const info = JSON.parse(readFileSync(runtimeFile, "utf8")) as { admin: { port: number }; listeners: { plugin: string; port: number }[] };
    this.adminPort = info.admin.port;
    this.telnetPort = info.listeners.find((l) => l.plugin === TELNET)?.port ?? 0;
    this.webPort = info.listeners.find((l) => l.plugin === WEB)?.port ?? 0;
    this.secret = readFileSync(join(this.cwd, "data", "link.secret"), "utf8").trim();
    // the default game linked and ready for players
    await waitFor(async () => (await this.admin("/readyz")).status === 200, 20_000, "the game linked (/readyz)", 100);
  }

  /**
   * A GET on the admin endpoint on a connection of its own, closed after the answer (no keep-alive
   * connection is left in the portal to count among its handles and fds).
   */
  admin(path: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = httpGet({ host: "127.0.0.1", port: this.adminPort, path, agent: false, headers: { connection: "close", authorization: `Bearer ${this.secret}` } }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        res.on("error", reject);
      });
      req.on("error", reject);
      req.setTimeout(10_000, () => req.destroy(new Error(`admin ${path} timed out`)));
    });
  }

  /** The admin /status answer. */
  async status(): Promise<PortalStatus> {
    const r = await this.admin("/status");
    if (r.status !== 200) throw new Error(`/status answered ${r.status}`);
    return JSON.parse(r.body) as PortalStatus;
  }

  async metrics(): Promise<string> {
    return (await this.admin("/metrics")).body;
  }

  /** `portico status --json` through the CLI (what an operator sees). */
  cliStatus(): Promise<CliResult> {
    return runCli(["status", "--json"], this.cwd, {}, 20_000);
  }

  /** Full GC in the portal, then its heap, active handles/timers and fds (see abuse-probe.ts). */
  async probe(): Promise<Probe> {
    const n = this.probes.length;
    this.child.kill("SIGUSR2");
    await waitFor(() => this.probes.length > n, 15_000, "the portal's probe line", 10);
    return this.probes[this.probes.length - 1]!;
  }

  /** The same in the game process. */
  async probeGame(): Promise<Probe> {
    const pid = (await this.status()).game?.pid;
    if (!pid) throw new Error("no game pid in /status");
    const n = this.gameProbes.length;
    process.kill(pid, "SIGUSR2");
    await waitFor(() => this.gameProbes.length > n, 15_000, "the game's probe line", 10);
    return this.gameProbes[this.gameProbes.length - 1]!;
  }

  /** Probes until two probes in a row agree on handles and fds (things settling after a test). */
  async settledProbe(timeoutMs = 20_000): Promise<Probe> {
    const deadline = Date.now() + timeoutMs;
    let last = await this.probe();
    for (;;) {
      await sleep(500);
      const next = await this.probe();
      const same = next.fds === last.fds && JSON.stringify(next.resources) === JSON.stringify(last.resources);
      last = next;
      if (same || Date.now() > deadline) return next;
    }
  }

  memory(): { rss: number; peak: number } {
    return procMemory(this.pid);
  }

  /** The game process: its pid, RSS and fds. */
  async game(): Promise<{ pid: number; rss: number; fds: number }> {
    const pid = (await this.status()).game?.pid;
    if (!pid) throw new Error("no game pid in /status");
    return { pid, rss: procMemory(pid).rss, fds: fdCount(pid) };
  }

  /** Sessions the portal has (all protocols). */
  async sessions(): Promise<number> {
    return (await this.status()).sessions.total;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill("SIGTERM");
      const done = await Promise.race([this.exited.then(() => true), sleep(10_000).then(() => false)]);
      if (!done) await this.kill();
    }
    rmSync(this.cwd, { recursive: true, force: true });
  }

  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
    await this.exited;
    rmSync(this.cwd, { recursive: true, force: true });
  }
}

export interface PortalStatus {
  pid: number;
  sessions: { total: number; logged_in: number; by_protocol: Record<string, number> };
  queued_connections: number;
  game: { pid: number | null; state: string } | null;
  plugins: { path: string; status: Record<string, unknown> }[];
}

/** The websocket listener's status (sessions, detached) from /status. */
export function webStatus(s: PortalStatus): { sessions: number; detached: number } {
  const p = s.plugins.find((x) => x.path === WEB);
  return { sessions: Number(p?.status.sessions ?? 0), detached: Number(p?.status.detached ?? 0) };
}

/** One value of a Prometheus metric (the first sample whose labels include `labels`). */
export function metric(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = m[2] ?? "";
    if (Object.entries(labels).every(([k, v]) => got.includes(`${k}="${v}"`))) return Number(m[3]);
  }
  return NaN;
}

// ---------------------------------------------------------------- raw clients

/** A TCP client that records what it hears (the first `keep` bytes as latin-1 text) and when it closed. */
export class RawConn {
  text = "";
  bytes = 0;
  closed = false;
  connectedAt = 0;
  closedAt = 0;
  error: string | undefined;

  private constructor(readonly socket: Socket, readonly address: string | undefined, private readonly keep: number) {
    socket.on("data", (b: Buffer) => {
      this.bytes += b.length;
      if (this.text.length < this.keep) this.text += b.toString("latin1");
    });
    socket.on("close", () => {
      this.closed = true;
      this.closedAt = performance.now();
    });
  }

  static open(port: number, localAddress?: string, keep = 8192, timeoutMs = 10_000): Promise<RawConn> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: "127.0.0.1", port, ...(localAddress ? { localAddress } : {}) });
      const c = new RawConn(socket, localAddress, keep);
      const timer = setTimeout(() => socket.destroy(new Error(`connect timed out after ${timeoutMs} ms`)), timeoutMs);
      socket.once("error", (err) => {
        clearTimeout(timer);
        c.error = err.message;
        reject(err);
      });
      socket.once("connect", () => {
        clearTimeout(timer);
        c.connectedAt = performance.now();
        socket.removeAllListeners("error");
        socket.on("error", (err) => (c.error ??= err.message));
        resolve(c);
      });
    });
  }

  has(s: string): boolean {
    return this.text.includes(s);
  }

  write(data: string | Buffer): void {
    if (!this.closed && !this.socket.destroyed) this.socket.write(data);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Runs `task(i)` for i in [0, n) with at most `concurrency` at once; resolves with the results in order. */
export async function pool<T>(n: number, concurrency: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out = new Array<T>(n);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < n; i = next++) out[i] = await task(i);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  return out;
}

// ---------------------------------------------------------------- players of the default game

export const PASSWORD = "torture-pw-1";
export const banner = (serverName = "Torture") => `Welcome to ${serverName}!`;

/** A logged-in telnet player of the default game (a TelnetTestClient bound to `address`). */
export class TelnetPlayer {
  private seq = 0;
  readonly rtts: number[] = [];

  private constructor(readonly client: TelnetTestClient, readonly name: string) {}

  static async login(port: number, address: string, name: string, timeoutMs = 15_000): Promise<TelnetPlayer & { bannerMs: number }> {
    const t0 = performance.now();
    const client = await TelnetTestClient.open(port, "127.0.0.1", timeoutMs, address);
    await client.waitForLine(banner(), timeoutMs);
    const bannerMs = performance.now() - t0;
    client.send(`create ${name} ${PASSWORD}`);
    await client.waitForLine(`Account ${name} created.`, timeoutMs);
    return Object.assign(new TelnetPlayer(client, name), { bannerMs });
  }

  get closed(): boolean {
    return this.client.closed;
  }

  /** Says a unique word and waits for "You say, ..." back; the round trip in ms. */
  async ping(timeoutMs = 10_000): Promise<number> {
    const word = `${this.name}-ping-${++this.seq}`;
    const from = this.client.lines.length;
    const t0 = performance.now();
    this.client.send(`say ${word}`);
    await this.client.waitForLine(`You say, "${word}"`, timeoutMs, from);
    const rtt = performance.now() - t0;
    this.rtts.push(rtt);
    return rtt;
  }

  send(line: string): void {
    this.client.send(line);
  }

  close(): void {
    this.client.close();
  }
}

/** v1 text is HTML: tags removed, the entities the renderer writes decoded. */
function htmlToText(html: string): string {
  return html.replace(/<br>/g, "\n").replace(/<[^>]*>/g, "")
    .replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&nbsp;/g, " ").replace(/&amp;/g, "&");
}

/** A logged-in web player of the default game (v1.evennia.com over `ws`, bound to `address`). */
export class WebPlayer {
  readonly texts: string[] = [];
  closed = false;
  closeCode = 0;
  private seq = 0;
  readonly rtts: number[] = [];

  private constructor(readonly ws: WebSocket, readonly name: string) {
    ws.on("message", (data: Buffer, binary: boolean) => {
      if (binary) return;
      try {
        const m = JSON.parse(data.toString("utf8")) as unknown;
        if (Array.isArray(m) && (m[0] === "text" || m[0] === "prompt")) this.texts.push(htmlToText(String((m[1] as unknown[])[0])));
      } catch {
        /* not JSON */
      }
    });
    ws.on("error", () => undefined);
    ws.on("close", (code: number) => {
      this.closed = true;
      this.closeCode = code;
    });
  }

  static connect(port: number, address: string, timeoutMs = 10_000): Promise<WebSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, ["v1.evennia.com"], { localAddress: address, perMessageDeflate: false, handshakeTimeout: timeoutMs });
      ws.once("open", () => resolve(ws));
      ws.once("error", reject);
      ws.once("unexpected-response", (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
  }

  static async login(port: number, address: string, name: string, timeoutMs = 15_000): Promise<WebPlayer & { bannerMs: number }> {
    const t0 = performance.now();
    const p = new WebPlayer(await WebPlayer.connect(port, address, timeoutMs), name);
    await p.waitText(banner(), timeoutMs);
    const bannerMs = performance.now() - t0;
    p.send(`create ${name} ${PASSWORD}`);
    await p.waitText(`Account ${name} created.`, timeoutMs);
    return Object.assign(p, { bannerMs });
  }

  send(line: string): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(["text", [line], {}]));
  }

  async waitText(s: string, timeoutMs = 10_000, from = 0): Promise<void> {
    await waitFor(() => {
      for (let i = from; i < this.texts.length; i++) if (this.texts[i]!.includes(s)) return true;
      return false;
    }, timeoutMs, () => `web text ${JSON.stringify(s)} (last: ${JSON.stringify(this.texts.slice(-4))})`);
  }

  async ping(timeoutMs = 10_000): Promise<number> {
    const word = `${this.name}-ping-${++this.seq}`;
    const from = this.texts.length;
    const t0 = performance.now();
    this.send(`say ${word}`);
    await this.waitText(`You say, "${word}"`, timeoutMs, from);
    const rtt = performance.now() - t0;
    this.rtts.push(rtt);
    return rtt;
  }

  /** Stops reading: the underlying socket is paused (the server's output piles up, its pings go unanswered). */
  stopReading(): void {
    (this.ws as unknown as { _socket: Socket })._socket.pause();
  }

  resumeReading(): void {
    (this.ws as unknown as { _socket: Socket })._socket.resume();
  }

  close(): void {
    this.ws.terminate();
  }
}

/**
 * Pings with `player` every `everyMs` until `stop()`; collects round trips and failures. A canary: it
 * shows whether players are still served while something else goes on.
 */
export function canary(player: { ping(timeoutMs?: number): Promise<number> }, everyMs: number, timeoutMs = 10_000): { rtts: number[]; failures: string[]; stop(): Promise<void> } {
  const rtts: number[] = [];
  const failures: string[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        rtts.push(await player.ping(timeoutMs));
      } catch (err) {
        failures.push((err as Error).message.slice(0, 200));
      }
      await sleep(everyMs);
    }
  })();
  return {
    rtts, failures,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}
