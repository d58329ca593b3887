import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

/** Resident memory of a process (bytes), from /proc; undefined when it is gone. */
export function rssBytes(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** The open-files limit (soft) of a process, from /proc. */
export function fdLimit(pid: number): number {
  const m = /Max open files\s+(\d+)/.exec(readFileSync(`/proc/${pid}/limits`, "utf8"));
  return m ? Number(m[1]) : 0;
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
  if (fdLimit(pid) >= n) return { ok: true, limit: fdLimit(pid) };
  if (process.getuid?.() !== 0) return { ok: false, limit: fdLimit(pid), why: `raising the open-files limit above its hard limit needs root (run the bench as root)` };
  try {
    execFileSync("prlimit", ["--pid", String(pid), `--nofile=${n}:${n}`], { stdio: "pipe" });
  } catch (err) {
    const why = hasCapability(24)
      ? `prlimit failed: ${(err as Error).message.trim()}`
      : `this machine does not allow it: root here lacks CAP_SYS_RESOURCE (a sandbox or container dropped it), so no process may have more than ${fdLimit(pid)} open files`;
    return { ok: false, limit: fdLimit(pid), why };
  }
  return { ok: fdLimit(pid) >= n, limit: fdLimit(pid) };
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
