import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { adminRequest } from "../../../core/cli/admin-client.js";
import { readLinkSecret } from "../../../core/state/data-dir.js";
import { waitFor } from "../../../core/testing/wait-for.js";
import { NatsServerProcess } from "../../support/nats-server.js";
import { NodeChild } from "../children.js";
import { makeTempDir, removeTempDir } from "../temp-dirs.js";
import type { ClientSpec } from "./line-clients.js";
import { raiseFdLimit, rssBytes } from "./process-info.js";

const here = dirname(fileURLToPath(import.meta.url));
export const PORTICO_BIN = join(here, "../../../core/cli/portico.js");
const ECHO_GAME = join(here, "../../fixtures/echo-game.js");
const NATS_ECHO_GAME = join(here, "nats-echo-game.js");

/** What the scenarios need of a server under load: where to connect and which processes to measure. */
export interface Target {
  readonly name: string;
  client(proto: "telnet" | "ws"): ClientSpec;
  /** The processes whose CPU is measured, by name ("portal", "game", or "server"). */
  pids(): Promise<Record<string, number>>;
  /** Memory of those processes now: RSS, and the portal's V8 heap where it reports it. */
  memory(): Promise<Record<string, number | undefined>>;
  /** Lets the server hold `n` open files; false (with why) when it cannot. */
  allowFiles(n: number): { ok: boolean; why?: string };
  close(): Promise<void>;
  /** Where clients connect when the sessions are split over several portals (evenly, in this order); else client() alone. */
  entries?(proto: "telnet" | "ws"): ClientSpec[];
  /** Running counters of the link (NATS: the game's messages and bytes through the broker, resends), read around a measurement. */
  counters?(): Promise<Record<string, number>>;
  /** Warn and error lines the target's processes have logged so far (the count, and the first few). */
  logProblems?(): { count: number; first: string[] };
}

/** The raw baseline server (baseline-server.ts) in a child process. */
export class BaselineTarget implements Target {
  readonly name: string;
  private port = 0;
  private constructor(private readonly proto: "tcp" | "ws", private readonly child: NodeChild) {
    this.name = proto === "tcp" ? "raw TCP" : "raw ws";
  }

  static async start(proto: "tcp" | "ws"): Promise<BaselineTarget> {
    const child = new NodeChild(`raw ${proto} server`, join(here, "baseline-server.js"), {}, ["--proto", proto]);
    const t = new BaselineTarget(proto, child);
    const [, port] = await child.waitFor(/^LISTENING (\d+)$/m, 10_000);
    t.port = Number(port);
    return t;
  }

  client(proto: "telnet" | "ws"): ClientSpec {
    if ((proto === "ws") !== (this.proto === "ws")) throw new Error(`the ${this.name} baseline does not speak ${proto}`);
    return proto === "ws" ? { proto, host: "127.0.0.1", port: this.port, path: "/", format: "raw" } : { proto, host: "127.0.0.1", port: this.port };
  }

  async pids(): Promise<Record<string, number>> {
    return { server: this.child.pid! };
  }

  async memory(): Promise<Record<string, number | undefined>> {
    return { serverRss: rssBytes(this.child.pid) };
  }

  allowFiles(n: number): { ok: boolean; why?: string } {
    return raiseFdLimit(this.child.pid!, n);
  }

  close(): Promise<void> {
    return this.child.kill();
  }
}

interface RuntimeInfo {
  listeners: { plugin: string; port: number }[];
  admin: { host: string; port: number };
}

/** How a PorticoTarget links to its game: the TCP link with the supervised echo game (default), or over NATS with no game of its own. */
export interface PorticoOptions {
  name?: string;
  nats?: { url: string; prefix: string };
}

/**
 * A real `portico start` in a child process, as an operator runs it: default config except free
 * ports on 127.0.0.1, the throttles off (limits.maxConnectionRate and maxCommandRate 0, so the
 * generator's one machine is not refused) and the echo game (test/fixtures/echo-game.ts, with
 * its `fanout` word) as the supervised game; or, with `nats`, link.transport "nats" and
 * game.enabled false (the game is started apart, see NatsTarget).
 */
export class PorticoTarget implements Target {
  readonly name: string;
  private readonly dir = makeTempDir("portico-bench-real-");
  private readonly dataDir = join(this.dir, "data");
  private readonly configPath = join(this.dir, "portico.config.json");
  private runtime: RuntimeInfo | undefined;
  private child: NodeChild | undefined;
  private secret = "";

