import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { fdLimit, procMemory } from "../../support/proc-info.js";
import { processCpuMs } from "../children.js";
import type { CpuWindow } from "./loadgen-protocol.js";

/** Resident memory of a process (bytes), from /proc; undefined when it is gone. */
export function rssBytes(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    return procMemory(pid).rss;
  } catch {
    return undefined;
  }
}

/** Whether this process has the Linux capability numbered `bit` in its effective set (24: CAP_SYS_RESOURCE). */
function hasCapability(bit: number): boolean {
  const m = /CapEff:\s+([0-9a-f]+)/.exec(readFileSync("/proc/self/status", "utf8"));
  return m ? (BigInt(`0x${m[1]}`) >> BigInt(bit)) & 1n ? true : false : false;
}

/**
 * Raises a running process's open-files limit (soft and hard) to `n` with prlimit(1). Only root
 * may raise a hard limit; the result says whether the process now has at least `n`.
 */
export function raiseFdLimit(pid: number, n: number): { ok: boolean; limit: number; why?: string } {
  const limit = fdLimit(pid);
  if (limit >= n) return { ok: true, limit };
  if (process.getuid?.() !== 0) return { ok: false, limit, why: `raising the open-files limit above its hard limit needs root (run the bench as root)` };
  try {
    execFileSync("prlimit", ["--pid", String(pid), `--nofile=${n}:${n}`], { stdio: "pipe" });
  } catch (err) {
    const why = hasCapability(24)
      ? `prlimit failed: ${(err as Error).message.trim()}`
      : `this machine does not allow it: root here lacks CAP_SYS_RESOURCE (a sandbox or container dropped it), so no process may have more than ${limit} open files`;
    return { ok: false, limit, why };
  }
  const raised = fdLimit(pid);
  return { ok: raised >= n, limit: raised };
}

/** The kernel's count of connections dropped because a listen queue was full (TcpExt ListenOverflows). */
export function listenOverflows(): number | undefined {
  try {
    const lines = readFileSync("/proc/net/netstat", "utf8").split("\n").filter((l) => l.startsWith("TcpExt:"));
    const names = lines[0]!.split(/\s+/);
    const values = lines[1]!.split(/\s+/);
    const i = names.indexOf("ListenOverflows");
    return i > 0 ? Number(values[i]) : undefined;
  } catch {
    return undefined;
  }
}

/** CPU of each pid from now until the returned function is called; with `own`, this process's CPU too, under that name. */
export function cpuWindow(pids: Record<string, number>, own?: string): () => CpuWindow {
  const t0 = performance.now();
  const own0 = process.cpuUsage();
  const start = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, processCpuMs(pid)]));
  return () => {
    const used = process.cpuUsage(own0);
    const cpuUs: Record<string, number | null> = own === undefined ? {} : { [own]: used.user + used.system };
    for (const [k, pid] of Object.entries(pids)) {
      const a = start[k];
      const b = processCpuMs(pid);
      cpuUs[k] = a === undefined || b === undefined ? null : (b - a) * 1000;
    }
    return { seconds: (performance.now() - t0) / 1000, cpuUs };
  };
}
