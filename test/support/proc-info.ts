import { readFileSync, readdirSync } from "node:fs";

/** Open file descriptors of a process (from /proc); -1 when it is gone. */
export function fdCount(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return -1;
  }
}

/** VmRSS and VmHWM (peak RSS) of a process, in bytes; throws when it is gone. */
export function procMemory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb("VmRSS"), peak: kb("VmHWM") };
}

/** The soft open-files limit of a process (default this one), from /proc/<pid>/limits. */
export function fdLimit(pid: number | "self" = "self"): number {
  const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync(`/proc/${pid}/limits`, "utf8"));
  return m?.[1] === "unlimited" ? Infinity : Number(m?.[1] ?? 1024);
}