  private constructor(private readonly options: PorticoOptions) {
    this.name = options.name ?? "Portico";
  }

  static start(options: PorticoOptions = {}): Promise<PorticoTarget> {
    const t = new PorticoTarget(options);
    return booted(t, () => t.boot());
  }

  get portalPid(): number {
    return this.child!.pid!;
  }

  /** Resolves once the portal logged that a game linked to it over NATS. */
  async linked(timeoutMs: number): Promise<void> {
    await this.child!.waitFor(/"msg":"game linked over NATS"/, timeoutMs);
  }

  logProblems(): { count: number; first: string[] } {
    return { count: this.child?.problemCount ?? 0, first: this.child?.problems.slice(0, 5) ?? [] };
  }

  private async boot(): Promise<void> {
    const nats = this.options.nats;
    writeFileSync(this.configPath, JSON.stringify({
      dataDir: this.dataDir,
      limits: { maxCommandRate: 0, maxConnectionRate: 0 },
      link: nats ? { transport: "nats", nats: { servers: [nats.url], prefix: nats.prefix } } : { port: 0 },
      admin: { port: 0 },
      game: nats ? { enabled: false } : { entry: ECHO_GAME },
      listeners: [
        { plugin: "plugins.telnet.TelnetFactory", config: { host: "127.0.0.1", port: 0 } },
        // The per-connection frame limit (default 100/s, a player's pace) would close a closed-loop client.
        { plugin: "plugins.websocket.WebsocketFactory", config: { host: "127.0.0.1", port: 0, maxFramesPerSecond: 100_000 } },
      ],
    }));
    this.child = new NodeChild("portico start", PORTICO_BIN, { PORTICO_CONFIG: this.configPath, PORTICO_ECHO_FANOUT: "1" }, ["start"]);
    if (!nats) await this.child.waitFor(/"msg":"game connected to the link"/, 30_000);
    const runtimeFile = join(this.dataDir, "portico.runtime.json");
    this.runtime = await waitFor(() => {
      try {
        return JSON.parse(readFileSync(runtimeFile, "utf8")) as RuntimeInfo;
      } catch {
        return undefined;
      }
    }, 10_000, () => "the portal's runtime file");
    this.secret = readLinkSecret(this.dataDir);
  }

  client(proto: "telnet" | "ws"): ClientSpec {
    const plugin = proto === "telnet" ? "plugins.telnet.TelnetFactory" : "plugins.websocket.WebsocketFactory";
    const port = this.runtime!.listeners.find((l) => l.plugin === plugin)!.port;
    return proto === "ws" ? { proto, host: "127.0.0.1", port, path: "/ws", format: "v1" } : { proto, host: "127.0.0.1", port };
  }

  status(): Promise<Record<string, unknown>> {
    return adminRequest(this.runtime!.admin, this.secret, "GET", "/status") as Promise<Record<string, unknown>>;
  }

  async pids(): Promise<Record<string, number>> {
    const game = (await this.status()).game as { pid?: number } | undefined;
    if (!game?.pid) throw new Error("the portal reports no game pid");
    return { portal: this.child!.pid!, game: game.pid };
  }

  /** RSS of portal and game, and the portal's V8 heap in use (from /metrics). */
  async memory(): Promise<Record<string, number | undefined>> {
    const pids = await this.pids();
    const metrics = String(await adminRequest(this.runtime!.admin, this.secret, "GET", "/metrics"));
    const heap = /^portico_nodejs_heap_size_used_bytes (\d+)/m.exec(metrics);
    return { portalRss: rssBytes(pids.portal), portalHeapUsed: heap ? Number(heap[1]) : undefined, gameRss: rssBytes(pids.game) };
  }

  allowFiles(n: number): { ok: boolean; why?: string } {
    return raiseFdLimit(this.child!.pid!, n);
  }

