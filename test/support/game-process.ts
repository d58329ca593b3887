import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { collectLines } from "../../core/testing/collect-lines.js";
import { waitFor } from "../../core/testing/wait-for.js";

const ECHO_GAME = fileURLToPath(new URL("../fixtures/echo-game.js", import.meta.url));

/** The echo game (test/fixtures/echo-game.ts) as a real child process; collects its stdout lines. */
export class GameProcess {
  readonly output: string[] = [];
  private exited: Promise<number | null>;

  private constructor(readonly child: ChildProcess) {
    collectLines(child.stdout, this.output);
    child.stderr?.on("data", () => undefined);
    this.exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
  }

  /** `env` adds to the game's environment (e.g. PORTICO_ECHO_RELOAD=0). */
  static start(linkPort: number, dataDir: string, env: Record<string, string> = {}): GameProcess {
    const child = spawn(process.execPath, ["--enable-source-maps", ECHO_GAME], {
      env: { ...process.env, ...env, PORTICO_LINK_PORT: String(linkPort), PORTICO_DATA_DIR: dataDir },
      stdio: ["ignore", "pipe", "pipe"],
    });
    return new GameProcess(child);
  }

  /** Waits for the n-th (1-based) "SYNC <mode> ..." line and returns the mode. */
  async waitForSync(n = 1, timeoutMs = 10_000): Promise<string> {
    const sync = await waitFor(
      () => this.output.filter((l) => l.startsWith("SYNC "))[n - 1],
      timeoutMs,
      () => `game sync #${n} (output: ${JSON.stringify(this.output)})`,
      20,
    );
    return sync.split(" ")[1]!;
  }

  kill(signal: NodeJS.Signals = "SIGKILL"): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }

  waitForExit(): Promise<number | null> {
    return this.exited;
  }
}
