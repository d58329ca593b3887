import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * A real IRC server for integration tests: Debian's ngircd (installed by test/ensure-peers.mjs),
 * started in the foreground on a free port from a generated config in a temp dir.
 *
 * Notes on ngircd 26.1 (see ../shared/reference/toolchain.md §3):
 * - running as root it drops to `nobody`, so the temp dir is made traversable and the PID file is
 *   created world-writable up front;
 * - `IncludeDir` points at an empty dir so the machine's /etc/ngircd/ngircd.conf.d is never read;
 * - by default ngircd throttles every client to a few commands per second ("penalty"); it never
 *   kills for flooding. `maxPenaltyTime: 0` switches the penalty off so what an observer sees is
 *   the client's own pacing (and tests run faster);
 * - the first client to JOIN a channel becomes its operator (`@`), so an observer that joins first
 *   can KICK. An [Operator] block is written as well (`OPER <name> <password>`, with
 *   OperCanUseMode=yes) for tests that need to re-op themselves.
 */

export const NGIRCD_BIN = "/usr/sbin/ngircd";

export interface NgircdOptions {
  /** [Limits] PingTimeout in seconds (ngircd's minimum is 5); default 20. */
  pingTimeout?: number;
  /** [Limits] PongTimeout in seconds; default 20. */
  pongTimeout?: number;
  /** [Limits] MaxPenaltyTime: -1 is ngircd's default (throttling on), 0 turns it off. Default 0. */
  maxPenaltyTime?: number;
  /** [Operator] credentials; default observer / operpass. */
  operator?: { name: string; password: string };
  /** Extra raw lines appended at the end of the config (e.g. a [Channel] block). */
  extra?: string;
  /** How long start() waits for the port; default 5000 ms. */
  startTimeoutMs?: number;
}

export interface Ngircd {
  readonly host: "127.0.0.1";
  readonly port: number;
  readonly confDir: string;
  readonly confPath: string;
  /** The server's name as it appears in prefixes (`:irc.test.local 001 ...`). */
  readonly serverName: string;
  readonly operator: { name: string; password: string };
  /** Everything ngircd printed (stdout+stderr) since it was first started. */
  readonly log: () => string;
  /** The running process's pid (undefined when stopped). */
  readonly pid: () => number | undefined;
  /** SIGTERM, then SIGKILL after `graceMs` (default 2000). Idempotent. */
  stop(graceMs?: number): Promise<void>;
  /** stop() and start again on the same port. */
  restart(downMs?: number): Promise<void>;
  /** stop() and remove the temp dir. */
  dispose(): Promise<void>;
}

const SERVER_NAME = "irc.test.local";
const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A crashed or interrupted mocha run must not leave servers behind.
  process.once("exit", () => {
    for (const child of running) {
      try {
        child.kill("SIGKILL");
      } catch {
        /* gone */
      }
    }
  });
}

/** Binds 127.0.0.1:0, reads the port the kernel chose, and closes again. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error("no port from listen(0)"))));
    });
  });
}

/** Resolves true once a TCP connection to host:port succeeds, false after `timeoutMs`. */
export async function waitForPort(port: number, timeoutMs: number, host = "127.0.0.1"): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect({ host, port });
      const done = (v: boolean) => {
        socket.removeAllListeners();
        socket.on("error", () => undefined);
        socket.destroy();
        resolve(v);
      };
      socket.once("connect", () => done(true));
      socket.once("error", () => done(false));
      socket.setTimeout(500, () => done(false));
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

function renderConfig(port: number, dir: string, options: NgircdOptions, operator: { name: string; password: string }): string {
  return [
    "[Global]",
    `Name = ${SERVER_NAME}`,
    "Info = Portico integration test server",
    "AdminInfo1 = Portico tests",
    "AdminInfo2 = localhost",
    "AdminEMail = tests@irc.test.local",
    "Listen = 127.0.0.1",
    `Ports = ${port}`,
    `PidFile = ${join(dir, "ngircd.pid")}`,
    "MotdPhrase = Portico test server",
    "",
    "[Limits]",
    `PingTimeout = ${options.pingTimeout ?? 20}`,
    `PongTimeout = ${options.pongTimeout ?? 20}`,
    "MaxConnectionsIP = 50",
    "MaxNickLength = 30",
    "MaxJoins = 50",
    `MaxPenaltyTime = ${options.maxPenaltyTime ?? 0}`,
    "",
    "[Options]",
    "PAM = no",
    "Ident = no",
    "DNS = no",
    "OperCanUseMode = yes",
    `IncludeDir = ${join(dir, "conf.d")}`,
    "",
    "[Operator]",
    `Name = ${operator.name}`,
    `Password = ${operator.password}`,
    "",
    options.extra ?? "",
    "",
  ].join("\n");
}

