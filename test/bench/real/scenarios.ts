import { Generator } from "./generator.js";
import type { ConnectResult, FanoutResult, LoadResult, ReloadProbeResult } from "./loadgen-protocol.js";
import { cpuWindow, listenOverflows, raiseFdLimit } from "./process-info.js";
import type { ScenarioRow } from "./results.js";
import { PorticoTarget, type Target } from "./targets.js";

/** What every scenario reports to: progress lines while it runs, and one row per measurement. */
export interface BenchContext {
  progress(text: string): void;
  emit(row: ScenarioRow): void;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

/** Runs `fn` with a fresh load generator allowed `files` open files, and always closes it. */
async function withGenerator<T>(ctx: BenchContext, files: number, fn: (g: Generator) => Promise<T>): Promise<T> {
  const g = new Generator((text) => ctx.progress(`  generator: ${text}`));
  try {
    const raised = raiseFdLimit(g.pid, files);
    if (!raised.ok) throw new NotRun(`the load generator needs ${files} open files (limit ${raised.limit}): ${raised.why ?? ""}`);
    return await fn(g);
  } finally {
    await g.close();
  }
}

/** A scenario this machine cannot run (the reason is reported in its row). */
export class NotRun extends Error {}

function ensureFiles(target: Target, files: number): void {
  const r = target.allowFiles(files);
  if (!r.ok) throw new NotRun(`${target.name} needs ${files} open files: ${r.why ?? "its limit is lower"}`);
}

async function connect(ctx: BenchContext, g: Generator, target: Target, proto: "telnet" | "ws", count: number, o: { login: boolean; parallel: number; timeoutMs: number }): Promise<ConnectResult> {
  ctx.progress(`  connecting ${count} ${proto} clients to ${target.name}${o.login ? " and logging them in" : ""}`);
  // Split evenly over the target's entry points (several portals), one after the other.
  const specs = target.entries?.(proto) ?? [target.client(proto)];
  let r: ConnectResult | undefined;
  for (const [i, spec] of specs.entries()) {
    const share = Math.floor((count * (i + 1)) / specs.length) - Math.floor((count * i) / specs.length);
    if (share === 0) continue;
    const part = await g.request<ConnectResult>({ cmd: "connect", spec, count: share, spread: true, parallel: o.parallel, login: o.login, timeoutMs: o.timeoutMs });
    r = r === undefined ? part : { ...part, connected: r.connected + part.connected, failed: r.failed + part.failed, errors: [...r.errors, ...part.errors], allBannersMs: r.allBannersMs + part.allBannersMs };
  }
  if (r === undefined || r.connected < count) throw new Error(`only ${r?.connected ?? 0} of ${count} ${proto} clients got in to ${target.name} (${r?.failed ?? 0} failed: ${r?.errors.join("; ") ?? ""})`);
  return r;
}

/**
 * Runs `fn` and says what the target's link counted meanwhile (Target.counters: the NATS messages
 * and bytes through the broker, per echoed command or announce) and the warn/error lines its
 * processes logged meanwhile; an empty object for a target without either.
 */
async function watched<T>(target: Target, fn: () => Promise<T>): Promise<[T, Record<string, unknown>]> {
  const c0 = await target.counters?.();
  const p0 = target.logProblems?.().count ?? 0;
  const result = await fn();
  const extra: Record<string, unknown> = {};
  const c1 = await target.counters?.();
  if (c0 && c1) {
    const d = Object.fromEntries(Object.keys(c1).map((k) => [k, (c1[k] ?? 0) - (c0[k] ?? 0)]));
    const msgs = (d.inMsgs ?? 0) + (d.outMsgs ?? 0);
    const bytes = (d.inBytes ?? 0) + (d.outBytes ?? 0);
    const per = (d.echoes ?? 0) > 0 ? d.echoes! : (d.announces ?? 0);
    extra.link = { ...d, brokerMsgs: msgs, brokerMsgsPerCommand: per > 0 ? msgs / per : null, brokerBytesPerCommand: per > 0 ? bytes / per : null };
  }
  const problems = target.logProblems?.();
  if (problems && problems.count > p0) extra.logProblems = { count: problems.count - p0, first: problems.first };
  return [result, extra];
}

const perMsg = (cpuUs: Record<string, number | null>, n: number) => Object.fromEntries(Object.entries(cpuUs).map(([k, v]) => [k, v === null || n === 0 ? null : v / n]));

/** Closed loop: each session keeps one command in flight; counts grow 1 → 100 → 1 000 on one set of clients. */
export async function throughput(ctx: BenchContext, target: Target, proto: "telnet" | "ws", counts: number[], o: { warmupMs: number; durationMs: number }): Promise<void> {
  const max = Math.max(...counts);
  ensureFiles(target, max + 1000);
  await withGenerator(ctx, max + 1000, async (g) => {
    const pids = await target.pids();
    let have = 0;
    for (const n of counts) {
      await connect(ctx, g, target, proto, n - have, { login: false, parallel: 500, timeoutMs: 60_000 });
      have = n;
      ctx.progress(`  closed loop, ${n} sessions, ${o.durationMs / 1000} s`);
      const [r, watch] = await watched(target, () => g.request<LoadResult>({ cmd: "closed", sessions: n, warmupMs: o.warmupMs, durationMs: o.durationMs, pids }));
      ctx.emit({ scenario: "throughput", target: target.name, proto, sessions: n, perSecond: r.perSecond, lost: r.lost, closed: r.closed, latency: r.latency, cpuUsPerMsg: perMsg(r.cpuUs, r.replies), ...(Object.keys(watch).length > 0 ? { detail: watch } : {}) });
    }
  });
}

/** Open loop, every logged-in session sending 1 command a second; then one channel line to all of them. */
export async function latencyAndFanout(ctx: BenchContext, target: Target, n: number, o: { warmupMs: number; durationMs: number; fanoutRounds: number }): Promise<void> {
  ensureFiles(target, n + 1000);
  await withGenerator(ctx, n + 1000, async (g) => {
    const pids = await target.pids();
    await connect(ctx, g, target, "telnet", n, { login: true, parallel: 500, timeoutMs: 180_000 });
    ctx.progress(`  ${n} sessions × 1 command/s, ${o.durationMs / 1000} s`);
    const [r, watch] = await watched(target, () => g.request<LoadResult>({ cmd: "paced", perSessionPerSecond: 1, warmupMs: o.warmupMs, durationMs: o.durationMs, pids }));
    ctx.emit({ scenario: "latency", target: target.name, proto: "telnet", sessions: n, perSecond: r.perSecond, lost: r.lost, closed: r.closed, latency: r.latency, cpuUsPerMsg: perMsg(r.cpuUs, r.replies), detail: { sent: r.sent, ...watch } });
    await fanoutRounds(ctx, g, target, n, o.fanoutRounds);
  });
}

/**
 * `n` logged-in sessions (split over the target's portals, see Target.entries), then one channel
 * line to all of them, `rounds` times, after as many unmeasured rounds (the fan-out after the
 * latency run follows seconds of traffic; this one would otherwise measure a cold portal).
 */
export async function fanout(ctx: BenchContext, target: Target, n: number, rounds: number): Promise<void> {
  ensureFiles(target, n + 1000);
  await withGenerator(ctx, n + 1000, async (g) => {
    await connect(ctx, g, target, "telnet", n, { login: true, parallel: 500, timeoutMs: 180_000 });
    ctx.progress(`  fan-out warm-up, ${rounds} rounds`);
    await g.request<FanoutResult>({ cmd: "fanout", rounds, timeoutMs: 20_000 });
    await fanoutRounds(ctx, g, target, n, rounds);
  });
}

/** The channel line, `rounds` times (none when 0): first and last receiver, and CPU per delivered line (read here, rounds and pauses included). */
async function fanoutRounds(ctx: BenchContext, g: Generator, target: Target, n: number, rounds: number): Promise<void> {
  if (rounds <= 0) return;
  ctx.progress(`  fan-out to ${n} sessions, ${rounds} rounds`);
  const stop = cpuWindow(await target.pids());
  const [f, watch] = await watched(target, () => g.request<FanoutResult>({ cmd: "fanout", rounds, timeoutMs: 20_000 }));
  const cpu = stop();
  const complete = f.rounds.filter((x) => x.received === n);
  ctx.emit({
    scenario: "fanout", target: target.name, proto: "telnet", sessions: n,
    ms: { firstMedian: median(complete.map((x) => x.firstMs)), lastMedian: median(complete.map((x) => x.lastMs)), lastWorst: Math.max(0, ...complete.map((x) => x.lastMs)) },
    lost: f.rounds.reduce((sum, x) => sum + (n - x.received), 0),
    cpuUsPerMsg: perMsg(cpu.cpuUs, f.rounds.reduce((sum, x) => sum + x.received, 0)),
    detail: { rounds: f.rounds, ...watch },
  });
}

/**
 * The least of each memory figure over `samples` readings a second apart: V8 collects the garbage
 * of a burst of work only some seconds after it, once the process is idle, so one reading right
 * after connecting counts garbage as memory per session.
 */
async function settledMemory(target: Target, samples: number): Promise<Record<string, number | undefined>> {
  const least: Record<string, number | undefined> = {};
  for (let i = 0; i < samples; i += 1) {
    await sleep(1000);
    for (const [k, v] of Object.entries(await target.memory())) {
      const was = least[k];
      least[k] = v === undefined ? was : was === undefined ? v : Math.min(was, v);
    }
  }
  return least;
}

/** Idle telnet sessions held open: memory per session, measured against the server's memory before. */
export async function hold(ctx: BenchContext, target: Target, n: number): Promise<void> {
  ensureFiles(target, n + 1000);
  await withGenerator(ctx, n + 1000, async (g) => {
    const before = await settledMemory(target, 3);
    const c = await connect(ctx, g, target, "telnet", n, { login: false, parallel: 200, timeoutMs: 300_000 });
    ctx.progress(`  holding ${n} idle sessions`);
    // Past the telnet negotiation timeout (2 s by default), so what is measured is an idle session.
    await sleep(4000);
    const after = await settledMemory(target, 10);
    const perSession = Object.fromEntries(Object.keys(after).map((k) => {
      const a = before[k];
      const b = after[k];
      return [k, a === undefined || b === undefined ? null : (b - a) / n];
    }));
    const gen = await g.request<{ rssBytes: number }>({ cmd: "stats" });
    ctx.emit({ scenario: "hold", target: target.name, proto: "telnet", sessions: n, bytesPerSession: perSession, ms: { allBanners: c.allBannersMs }, detail: { before, after, generatorRss: gen.rssBytes } });
  });
}

/** `portico reload` with logged-in sessions, each asking "whoami" across it. */
export async function reload(ctx: BenchContext, target: PorticoTarget, n: number): Promise<void> {
  await withGenerator(ctx, n + 1000, async (g) => {
    await connect(ctx, g, target, "telnet", n, { login: true, parallel: 500, timeoutMs: 60_000 });
    const gameBefore = (await target.pids()).game;
    ctx.progress(`  portico reload with ${n} logged-in sessions`);
    const [p, cli] = await Promise.all([g.request<ReloadProbeResult>({ cmd: "reload-probe", timeoutMs: 60_000 }), target.reload()]);
    const gameAfter = (await target.pids()).game;
    if (gameAfter === gameBefore) throw new Error("the game process was not replaced by portico reload");
    ctx.emit({
      scenario: "reload", target: target.name, proto: "telnet", sessions: n, lost: p.lost, latency: p.answer,
      ms: { allAnswered: p.allAnsweredMs, lastNotice: p.lastNoticeMs, cliExit: cli.ms },
      detail: { answered: p.answered, notLoggedIn: p.wrong, cliCode: cli.code, cliOutput: cli.output, gameBefore, gameAfter },
    });
  });
}

/** `n` connections opened at once; time until every one has its banner. */
export async function burst(ctx: BenchContext, target: Target, n: number): Promise<void> {
  ensureFiles(target, n + 1000);
  await withGenerator(ctx, n + 1000, async (g) => {
    await sleep(500);
    const overflows0 = listenOverflows();
    const c = await g.request<ConnectResult>({ cmd: "connect", spec: target.client("telnet"), count: n, spread: true, parallel: 0, login: false, timeoutMs: 30_000 });
    const overflows1 = listenOverflows();
    ctx.emit({
      scenario: "burst", target: target.name, proto: "telnet", sessions: n, latency: c.banner,
      ms: { allBanners: c.allBannersMs }, lost: n - c.connected,
      detail: { over1s: c.over1s, failed: c.failed, errors: c.errors, listenOverflows: overflows0 === undefined || overflows1 === undefined ? null : overflows1 - overflows0 },
    });
  });
}
