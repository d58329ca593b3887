import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { runBench } from "./bench-main.js";
import { NodeChild } from "./children.js";
import { closedLoop, sequential, type ClosedLoopOptions, type SequentialOptions } from "./load.js";
import { PorticoWeb } from "./portico-web.js";
import { machineInfo, type ScenarioResult } from "./report.js";
import { WsEcho } from "./ws-echo.js";

/**
 * `npm run bench:websocket`: closed-loop round trips through real websocket clients (this process)
 * against (1) a raw `ws` echo server in a child process, (2) a real `portico start` (websocket
 * listener, echo game) in a child process, (3) the raw echo again. Same clients, window and
 * sessions for all. Prints a table and, last, one JSON line (also written to --json <path>).
 */
const here = dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({
  options: {
    json: { type: "string" },
    sessions: { type: "string", default: "100" },
    window: { type: "string", default: "1000" },
    "warmup-ms": { type: "string", default: "1000" },
    "duration-ms": { type: "string", default: "4000" },
    "latency-count": { type: "string", default: "2000" },
  },
});
const num = (name: keyof typeof args) => {
  const n = Number(args[name]);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a whole number >= 1`);
  return n;
};
const params = { sessions: num("sessions"), window: num("window"), warmupMs: num("warmup-ms"), durationMs: num("duration-ms"), latencyCount: num("latency-count") };
const loop: ClosedLoopOptions = { window: params.window, warmupMs: params.warmupMs, durationMs: params.durationMs, maxMessages: 0, drainMs: 3000 };
const seq: SequentialOptions = { count: params.latencyCount, warmup: 200, timeoutMs: 15_000 };

async function measure(label: string, target: WsEcho): Promise<ScenarioResult> {
  try {
    await target.start();
    const throughput = await closedLoop(target, loop);
    const latency = await sequential(target, seq);
    process.stderr.write(`websocket bench: ${label}: ${Math.round(throughput.perSecond)} round trips/s, p99 ${Math.round(latency.p99Us)} µs\n`);
    return { label, throughput, latency };
  } finally {
    await target.close();
  }
}

async function rawScenario(label: string): Promise<ScenarioResult> {
  const server = new NodeChild("ws echo server", join(here, "ws-echo-server.js"));
  try {
    const [, port] = await server.waitFor(/^LISTENING (\d+)$/m, 10_000);
    return await measure(label, new WsEcho({ url: `ws://127.0.0.1:${port}`, sessions: params.sessions, format: "raw", serverCpuMs: () => server.cpuMs(), failed: server.failed }));
  } finally {
    await server.kill();
  }
}

async function porticoScenario(): Promise<ScenarioResult & { nonEchoFrames: number }> {
  const portico = new PorticoWeb(join(here, "../../core/cli/portico.js"), join(here, "../fixtures/echo-game.js"));
  try {
    await portico.start();
    const target = new WsEcho({ url: portico.url, sessions: params.sessions, format: "v1", serverCpuMs: () => portico.cpuMs(), failed: portico.failed });
    const result = await measure("Portico websocket round trip (portico start + echo game)", target);
    return { ...result, nonEchoFrames: target.other };
  } finally {
    await portico.close();
  }
}

const row = (r: ScenarioResult) =>
  `| ${r.label} | ${Math.round(r.throughput.perSecond)} | ${r.throughput.lost} | ${r.throughput.childCpuUsPerMsg === null ? "n/a" : r.throughput.childCpuUsPerMsg.toFixed(1)} | ${Math.round(r.latency.p50Us)} | ${Math.round(r.latency.p99Us)} | ${Math.round(r.latency.maxUs)} |`;

async function main(): Promise<void> {
  const started = Date.now();
  const date = new Date().toISOString();
  const machine = machineInfo();
  const before = await rawScenario("raw ws echo (before)");
  const portico = await porticoScenario();
  const after = await rawScenario("raw ws echo (after)");
  const rawMean = (before.throughput.perSecond + after.throughput.perSecond) / 2;
  const report = {
    schema: "portico-bench-websocket/1", date, machine, params, raw: [before, after], portico,
    ratio: { rawMeanPerSecond: rawMean, porticoOverRawMean: portico.throughput.perSecond / rawMean },
    durationSeconds: (Date.now() - started) / 1000,
  };
  const lines = [
    `websocket round trips, ${params.sessions} sessions, window ${params.window}, ${machine.cores} × ${machine.cpuModel}, node ${machine.node}`,
    "| scenario | round trips/s | lost | server CPU µs/msg | p50 µs | p99 µs | max µs |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    row(before), row(portico), row(after),
    `Portico / raw ws echo (mean of before and after): ${(report.ratio.porticoOverRawMean * 100).toFixed(1)} %`,
  ];
  const json = JSON.stringify(report);
  if (args.json) writeFileSync(args.json, json + "\n");
  process.stdout.write(lines.join("\n") + "\n" + json + "\n");
}

runBench(main, { label: "websocket bench", watchdogMs: 90_000 });
