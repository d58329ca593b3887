// Preloaded (NODE_OPTIONS=--import=<this file>, set by test/torture/abuse-support.ts) into the portal
// under test and, by inheritance, into the game process it supervises. On SIGUSR2 it runs a full garbage
// collection and writes one line to stderr: `PORTICO-PROBE {"seq":…,"pid":…,"heapUsed":…,"rss":…,
// "resources":{"TCPSocketWrap":…,"Timeout":…},"fds":…}` (the game's stderr reaches the portal's log as a
// relayed line). Nothing in Portico uses SIGUSR2; the processes are otherwise untouched.
import { readdirSync, writeSync } from "node:fs";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

let seq = 0;

/** `gc` from --expose-gc, or made available now (the game is started without the flag). */
function collector(): (() => void) | undefined {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed) return exposed;
  try {
    setFlagsFromString("--expose-gc");
    return runInNewContext("gc") as () => void;
  } catch {
    return undefined;
  }
}

process.on("SIGUSR2", () => {
  const gc = collector();
  if (gc) {
    gc();
    gc();
  }
  const resources: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) resources[r] = (resources[r] ?? 0) + 1;
  const line = JSON.stringify({ seq: ++seq, pid: process.pid, gc: gc !== undefined, ...process.memoryUsage(), resources, fds: readdirSync("/proc/self/fd").length });
  writeSync(2, `PORTICO-PROBE ${line}\n`);
});
