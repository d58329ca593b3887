import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, waitForPort } from "./ngircd.js";

/**
 * A real NATS server for integration tests: Debian's nats-server (2.9.10, installed by
 * test/ensure-peers.mjs) in the foreground on 127.0.0.1, from a generated config in a temp dir.
 * No JetStream, no monitoring port, no log file: its log (stderr) is kept as a 200-line tail.
 */

export const NATS_SERVER_BIN = "/usr/sbin/nats-server";
const READY_TIMEOUT_MS = 10_000;
const BIND_RETRY_MS = 5_000;
const LOG_TAIL_LINES = 200;
/** Children still running: SIGKILLed if the test process exits without disposing them. */
const running = new Set<ChildProcess>();
process.once("exit", () => running.forEach((child) => child.kill("SIGKILL")));

/** `user`+`password` or `token` for `authorization`; `maxPayloadBytes` default 8 MiB; `port` default a free one. */
export interface NatsServerOptions {
  user?: string;
  password?: string;
  token?: string;
  maxPayloadBytes?: number;
  port?: number;
  /** The inside of an `authorization { ... }` block as written (users with permissions), instead of user/password/token. */
  authorization?: string;
  /** PEM files: clients must then connect with TLS; with `verify`, also present a certificate signed by `caFile`. */
  tls?: { certFile: string; keyFile: string; caFile?: string; verify?: boolean };
}

export class NatsServerProcess {
  private child: ChildProcess | undefined;
  private logTail: string[] = [];
  private disposed = false;

  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly confPath: string,
  ) {}

  /** Writes the config, spawns nats-server and resolves once it is ready. */
  static async start(opts: NatsServerOptions = {}): Promise<NatsServerProcess> {
    if (!existsSync(NATS_SERVER_BIN)) throw new Error("nats-server is not installed: run apt-get install -y nats-server");
    const port = opts.port ?? (await freePort());
    const dir = mkdtempSync(join(tmpdir(), "portico-nats-"));
    const confPath = join(dir, "nats-server.conf");
    writeFileSync(confPath, renderConfig(port, opts));
    const server = new NatsServerProcess(port, dir, confPath);
    await server.launch().catch(async (err: unknown) => {
      await server.dispose();
      throw err;
    });
    return server;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** The running process's pid (undefined while stopped). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The last lines nats-server logged (its stderr). */
  get log(): string {
    return this.logTail.join("\n");
  }

  /** SIGTERM (SIGKILL after 3 s) and wait for the exit. Idempotent. */
  stop(): Promise<void> {
    return this.halt("SIGTERM");
  }

  /** SIGKILL and wait for the exit. Idempotent. */
  kill(): Promise<void> {
    return this.halt("SIGKILL");
  }

  /** stop(), wait `downMs`, start again on the same port with the same config. */
  async restart(downMs = 0): Promise<void> {
    await this.stop();
    if (downMs > 0) await delay(downMs);
    const deadline = Date.now() + BIND_RETRY_MS;
    for (;;) {
      try {
        return await this.launch();
      } catch (err) {
        // The port may linger briefly after the old process (EADDRINUSE): retry until the deadline.
        if (Date.now() > deadline || !/address already in use/i.test(this.log)) throw err;
        await delay(200);
      }
    }
  }

  /** stop() and remove the temp dir. Idempotent. */
  async dispose(): Promise<void> {
    await this.stop();
    if (!this.disposed) rmSync(this.dir, { recursive: true, force: true });
    this.disposed = true;
  }

  private async launch(): Promise<void> {
    if (this.disposed) throw new Error("NatsServerProcess is disposed");
    this.logTail = [];
    const proc = spawn(NATS_SERVER_BIN, ["-c", this.confPath], { stdio: ["ignore", "ignore", "pipe"] });
    this.child = proc;
    running.add(proc);
    let ready = false;
    let exited = false;
    let partial = "";
    proc.stderr?.setEncoding("utf8");
    proc.stderr?.on("data", (chunk: string) => {
      const lines = (partial + chunk).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) this.pushLog(line);
      if (lines.some((l) => l.includes("Server is ready"))) ready = true;
    });
    proc.once("exit", (code, signal) => {
      exited = true;
      running.delete(proc);
      this.pushLog(`[nats-server exited: code ${String(code)}, signal ${String(signal)}]`);
    });
    proc.on("error", (err) => {
      if (proc.pid === undefined) exited = true; // never spawned: no 'exit' will follow
      this.pushLog(`[spawn error] ${err.message}`);
    });
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (!exited && Date.now() < deadline) {
      if (ready && (await waitForPort(this.port, 200))) return;
      await delay(25);
    }
    if (this.child === proc) this.child = undefined;
    await terminate(proc, "SIGKILL");
    const why = exited ? "exited during startup" : `not ready within ${READY_TIMEOUT_MS} ms`;
    throw new Error(`nats-server on port ${this.port} ${why}:\n${this.log}`);
  }

  private async halt(signal: NodeJS.Signals): Promise<void> {
    const proc = this.child;
    this.child = undefined;
    if (proc) await terminate(proc, signal, 3000);
  }

  private pushLog(line: string): void {
    this.logTail.push(line);
    if (this.logTail.length > LOG_TAIL_LINES) this.logTail.splice(0, this.logTail.length - LOG_TAIL_LINES);
  }
}

function renderConfig(port: number, opts: NatsServerOptions): string {
  const lines = [`listen: "127.0.0.1:${port}"`, `max_payload: ${opts.maxPayloadBytes ?? 8 * 1024 * 1024}`];
  if (opts.tls) {
    const t = opts.tls;
    lines.push(`tls { cert_file: ${JSON.stringify(t.certFile)}, key_file: ${JSON.stringify(t.keyFile)}${t.caFile ? `, ca_file: ${JSON.stringify(t.caFile)}` : ""}${t.verify ? ", verify: true" : ""} }`);
  }
  if (opts.authorization !== undefined) {
    lines.push(`authorization {\n${opts.authorization}\n}`);
  } else if (opts.user !== undefined) {
    lines.push(`authorization { user: ${JSON.stringify(opts.user)}, password: ${JSON.stringify(opts.password ?? "")} }`);
  } else if (opts.token !== undefined) {
    lines.push(`authorization { token: ${JSON.stringify(opts.token)} }`);
  }
  return lines.join("\n") + "\n";
}

/** Sends `signal`, then SIGKILL after `graceMs` if still running; resolves on exit. */
async function terminate(proc: ChildProcess, signal: NodeJS.Signals, graceMs = 0): Promise<void> {
  if (proc.pid === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  proc.kill(signal);
  const timer = signal === "SIGKILL" ? undefined : setTimeout(() => proc.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
