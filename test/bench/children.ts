import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";

/** Every child still alive, so a crash or a signal can kill them all (see killAllNow). */
const live = new Set<NodeChild>();

let clockTicks: number | undefined;
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** CPU time (user + system, ms) a process has used so far, from /proc; undefined where /proc is missing. */
export function processCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond();
  } catch {
    return undefined;
  }
}

/** Extra node flags for every child, e.g. PORTICO_BENCH_CHILD_NODE_ARGS="--cpu-prof --cpu-prof-dir=prof" (NODE_OPTIONS refuses --cpu-prof). */
const childNodeArgs = (process.env.PORTICO_BENCH_CHILD_NODE_ARGS ?? "").split(/\s+/).filter(Boolean);

/**
 * A child Node process running one compiled script, with its stdout watched for lines.
 * `failed` rejects if the child exits before kill() was called.
 */
export class NodeChild {
  readonly proc: ChildProcess;
  readonly failed: Promise<never>;
  private stdout = "";
  private stderr = "";
  private partialLine = "";
  /** Lines logged at level warn or error (JSON logs on stdout), the first 50; `problemCount` counts them all. */
  readonly problems: string[] = [];
  problemCount = 0;
  private killing = false;
  private readonly exited: Promise<void>;
  private waiters: { re: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];

  constructor(readonly name: string, script: string, env: Record<string, string> = {}, args: string[] = []) {
    this.proc = spawn(process.execPath, [...childNodeArgs, script, ...args], { env: { ...process.env, ...env }, stdio: ["pipe", "pipe", "pipe"] });
    live.add(this);
    this.proc.stdout!.setEncoding("utf8").on("data", (s: string) => this.onStdout(s));
    this.proc.stderr!.setEncoding("utf8").on("data", (s: string) => {
      this.stderr = (this.stderr + s).slice(-4000);
    });
    this.proc.stdin!.on("error", () => {});
    // "close" comes after "exit" once the stdio pipes are closed too.
    this.exited = new Promise((resolve) => this.proc.once("close", () => resolve()));
    this.failed = new Promise<never>((_, reject) => {
      this.proc.once("error", (err) => reject(new Error(`${name}: ${err.message}`)));
      this.proc.once("exit", (code, signal) => {
        live.delete(this);
        if (!this.killing) reject(new Error(`${name} exited early (code ${code}, signal ${signal}); stderr: ${this.stderr.trim() || "(empty)"}`));
      });
    });
    this.failed.catch(() => {});
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  cpuMs(): number | undefined {
    return processCpuMs(this.proc.pid);
  }

  /** Resolves with the first stdout line matching `re` (seen before or after the call). */
  waitFor(re: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    const seen = this.stdout.match(re);
    if (seen) return Promise.resolve(seen);
    let timer: NodeJS.Timeout | undefined;
    const found = new Promise<RegExpMatchArray>((resolve, reject) => {
      const waiter = { re, resolve };
      this.waiters.push(waiter);
      timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`${this.name}: no output matching ${re} within ${timeoutMs} ms; stderr: ${this.stderr.trim() || "(empty)"}`));
      }, timeoutMs);
    });
    return Promise.race([found, this.failed]).finally(() => clearTimeout(timer));
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the child is gone. */
  async kill(graceMs = 2000): Promise<void> {
    this.killing = true;
    let timer: NodeJS.Timeout | undefined;
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      this.proc.stdin?.end();
      this.proc.kill("SIGTERM");
      timer = setTimeout(() => this.proc.kill("SIGKILL"), graceMs);
    }
    await this.exited;
    clearTimeout(timer);
  }

  private onStdout(s: string): void {
    this.stdout = (this.stdout + s).slice(-4000);
    const lines = (this.partialLine + s).split("\n");
    this.partialLine = lines.pop()!.slice(-4000);
    for (const line of lines) {
      if (!/"level":"(warn|error)"/.test(line)) continue;
      this.problemCount += 1;
      if (this.problems.length < 50) this.problems.push(line.slice(0, 500));
    }
    for (const w of [...this.waiters]) {
      const m = this.stdout.match(w.re);
      if (m) {
        this.waiters = this.waiters.filter((x) => x !== w);
        w.resolve(m);
      }
    }
  }
}

/** Other child processes (not NodeChild) that killAllNow must kill too; forgotten when they exit. */
const others = new Set<ChildProcess>();

export function trackChild(proc: ChildProcess): void {
  others.add(proc);
  proc.once("exit", () => others.delete(proc));
}

/** Last resort on a signal or a watchdog timeout: SIGKILL every child still running. */
export function killAllNow(): void {
  for (const proc of others) {
    try {
      proc.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
  for (const child of live) {
    try {
      child.proc.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
}
