import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { waitFor } from "../../core/testing/wait-for.js";

export interface PtyOptions {
  /** Terminal size set with `stty` inside the pty before the command runs. */
  cols: number;
  rows: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Hard bound on the whole run (coreutils `timeout`, SIGKILL 2 s later). */
  timeoutS?: number;
}

/** Removes terminal escape sequences (CSI, OSC, keypad modes) and carriage returns. */
export function stripTerminal(text: string): string {
  return text
    .replace(/\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)/g, "")
    .replace(/\x1b\[[0-9;?<>=]*[ -/]*[@-~]/g, "")
    .replace(/\x1b[=>]/g, "")
    .replace(/\r/g, "");
}

/** Every descendant of `root` (children first found by walking /proc), so a whole tree can be ended by pid. */
function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  let entries: string[] = [];
  try {
    entries = readdirSync("/proc");
  } catch {
    return [];
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "latin1");
      // "pid (comm) state ppid ..." — comm may contain spaces or parentheses.
      const after = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const ppid = Number(after[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(name));
      children.set(ppid, list);
    } catch {
      // The process exited while we looked.
    }
  }
  const out: number[] = [];
  const todo = [root];
  while (todo.length > 0) {
    const pid = todo.pop()!;
    for (const c of children.get(pid) ?? []) {
      out.push(c);
      todo.push(c);
    }
  }
  return out;
}

/**
 * A terminal program run under a pty with util-linux `script`, its standard input fed from a pipe
 * that stays open for the whole run (tt++ stops reading from its server when `script` sees EOF on
 * stdin), its terminal output collected. Bounded by `timeout`; `kill()` ends the whole process tree.
 */
export class PtyProcess {
  private raw = "";
  private readonly exited: Promise<void>;
  private exitedFlag = false;

  private constructor(readonly child: ChildProcess) {
    child.stdout?.setEncoding("utf8");
    child.stdout?.on("data", (chunk: string) => (this.raw += chunk));
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (chunk: string) => (this.raw += chunk));
    child.stdin?.on("error", () => undefined);
    this.exited = new Promise((resolve) =>
      child.once("close", () => {
        this.exitedFlag = true;
        resolve();
      }),
    );
  }

  static start(command: string, options: PtyOptions): PtyProcess {
    const inner = `stty cols ${options.cols} rows ${options.rows}; exec ${command}`;
    const child = spawn("timeout", ["-k", "2", String(options.timeoutS ?? 40), "script", "-qfec", inner, "/dev/null"], {
      stdio: ["pipe", "pipe", "pipe"],
      env: options.env ?? process.env,
      cwd: options.cwd,
      detached: true,
    });
    return new PtyProcess(child);
  }

  /** Everything the program wrote so far, escape sequences and CRs removed. */
  get text(): string {
    return stripTerminal(this.raw);
  }

  get rawOutput(): string {
    return this.raw;
  }

  get hasExited(): boolean {
    return this.exitedFlag;
  }

  /** Types into the terminal (a "\r" is the Enter key). */
  type(keys: string): void {
    if (!this.exitedFlag) this.child.stdin?.write(keys);
  }

  /** Resolves once the output (escape sequences removed) matches; rejects after `timeoutMs` with the output's tail. */
  async waitForText(match: string | RegExp, timeoutMs = 10_000): Promise<string> {
    const test = (t: string) => (typeof match === "string" ? t.includes(match) : match.test(t));
    const found = await waitFor(
      () => {
        const text = this.text;
        if (test(text)) return { text, exited: false };
        // An exited program fails at once instead of waiting out the timeout.
        return this.exitedFlag ? { text, exited: true } : undefined;
      },
      timeoutMs,
      () => `output matching ${String(match)}; output tail:\n${this.text.slice(-2500)}`,
      20,
    );
    if (found.exited) throw new Error(`no output matching ${String(match)} (the program exited); output tail:\n${found.text.slice(-2500)}`);
    return found.text;
  }

  /** SIGKILLs the process and all of its descendants (found before any dies), then waits (bounded) for the exit. */
  async kill(): Promise<void> {
    const pid = this.child.pid;
    if (pid !== undefined && !this.exitedFlag) {
      const tree = [pid, ...descendants(pid)];
      for (const p of tree.reverse()) {
        try {
          process.kill(p, "SIGKILL");
        } catch {
          // Already gone.
        }
      }
    }
    this.child.stdin?.destroy();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.exited, new Promise((r) => (timer = setTimeout(r, 3000)))]);
    clearTimeout(timer);
    this.child.stdout?.destroy();
    this.child.stderr?.destroy();
  }
}