  /** Runs `portico reload` (the CLI, a process of its own) and resolves when it exits. */
  reload(): Promise<{ code: number | null; ms: number; output: string }> {
    const t0 = Date.now();
    return new Promise((resolve) => {
      execFile(process.execPath, [PORTICO_BIN, "reload"], { env: { ...process.env, PORTICO_CONFIG: this.configPath }, timeout: 60_000 }, (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === "number" ? ((err as { code: number }).code) : 1) : 0;
        resolve({ code, ms: Date.now() - t0, output: (stdout + stderr).trim() });
      });
    });
  }

  async close(): Promise<void> {
    try {
      await this.child?.kill(15_000);
    } finally {
      removeTempDir(this.dir);
    }
  }
}

/**
 * The link over NATS: a real nats-server (test/support/nats-server.ts, no auth), `portals` ×
 * `portico start` (link.transport "nats", game.enabled false) and one echo game process
 * (nats-echo-game.ts) serving all of them. Sessions are split evenly over the portals (entries());
 * CPU is measured for the first portal ("portal"), the others ("portal2", ...), the game and the
 * nats-server ("nats"). close() ends every process it started, also after a failed start.
 */
export class NatsTarget implements Target {
  readonly name: string;
  private broker: NatsServerProcess | undefined;
  private readonly portals: PorticoTarget[] = [];
  private game: NodeChild | undefined;
  private statsAsked = 0;

  private constructor(private readonly portalCount: number) {
    this.name = portalCount === 1 ? "Portico (NATS link)" : `Portico (NATS link, ${portalCount} portals)`;
  }

  static start(portals: number): Promise<NatsTarget> {
    const t = new NatsTarget(portals);
    return booted(t, () => t.boot());
  }

  private async boot(): Promise<void> {
    this.broker = await NatsServerProcess.start();
    const nats = { url: this.broker.url, prefix: "bench" };
    for (let i = 0; i < this.portalCount; i += 1) this.portals.push(await PorticoTarget.start({ nats }));
    this.game = new NodeChild("NATS echo game", NATS_ECHO_GAME, { PORTICO_BENCH_NATS: nats.url, PORTICO_BENCH_PREFIX: nats.prefix });
    await Promise.all(this.portals.map((p) => p.linked(30_000)));
  }

  client(proto: "telnet" | "ws"): ClientSpec {
    return this.portals[0]!.client(proto);
  }

  entries(proto: "telnet" | "ws"): ClientSpec[] {
    return this.portals.map((p) => p.client(proto));
  }

  async pids(): Promise<Record<string, number>> {
    const pids: Record<string, number> = {};
    this.portals.forEach((p, i) => (pids[i === 0 ? "portal" : `portal${i + 1}`] = p.portalPid));
    return { ...pids, game: this.game!.pid!, nats: this.broker!.pid! };
  }

  async memory(): Promise<Record<string, number | undefined>> {
    const rss = Object.entries(await this.pids()).map(([k, pid]) => [`${k}Rss`, rssBytes(pid)]);
    return Object.fromEntries(rss) as Record<string, number | undefined>;
  }

  allowFiles(n: number): { ok: boolean; why?: string } {
    const refused = this.portals.map((p) => p.allowFiles(n)).find((r) => !r.ok);
    return refused ?? { ok: true };
  }

  /** The game's counters (see nats-echo-game.ts): NATS messages and bytes in and out, epoch resends, echoes, announces. */
  async counters(): Promise<Record<string, number>> {
    const k = (this.statsAsked += 1);
    this.game!.proc.stdin!.write(`stats ${k}\n`);
    const [, json] = await this.game!.waitFor(new RegExp(`^STATS ${k} (.*)$`, "m"), 5000);
    return JSON.parse(json!) as Record<string, number>;
  }

  logProblems(): { count: number; first: string[] } {
    const all = [...this.portals.map((p) => p.logProblems()), { count: this.game?.problemCount ?? 0, first: this.game?.problems.slice(0, 5) ?? [] }];
    return { count: all.reduce((n, p) => n + p.count, 0), first: all.flatMap((p) => p.first).slice(0, 5) };
  }

  async close(): Promise<void> {
    try {
      await this.game?.kill(5000);
    } finally {
      try {
        for (const p of this.portals.splice(0)) await p.close().catch(() => undefined);
      } finally {
        await this.broker?.dispose();
      }
    }
  }
}

/** Resolves with `target` once `boot` is done; if it fails, closes what it started and rethrows. */
async function booted<T extends { close(): Promise<void> }>(target: T, boot: () => Promise<void>): Promise<T> {
  try {
    await boot();
  } catch (err) {
    await target.close();
    throw err;
  }
  return target;
}
