import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { runBench } from "./bench-main.js";
import { machineInfo } from "./report.js";
import { latencyChart } from "./real/latency-chart.js";
import { markdownTables } from "./real/markdown.js";
import { rowText, type ScenarioRow } from "./real/results.js";
import { NotRun, burst, fanout, hold, latencyAndFanout, reload, throughput, type BenchContext } from "./real/scenarios.js";
import { checkTargets, formatChecks } from "./real/summary.js";
import { BaselineTarget, NatsTarget, PorticoTarget, type Target } from "./real/targets.js";

/**
 * `npm run bench`: Portico measured through real sockets. A real `portico start` (echo game) and,
 * in the same run, a raw Node server (TCP and `ws`) as the ceiling, each driven by the same load
 * generator in its own process (real/loadgen.ts). Scenarios: throughput, latency (+ fan-out),
 * hold, reload, burst, and nats: the same round trips and fan-out with the game linked over a real
 * nats-server instead of the TCP link (see docs/performance.md). Each measurement prints a text row and a JSON
 * line; at the end the targets are judged, and results.jsonl, summary.txt, summary.md (the tables
 * of docs/performance.md) and latency.svg are
 * written to --out. `--quick` runs small loads to check the bench itself (not figures to quote).
 */
const { values: args } = parseArgs({
  options: {
    only: { type: "string", default: "throughput,latency,hold,reload,burst,nats" },
    out: { type: "string", default: "bench-results" },
    quick: { type: "boolean", default: false },
    /** Overrides, comma-separated session counts. */
    hold: { type: "string" },
    "latency-loads": { type: "string" },
    burst: { type: "string" },
  },
});
const counts = (name: string, v: string | undefined, fallback: number[]) => {
  if (v === undefined) return fallback;
  const list = v.split(",").map(Number);
  if (list.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--${name} must be whole numbers >= 1, comma-separated`);
  return list;
};
const quick = args.quick;
const plan = {
  throughputCounts: quick ? [1, 100] : [1, 100, 1000],
  throughput: { warmupMs: quick ? 500 : 1000, durationMs: quick ? 1500 : 4000 },
  latencyLoads: counts("latency-loads", args["latency-loads"], quick ? [500, 1000] : [1000, 2500, 5000, 10000]),
  fanoutAt: quick ? [1000] : [1000, 10000],
  latency: { warmupMs: quick ? 1000 : 2000, durationMs: quick ? 3000 : 10000 },
  holdCounts: counts("hold", args.hold, quick ? [2000] : [10000, 18000, 50000]),
  reloadSessions: quick ? 200 : 1000,
  burst: counts("burst", args.burst, [quick ? 1000 : 5000])[0]!,
  /** TCP link against NATS link: throughput at one count, latency (and fan-out) at one load, fan-out over two portals. */
  nats: { throughputSessions: 100, latencySessions: quick ? 500 : 1000, fanoutSessions: 1000, fanoutRounds: 5 },
};
const only = new Set(args.only.split(","));
for (const s of only) if (!["throughput", "latency", "hold", "reload", "burst", "nats"].includes(s)) throw new Error(`--only: unknown scenario ${s}`);

async function main(): Promise<void> {
  const started = Date.now();
  const machine = machineInfo();
  mkdirSync(args.out, { recursive: true });
  const jsonl = join(args.out, "results.jsonl");
  writeFileSync(jsonl, JSON.stringify({ schema: "portico-bench-real/1", date: new Date().toISOString(), machine, plan, uid: process.getuid?.() }) + "\n");
  const rows: ScenarioRow[] = [];
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;
  const ctx: BenchContext = {
    progress: (text) => process.stderr.write(`[${elapsed()}] ${text}\n`),
    emit: (row) => {
      rows.push(row);
      const json = JSON.stringify(row);
      process.stdout.write(`${rowText(row)}\n${json}\n`);
      appendFileSync(jsonl, json + "\n");
    },
  };
  process.stdout.write(`Portico real-socket benchmark${quick ? " (QUICK: small loads, to check the bench; not figures to quote)" : ""}\nmachine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.totalMemMiB} MiB, ${machine.platform}, node ${machine.node}, load avg ${machine.loadavg1.toFixed(2)}\n`);

  /** Starts a target, runs one scenario on it, reports NotRun as a row, and always closes it. */
  const on = async (start: () => Promise<Target>, label: { scenario: ScenarioRow["scenario"]; proto: "telnet" | "ws"; sessions: number }, run: (t: Target) => Promise<void>) => {
    ctx.progress(`${label.scenario}, ${label.proto}, ${label.sessions} sessions`);
    const target = await start();
    try {
      await run(target);
    } catch (err) {
      if (!(err instanceof NotRun)) throw err;
      ctx.emit({ ...label, target: target.name, notRun: err.message });
    } finally {
      const problems = target.logProblems?.();
      if (problems?.count) ctx.progress(`  ${target.name} logged ${problems.count} warn/error lines, the first: ${problems.first.join(" | ")}`);
      await target.close();
    }
  };
  /** The TCP-link Portico of the nats comparison, named apart so its rows stay out of the main tables. */
  const TCP_LINK = "Portico (TCP link)";
  const raw = (proto: "telnet" | "ws") => () => BaselineTarget.start(proto === "telnet" ? "tcp" : "ws");
  const portico = () => PorticoTarget.start();

  if (only.has("throughput")) {
    for (const proto of ["telnet", "ws"] as const) {
      for (const start of [raw(proto), portico]) {
        await on(start, { scenario: "throughput", proto, sessions: Math.max(...plan.throughputCounts) }, (t) => throughput(ctx, t, proto, plan.throughputCounts, plan.throughput));
      }
    }
  }
  if (only.has("latency")) {
    for (const n of plan.latencyLoads) {
      const fanoutRounds = plan.fanoutAt.includes(n) ? 5 : 0;
      for (const start of [raw("telnet"), portico]) await on(start, { scenario: "latency", proto: "telnet", sessions: n }, (t) => latencyAndFanout(ctx, t, n, { ...plan.latency, fanoutRounds }));
    }
  }
  if (only.has("hold")) {
    for (const n of plan.holdCounts) {
      for (const start of [raw("telnet"), portico]) await on(start, { scenario: "hold", proto: "telnet", sessions: n }, (t) => hold(ctx, t, n));
    }
  }
  if (only.has("reload")) {
    await on(portico, { scenario: "reload", proto: "telnet", sessions: plan.reloadSessions }, (t) => reload(ctx, t as PorticoTarget, plan.reloadSessions));
  }
  if (only.has("burst")) {
    for (const start of [raw("telnet"), portico]) await on(start, { scenario: "burst", proto: "telnet", sessions: plan.burst }, (t) => burst(ctx, t, plan.burst));
  }
  if (only.has("nats")) {
    // Round trips and a one-portal fan-out on the usual TCP link, then over NATS; then the fan-out over two portals.
    const { throughputSessions, latencySessions, fanoutSessions, fanoutRounds } = plan.nats;
    const starts = [() => PorticoTarget.start({ name: TCP_LINK }), () => NatsTarget.start(1)];
    for (const start of starts) {
      await on(start, { scenario: "latency", proto: "telnet", sessions: latencySessions }, async (t) => {
        await throughput(ctx, t, "telnet", [throughputSessions], plan.throughput);
        await latencyAndFanout(ctx, t, latencySessions, { ...plan.latency, fanoutRounds });
      });
    }
    await on(() => NatsTarget.start(2), { scenario: "fanout", proto: "telnet", sessions: fanoutSessions }, (t) => fanout(ctx, t, fanoutSessions, fanoutRounds));
  }

  const checks = checkTargets(rows);
  const summary = `targets (issue 13, this machine, generator included):\n${formatChecks(checks)}\ntotal ${elapsed()}\n`;
  process.stdout.write(`\n${summary}`);
  writeFileSync(join(args.out, "summary.txt"), summary);
  writeFileSync(join(args.out, "summary.md"), markdownTables(rows, checks));
  appendFileSync(jsonl, JSON.stringify({ checks, seconds: (Date.now() - started) / 1000 }) + "\n");
  const mainRows = rows.filter((r) => r.target === "Portico" || r.target.startsWith("raw "));
  if (mainRows.some((r) => r.scenario === "latency" && r.latency)) {
    writeFileSync(join(args.out, "latency.svg"), latencyChart(mainRows, `Round-trip latency against load, ${machine.cores} cores, ${new Date().toISOString().slice(0, 10)}`));
  }
}

runBench(main, { label: "bench", watchdogMs: 30 * 60_000 });
