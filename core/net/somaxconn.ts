import { readFileSync } from "node:fs";

/** Linux's cap on every listen backlog (net.core.somaxconn); undefined where it cannot be read (not Linux). */
export function readSomaxconn(path = "/proc/sys/net/core/somaxconn"): number | undefined {
  try {
    const n = Number.parseInt(readFileSync(path, "utf8").trim(), 10);
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/** The backlog the kernel uses when `requested` is asked for: capped at somaxconn when that is known. */
export function effectiveBacklog(requested: number, somaxconn: number | undefined): number {
  return somaxconn === undefined ? requested : Math.min(requested, somaxconn);
}
