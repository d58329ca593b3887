/** Counters, CPU and time at one instant, and the figures between two such instants. */
export interface Sample {
  t: bigint;
  received: number;
  cpu: NodeJS.CpuUsage;
  childCpuMs: number | undefined;
}

export interface Throughput {
  messages: number;
  seconds: number;
  perSecond: number;
  /** CPU of this (bench) process per message, µs: portal or raw client, plus the load generator. */
  benchCpuUsPerMsg: number;
  /** Share of one core the bench process used. */
  benchCpuPercent: number;
  /** CPU of the child (game or raw echo server) per message, µs; null where /proc is missing. */
  childCpuUsPerMsg: number | null;
  childCpuPercent: number | null;
}

export interface Latency {
  count: number;
  p50Us: number;
  p90Us: number;
  p95Us: number;
  p99Us: number;
  meanUs: number;
  maxUs: number;
}

export function takeSample(received: number, childCpuMs: () => number | undefined): Sample {
  return { t: process.hrtime.bigint(), received, cpu: process.cpuUsage(), childCpuMs: childCpuMs() };
}

export function throughputBetween(a: Sample, b: Sample): Throughput {
  const messages = b.received - a.received;
  const seconds = Number(b.t - a.t) / 1e9;
  const benchCpuUs = b.cpu.user - a.cpu.user + (b.cpu.system - a.cpu.system);
  const childCpuUs = a.childCpuMs !== undefined && b.childCpuMs !== undefined ? (b.childCpuMs - a.childCpuMs) * 1000 : undefined;
  return {
    messages,
    seconds,
    perSecond: messages / seconds,
    benchCpuUsPerMsg: benchCpuUs / messages,
    benchCpuPercent: (benchCpuUs / (seconds * 1e6)) * 100,
    childCpuUsPerMsg: childCpuUs === undefined ? null : childCpuUs / messages,
    childCpuPercent: childCpuUs === undefined ? null : (childCpuUs / (seconds * 1e6)) * 100,
  };
}

/** Nearest-rank percentiles of round-trip times given in µs. */
export function latencyOf(us: Float64Array): Latency {
  const sorted = Float64Array.from(us).sort();
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
  let sum = 0;
  for (const v of sorted) sum += v;
  return { count: sorted.length, p50Us: at(0.5), p90Us: at(0.9), p95Us: at(0.95), p99Us: at(0.99), meanUs: sum / sorted.length, maxUs: sorted[sorted.length - 1]! };
}
