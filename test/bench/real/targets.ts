import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { adminRequest } from "../../../core/cli/admin-client.js";
import { readLinkSecret } from "../../../core/state/data-dir.js";
import { waitFor } from "../../../core/testing/wait-for.js";
import { NodeChild } from "../children.js";
import { makeTempDir, removeTempDir } from "../temp-dirs.js";
import type { ClientSpec } from "./line-clients.js";
import { raiseFdLimit, rssBytes } from "./process-info.js";

const here = dirname(fileURLToPath(import.meta.url));
export const PORTICO_BIN = join(here, "../../../core/cli/portico.js");
const ECHO_GAME = join(here, "../../fixtures/echo-game.js");

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

/**
 * A real `portico start` in a child process, as an operator runs it: default config except free
 * ports on 127.0.0.1, the throttles off (limits.maxConnectionRate and maxCommandRate 0, so the
 * generator's one machine is not refused) and the echo game (test/fixtures/echo-game.ts, with
 * its `fanout` word) as the supervised game.
 */
export class PorticoTarget implements Target {
  readonly name = "Portico";
  private readonly dir = makeTempDir("portico-bench-real-");
  private readonly dataDir = join(this.dir, "data");
  private readonly configPath = join(this.dir, "portico.config.json");
  private runtime: RuntimeInfo | undefined;
  private child: NodeChild | undefined;
  private secret = "";

  static async start(): Promise<PorticoTarget> {
    const t = new PorticoTarget();
    try {
      await t.boot();
    } catch (err) {
      await t.close();
      throw err;
    }
    return t;
  }

  private async boot(): Promise<void> {
    writeFileSync(this.configPath, JSON.stringify({
      dataDir: this.dataDir,
      limits: { maxCommandRate: 0, maxConnectionRate: 0 },
      link: { port: 0 },
      admin: { port: 0 },
      game: { entry: ECHO_GAME },
      listeners: [
        { plugin: "plugins.telnet.TelnetFactory", config: { host: "127.0.0.1", port: 0 } },
        // The per-connection frame limit (default 100/s, a player's pace) would close a closed-loop client.
        { plugin: "plugins.websocket.WebsocketFactory", config: { host: "127.0.0.1", port: 0, maxFramesPerSecond: 100_000 } },
      ],
    }));
    this.child = new NodeChild("portico start", PORTICO_BIN, { PORTICO_CONFIG: this.configPath, PORTICO_ECHO_FANOUT: "1" }, ["start"]);
    await this.child.waitFor(/"msg":"game connected to the link"/, 30_000);
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
