import type { MachineInfo } from "./report.js";
import type { ParserResult, RenderResult, TextPathResult } from "./telnet-micro.js";
import type { StreamResult } from "./telnet-output.js";

export interface OutputScenario extends StreamResult {
  label: string;
  kind: "raw" | "raw+zlib" | "telnet" | "telnet+mccp2";
  /** bulk: closed loop, many lines per session per tick; interactive: paced, one line per session per 2 ms tick. */
  shape: "bulk" | "interactive";
}

export interface TelnetBenchReport {
  schema: "portico-telnet-bench/1";
  date: string;
  command: string;
  machine: MachineInfo;
  params: Record<string, number | string>;
  parser: ParserResult[];
  render: RenderResult[];
  textPath: TextPathResult;
  /** Raw, telnet, telnet + MCCP2, raw + zlib (each bulk then interactive), raw again (bulk), in run order. */
  output: OutputScenario[];
  /** The telnet session's flags that decide rendering (from the first session). */
  sessionFlags: Record<string, unknown>;
  ratios: {
    rawMeanLinesPerSecond: number;
    telnetOverRawMean: number;
    telnetOverEachRaw: number[];
    mccpOverRawZlib: number;
    mccpOverTelnet: number;
    /** Bench (portal or raw server) CPU per line, one line per session per tick. */
    interactiveCpuUsPerLine: { raw: number; telnet: number; telnetMccp2: number; rawZlib: number };
  };
  durationSeconds: number;
}

const int = (n: number) => Math.round(n).toLocaleString("en-US");
const mb = (bytesPerSecond: number) => (bytesPerSecond / 1e6).toFixed(1);
const cpu = (us: number | null, pct: number | null) => (us === null || pct === null ? "n/a" : `${us.toFixed(2)} (${Math.round(pct)}%)`);

function pad(cells: string[][]): string {
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)));
  return cells.map((row) => row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ")).join("\n");
}

/** The human-readable summary printed before the JSON line. */
export function formatTelnetReport(r: TelnetBenchReport): string {
  const m = r.machine;
  const p = r.params;
  const parser = [["inbound: TelnetParser + LineAssembler", "chunk", "MB/s", "lines/s", "checked"]];
  for (const x of r.parser) parser.push(["client input (lines, NAWS, GMCP, NOP, IAC IAC)", `${int(x.chunkBytes)} B`, mb(x.bytesPerSecond), int(x.linesPerSecond), x.checked ? "ok" : "MISMATCH"]);
  const render = [["renderer: renderAnsiLine", "cache", "lines/s", "markup MB/s", "output MB/s", "out B/line", "ns/line"]];
  for (const x of r.render) {
    render.push([x.depth, x.cache, int(x.linesPerSecond), mb(x.markupBytesPerSecond), mb(x.outputBytesPerSecond), x.outputBytesPerLine.toFixed(0), (1e9 / x.linesPerSecond).toFixed(0)]);
  }
  const t = r.textPath;
  render.push(["send_text text path (truecolor)", "warm", int(t.linesPerSecond), "", mb(t.outputBytesPerSecond), "", t.nsPerLine.toFixed(0)]);
  const out = [["output to loopback clients", "shape", "lines/s", "MB/s", "wire MB/s", "ratio", "B/line", "bench CPU µs/line (core)", "client CPU µs/line (core)", "lost"]];
  for (const s of r.output) {
    out.push([s.label, s.shape, int(s.perSecond), mb(s.bytesPerSecond), mb(s.wirePerSecond), s.compressionRatio.toFixed(2), (s.bytes / s.messages).toFixed(1),
      cpu(s.benchCpuUsPerMsg, s.benchCpuPercent), cpu(s.childCpuUsPerMsg, s.childCpuPercent), String(s.lost)]);
  }
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  const i = r.ratios.interactiveCpuUsPerLine;
  const lines = [
    `Portico telnet throughput benchmark — ${r.date}`,
    `machine: ${m.cpuModel}, ${m.cores} cores, ${m.totalMemMiB} MiB, ${m.platform} ${m.arch}, node ${m.node}, load avg ${m.loadavg1.toFixed(2)} at start`,
    `parser ${p.parserMs} ms per chunk size over ${int(Number(p.inputBytes))} B of client input; renderer ${p.renderMs} ms per case over ${p.corpusLines} markup lines`,
    `output: ${p.clients} clients; bulk: ${p.window} lines in flight, warm-up ${p.warmupMs} ms, measure ${p.durationMs} ms; interactive: ${p.interactiveClients} clients, 1 line per client every 2 ms, measure ${p.interactiveMs} ms; depth ${p.depth}; raw baselines write per ${p.rawWrites}`,
    "MB/s = logical bytes (after inflating); ratio = logical / wire; bench CPU = this process (portal or raw server, plus the driver); client CPU = the sink child",
    "",
    pad(parser),
    "",
    pad(render),
    "",
    pad(out),
    "",
    `bulk telnet / raw: ${pct(r.ratios.telnetOverRawMean)} of the raw mean (${int(r.ratios.rawMeanLinesPerSecond)} lines/s); per raw run: ${r.ratios.telnetOverEachRaw.map(pct).join(", ")}`,
    `bulk telnet + MCCP2 / raw + zlib: ${pct(r.ratios.mccpOverRawZlib)}; telnet + MCCP2 / telnet: ${pct(r.ratios.mccpOverTelnet)}`,
    `interactive bench CPU µs/line: raw ${i.raw.toFixed(2)}, telnet ${i.telnet.toFixed(2)}, telnet + MCCP2 ${i.telnetMccp2.toFixed(2)}, raw + zlib ${i.rawZlib.toFixed(2)}`,
    `session flags: ${JSON.stringify(r.sessionFlags)}`,
    `total run time ${r.durationSeconds.toFixed(1)} s`,
  ];
  return lines.join("\n");
}