/**
 * Starts ngircd on a free port with a generated config (validated with `ngircd -t` first) and
 * resolves once the port accepts connections.
 */
export async function startNgircd(options: NgircdOptions = {}): Promise<Ngircd> {
  if (!existsSync(NGIRCD_BIN)) throw new Error(`${NGIRCD_BIN} is not installed (run: node test/ensure-peers.mjs)`);
  installExitHook();
  const port = await freePort();
  const confDir = mkdtempSync(join(tmpdir(), "portico-ngircd-"));
  // ngircd drops root privileges to nobody: let it reach the dir and write its PID file.
  chmodSync(confDir, 0o755);
  mkdirSync(join(confDir, "conf.d"), { mode: 0o755 });
  const pidPath = join(confDir, "ngircd.pid");
  writeFileSync(pidPath, "");
  chmodSync(pidPath, 0o666);
  const operator = options.operator ?? { name: "observer", password: "operpass" };
  const confPath = join(confDir, "ngircd.conf");
  writeFileSync(confPath, renderConfig(port, confDir, options, operator));

  const check = spawnSync(NGIRCD_BIN, ["-t", "-f", confPath], { encoding: "utf8", timeout: 10_000 });
  if (check.status !== 0) {
    throw new Error(`ngircd -t rejected the generated config (status ${String(check.status)}):\n${check.stdout}\n${check.stderr}`);
  }

  let output = "";
  let child: ChildProcess | undefined;
  const startTimeoutMs = options.startTimeoutMs ?? 5000;

  const start = async (): Promise<void> => {
    // The port may still be held for a moment after a stop: retry the spawn a few times.
    for (let attempt = 1; ; attempt++) {
      const proc = spawn(NGIRCD_BIN, ["-n", "-f", confPath], { stdio: ["ignore", "pipe", "pipe"] });
      running.add(proc);
      child = proc;
      let exited = false;
      proc.stdout?.on("data", (c: Buffer) => (output += c.toString("utf8")));
      proc.stderr?.on("data", (c: Buffer) => (output += c.toString("utf8")));
      proc.once("exit", () => {
        exited = true;
        running.delete(proc);
      });
      proc.once("error", (err) => (output += `\n[spawn error] ${err.message}\n`));
      const deadline = Date.now() + startTimeoutMs;
      let up = false;
      while (!exited && Date.now() < deadline) {
        if (await waitForPort(port, 200)) {
          up = true;
          break;
        }
      }
      if (up && !exited) return;
      await killProcess(proc, 500);
      if (attempt >= 3) throw new Error(`ngircd did not come up on port ${port}:\n${output.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 300));
    }
  };

  const stop = async (graceMs = 2000): Promise<void> => {
    const proc = child;
    child = undefined;
    if (proc) await killProcess(proc, graceMs);
  };

  await start();

  return {
    host: "127.0.0.1",
    port,
    confDir,
    confPath,
    serverName: SERVER_NAME,
    operator,
    log: () => output,
    pid: () => child?.pid,
    stop,
    async restart(downMs = 0): Promise<void> {
      await stop();
      if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
      await start();
    },
    async dispose(): Promise<void> {
      await stop();
      rmSync(confDir, { recursive: true, force: true });
    },
  };
}

/** SIGTERM, wait up to `graceMs` for the exit, then SIGKILL (and wait for that exit too). */
async function killProcess(proc: ChildProcess, graceMs: number): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  proc.kill("SIGTERM");
  if ((await exitWithin(exited, graceMs)) === "timeout") {
    proc.kill("SIGKILL");
    await exitWithin(exited, 2000);
  }
}

/** Waits for `exited`, at most `ms`; the timer is cleared either way, so nothing is left pending. */
async function exitWithin(exited: Promise<void>, ms: number): Promise<"exited" | "timeout"> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), ms)));
  try {
    return await Promise.race([exited.then(() => "exited" as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
