import type { Latency } from "../stats.js";

/** One scenario's measurement against one target: what is printed as a table row and a JSON line. */
export interface ScenarioRow {
  scenario: "throughput" | "latency" | "hold" | "fanout" | "reload" | "burst";
  target: string;
  proto: "telnet" | "ws";
  sessions: number;
  /** Set when the scenario could not run on this machine, with why; no figures then. */
  notRun?: string;
  /** Throughput: round trips per second; latency: replies per second. */
  perSecond?: number;
  lost?: number;
  closed?: number;
  latency?: Latency | null;
  /** CPU µs per round trip, per measured process (portal, game, server, nats, generator); fan-out: per delivered line. */
  cpuUsPerMsg?: Record<string, number | null>;
  /** Hold: memory per idle session (bytes), per measured figure (portalRss, portalHeapUsed, gameRss, serverRss). */
  bytesPerSession?: Record<string, number | null>;
  /** Milliseconds: fan-out (first/last receiver, median of rounds), burst (all banners), reload (all answered). */
  ms?: Record<string, number>;
  /** Anything else worth keeping (errors seen, counts). */
  detail?: Record<string, unknown>;
}

const fmt = (n: number | null | undefined, digits = 0) => (n === null || n === undefined ? "n/a" : n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits }));

/** A one-line human summary of a row (the JSON line beside it has everything). */
export function rowText(r: ScenarioRow): string {
  const head = `${r.scenario.padEnd(10)} ${`${r.target} ${r.proto}`.padEnd(16)} ${String(r.sessions).padStart(6)} sessions`;
  if (r.notRun) return `${head}  NOT RUN: ${r.notRun}`;
  const parts: string[] = [];
  if (r.perSecond !== undefined) parts.push(`${fmt(r.perSecond)}/s`);
  if (r.latency) parts.push(`p50 ${fmt(r.latency.p50Us / 1000, 2)} p95 ${fmt(r.latency.p95Us / 1000, 2)} p99 ${fmt(r.latency.p99Us / 1000, 2)} max ${fmt(r.latency.maxUs / 1000, 1)} ms`);
  if (r.cpuUsPerMsg) parts.push(`CPU µs/msg ${Object.entries(r.cpuUsPerMsg).map(([k, v]) => `${k} ${fmt(v, 1)}`).join(", ")}`);
  if (r.bytesPerSession) parts.push(`per session ${Object.entries(r.bytesPerSession).map(([k, v]) => `${k} ${fmt(v === null ? null : v / 1024, 1)} KiB`).join(", ")}`);
  if (r.ms) parts.push(Object.entries(r.ms).map(([k, v]) => `${k} ${fmt(v, 1)} ms`).join(", "));
  if (r.lost !== undefined) parts.push(`lost ${r.lost}`);
  if (r.closed) parts.push(`closed ${r.closed}`);
  return `${head}  ${parts.join("; ")}`;
}
