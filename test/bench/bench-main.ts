import { killAllNow } from "./children.js";
import { removeTempDirsNow } from "./temp-dirs.js";

export interface BenchRunOptions {
  /** Prefix of every message this runner writes, e.g. "bench" or "telnet bench". */
  label: string;
  /** The whole run is given up (exit 2) after this long. */
  watchdogMs: number;
}

/**
 * Runs a benchmark's `main` under a watchdog. On the watchdog, SIGINT/SIGTERM or a failure, every
 * child process is killed and every temporary directory removed (exit 2, 130 and 1). After a success
 * it checks that nothing `main` opened is still open (exit 3 naming it) instead of hanging. Call it
 * once the module is loaded, before anything is opened.
 */
export function runBench(main: () => Promise<void>, options: BenchRunOptions): void {
  const { label, watchdogMs } = options;
  // Handles open before the benchmark (stdio pipes, created on first use), so only new leftovers are reported.
  void process.stdout.writable;
  void process.stderr.writable;
  const resourcesAtStart = process.getActiveResourcesInfo();
  const cleanUp = () => {
    killAllNow();
    removeTempDirsNow();
  };
  const watchdog = setTimeout(() => {
    process.stderr.write(`${label}: still running after ${watchdogMs / 1000} s; killing children and giving up\n`);
    cleanUp();
    process.exit(2);
  }, watchdogMs);
  watchdog.unref();
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      cleanUp();
      process.exit(130);
    });
  }

  main().then(
    () => {
      clearTimeout(watchdog);
      // Everything should be closed by now (a closed handle is released a loop turn later); name whatever is not rather than hang on it.
      setTimeout(() => {
        const left = process.getActiveResourcesInfo();
        // "Timeout": this check's own timer, listed while it runs.
        for (const r of [...resourcesAtStart, "Timeout"]) {
          const i = left.indexOf(r);
          if (i >= 0) left.splice(i, 1);
        }
        if (left.length > 0) {
          process.stderr.write(`${label}: resources still open at the end: ${left.join(", ")}\n`);
          process.exit(3);
        }
      }, 50);
    },
    (err: unknown) => {
      clearTimeout(watchdog);
      cleanUp();
      process.stderr.write(`${label} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
