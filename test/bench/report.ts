import { cpus, loadavg, platform, release, arch, totalmem } from "node:os";
import type { ClosedLoopResult } from "./load.js";
import type { Latency } from "./stats.js";

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  node: string;
  platform: string;
  arch: string;
  totalMemMiB: number;
  /** 1-minute load average when the run started (other work on the machine). */
  loadavg1: number;
}

export interface ScenarioResult {
  label: string;
  throughput: ClosedLoopResult;
  latency: Latency;
}

export interface TargetCheck {
  name: string;
  target: string;
  value: number;
  unit: string;
  met: boolean;
}

export interface BenchReport {
  schema: "portico-bench/1";
  date: string;
  command: string;
  machine: MachineInfo;
  params: Record<string, number>;
  /** The baseline (batched raw echo), run before and after Portico. */
  raw: ScenarioResult[];
  /** For context: the raw echo with one socket.write per message and per reply. */
  rawPerMessage: ScenarioResult;
  portico: ScenarioResult & { sessions: number; nonEchoLines: number };
  ratio: { rawMeanPerSecond: number; porticoOverRawMean: number; porticoOverEachRaw: number[]; porticoOverRawPerMessage: number };
  targets: TargetCheck[];
  durationSeconds: number;
}

export function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    cpuModel: list[0]?.model.trim() ?? "unknown",
    cores: list.length,
    node: process.version,
    platform: `${platform()} ${release()}`,
    arch: arch(),
    totalMemMiB: Math.round(totalmem() / 2 ** 20),
    loadavg1: loadavg()[0]!,
  };
}

/** Portico's throughput targets (docs/performance.md, from the performance notes). */
export function checkTargets(portico: ScenarioResult, ratio: number): TargetCheck[] {
  const t = portico.throughput;
  return [
    { name: "peak round trips", target: ">= 30000", value: t.perSecond, unit: "commands/s", met: t.perSecond >= 30_000 },
    { name: "share of raw TCP echo", target: ">= 30", value: ratio * 100, unit: "%", met: ratio >= 0.3 },
    { name: "portal CPU per command", target: "<= 20", value: t.benchCpuUsPerMsg, unit: "µs", met: t.benchCpuUsPerMsg <= 20 },
  ];
}

const int = (n: number) => Math.round(n).toLocaleString("en-US");
const one = (n: number) => n.toFixed(1);
const cpu = (us: number | null, pct: number | null) => (us === null || pct === null ? "n/a" : `${one(us)} (${Math.round(pct)}%)`);

function pad(cells: string[][]): string {
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)));
  return cells.map((row) => row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ")).join("\n");
}

/** The human-readable summary printed before the JSON line. */
export function formatReport(r: BenchReport): string {
  const m = r.machine;
  const rows: string[][] = [["scenario", "msgs/s", "msgs", "lost", "bench CPU µs/msg (core)", "child CPU µs/msg (core)", "p50 µs", "p99 µs"]];
  const portico = { ...r.portico, label: `${r.portico.label}, ${r.portico.sessions} sessions` };
  for (const s of [r.raw[0]!, r.rawPerMessage, portico, ...r.raw.slice(1)]) {
    const t = s.throughput;
    rows.push([s.label, int(t.perSecond), int(t.messages), String(t.lost), cpu(t.benchCpuUsPerMsg, t.benchCpuPercent), cpu(t.childCpuUsPerMsg, t.childCpuPercent), int(s.latency.p50Us), int(s.latency.p99Us)]);
  }
  const lines = [
    `Portico throughput benchmark — ${r.date}`,
    `machine: ${m.cpuModel}, ${m.cores} cores, ${m.totalMemMiB} MiB, ${m.platform} ${m.arch}, node ${m.node}, load avg ${m.loadavg1.toFixed(2)} at start`,
    `window ${r.params.window} in flight, warm-up ${r.params.warmupMs} ms, measure ${r.params.durationMs} ms${r.params.maxMessages > 0 ? ` or ${int(r.params.maxMessages)} msgs` : ""}; latency: ${r.params.latencyCount} sequential round trips`,
    ...(r.params.linkBatchMaxBytes !== undefined ? [`portal link.batchMaxBytes = ${r.params.linkBatchMaxBytes} (not the default)`] : []),
    "bench CPU = this process (raw client, or portal + load generator); child CPU = raw echo server or echo game",
    "",
    pad(rows),
    "",
    `Portico / raw echo: ${(r.ratio.porticoOverRawMean * 100).toFixed(1)} % of the raw mean (${int(r.ratio.rawMeanPerSecond)} msgs/s); per raw run: ${r.ratio.porticoOverEachRaw.map((x) => `${(x * 100).toFixed(1)} %`).join(", ")}`,
    `Portico / raw echo with a write per message (context only): ${(r.ratio.porticoOverRawPerMessage * 100).toFixed(1)} %`,
    `non-echo lines during load: ${r.portico.nonEchoLines}`,
    "targets:",
    ...r.targets.map((t) => `  ${t.met ? "MET   " : "MISSED"} ${t.name}: ${t.value.toFixed(1)} ${t.unit} (target ${t.target})`),
    `total run time ${r.durationSeconds.toFixed(1)} s`,
  ];
  return lines.join("\n");
}
