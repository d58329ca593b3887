import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import "reflect-metadata";
import { runBench } from "./bench-main.js";
import { closedLoop, sequential, type ClosedLoopOptions, type EchoTarget, type SequentialOptions } from "./load.js";
import { PorticoEcho } from "./portico-echo.js";
import { RawEcho } from "./raw-echo.js";
import { checkTargets, formatReport, machineInfo, type BenchReport, type ScenarioResult } from "./report.js";

/**
 * `npm run bench`: raw TCP echo (batched), raw TCP echo (a write per message), Portico (portal
 * here, echo game as a child), then the batched raw echo again; all on loopback, about 22 s.
 * Prints a table; the last stdout line is the same report as JSON (also written to --json <path>).
 * Options: --window --sessions --warmup-ms --duration-ms --max-messages (0: none) --latency-count
 * --link-batch-bytes. Children are killed and sockets closed on success, error, signal or watchdog.
 */
const WATCHDOG_MS = 55_000;

const { values: args } = parseArgs({
  options: {
    json: { type: "string" },
    window: { type: "string", default: "1000" },
    sessions: { type: "string", default: "100" },
    "warmup-ms": { type: "string", default: "1000" },
    "duration-ms": { type: "string", default: "4000" },
    "max-messages": { type: "string", default: "0" },
    "latency-count": { type: "string", default: "3000" },
    /** Portal link.batchMaxBytes; unset keeps the portal default. */
    "link-batch-bytes": { type: "string" },
  },
});

function whole(name: keyof typeof args, min = 1): number {
  const n = Number(args[name]);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be a whole number >= ${min}`);
  return n;
}

const params = {
  window: whole("window"),
  sessions: whole("sessions"),
  warmupMs: whole("warmup-ms", 0),
  durationMs: whole("duration-ms"),
  maxMessages: whole("max-messages", 0),
  latencyCount: whole("latency-count"),
  ...(args["link-batch-bytes"] !== undefined ? { linkBatchMaxBytes: whole("link-batch-bytes") } : {}),
};
const loop: ClosedLoopOptions = { window: params.window, warmupMs: params.warmupMs, durationMs: params.durationMs, maxMessages: params.maxMessages, drainMs: 3000 };
const seq: SequentialOptions = { count: params.latencyCount, warmup: 200, timeoutMs: 10_000 };
const here = dirname(fileURLToPath(import.meta.url));

interface Closable extends EchoTarget {
  start(): Promise<void>;
  close(): Promise<void>;
}

/** Starts a target, measures it, and always closes it (children killed, sockets closed). */
async function scenario(label: string, target: Closable): Promise<ScenarioResult> {
  try {
    await target.start();
    const throughput = await closedLoop(target, loop);
    const latency = await sequential(target, seq);
    process.stderr.write(`bench: ${label}: ${Math.round(throughput.perSecond)} msgs/s\n`);
    return { label, throughput, latency };
  } finally {
    await target.close();
  }
}

async function main(): Promise<void> {
  const started = process.hrtime.bigint();
  const date = new Date().toISOString();
  const machine = machineInfo();
  const rawScript = join(here, "raw-echo-server.js");
  const before = await scenario("raw TCP echo (before)", new RawEcho(rawScript));
  const rawPerMessage = await scenario("raw TCP echo, write per message", new RawEcho(rawScript, true));
  const porticoTarget = new PorticoEcho({ gameScript: join(here, "../fixtures/echo-game.js"), sessions: params.sessions, linkBatchMaxBytes: params.linkBatchMaxBytes });
  const portico = await scenario("Portico round trip", porticoTarget);
  const after = await scenario("raw TCP echo (after)", new RawEcho(rawScript));

  const raw = [before, after];
  const rawMean = raw.reduce((sum, r) => sum + r.throughput.perSecond, 0) / raw.length;
  const ratio = portico.throughput.perSecond / rawMean;
  const report: BenchReport = {
    schema: "portico-bench/1",
    date,
    command: ["node", ...process.execArgv, ...process.argv.slice(1)].join(" "),
    machine,
    params,
    raw,
    rawPerMessage,
    portico: { ...portico, sessions: params.sessions, nonEchoLines: porticoTarget.other },
    ratio: { rawMeanPerSecond: rawMean, porticoOverRawMean: ratio, porticoOverEachRaw: raw.map((r) => portico.throughput.perSecond / r.throughput.perSecond),
      porticoOverRawPerMessage: portico.throughput.perSecond / rawPerMessage.throughput.perSecond },
    targets: checkTargets(portico, ratio),
    durationSeconds: Number(process.hrtime.bigint() - started) / 1e9,
  };
  const json = JSON.stringify(report);
  if (args.json) writeFileSync(args.json, json + "\n");
  process.stdout.write(formatReport(report) + "\n" + json + "\n");
}

runBench(main, { label: "bench", watchdogMs: WATCHDOG_MS });
