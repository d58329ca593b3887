import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import "reflect-metadata";
import { colourDepthFor, type ColourDepth } from "../../core/render/index.js";
import { runBench } from "./bench-main.js";
import { machineInfo } from "./report.js";
import { clientInputStream, gameOutputMarkup } from "./telnet-corpus.js";
import { measureParser, measureRender, measureTextPath, wireBytes, type RenderResult } from "./telnet-micro.js";
import { RawStream, TelnetPortal, TelnetStream, pacedLoop, streamLoop, type PacedLoopOptions, type StreamLoopOptions, type StreamTarget } from "./telnet-output.js";
import { formatTelnetReport, type OutputScenario, type TelnetBenchReport } from "./telnet-report.js";

/**
 * Telnet throughput, in one bounded run (about 24 s, loopback only; a watchdog stops it at 30 s):
 *  1. inbound: realistic client input through TelnetParser + LineAssembler, in 64 B and 16 KiB chunks;
 *  2. renderer: renderAnsiLine at truecolor / xterm256 / ansi16 / none, cache warm and cold, plus
 *     send_text's whole text path (render, CR LF, encode, IAC escape);
 *  3. output end to end: a Portal with the telnet listener on 127.0.0.1, clients in a child process
 *     (telnet-sink.js) that negotiate like a MUD client, lines pushed through handler.data_out, with
 *     MCCP2 off and on;
 *  4. baselines in the same run: the same wire bytes written straight to plain TCP sockets (before
 *     and after), and through a zlib stream with MCCP2's settings.
 * Prints a table; the last stdout line is the report as JSON (also written to --json <path>).
 * Each output case runs in two shapes: bulk (closed loop, `--window` lines in flight, many lines per
 * session per tick) and interactive (open loop, --interactive-clients sessions: one line per session
 * every 2 ms).
 * Run: `node dist/test/bench/telnet-bench.js` after `npx tsc -p tsconfig.json`. Options: --window
 * --clients --warmup-ms --duration-ms --interactive-ms --interactive-clients --parser-ms --render-ms --raw-writes tick|line --json.
 */
const WATCHDOG_MS = 30_000;

const { values: args } = parseArgs({
  options: {
    json: { type: "string" },
    window: { type: "string", default: "1000" },
    clients: { type: "string", default: "4" },
    "warmup-ms": { type: "string", default: "400" },
    "duration-ms": { type: "string", default: "2000" },
    "interactive-ms": { type: "string", default: "1200" },
    "interactive-clients": { type: "string", default: "16" },
    "parser-ms": { type: "string", default: "600" },
    "render-ms": { type: "string", default: "250" },
    /** The raw baselines' write shape: "tick" (like OutputPipe: one writev / one zlib write per tick) or "line". */
    "raw-writes": { type: "string", default: "tick" },
  },
});

function whole(name: keyof typeof args, min = 1): number {
  const n = Number(args[name]);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be a whole number >= ${min}`);
  return n;
}

/** The client's TTYPE answers (MUDLET, ANSI-TRUECOLOR, MTTS 269) make the session render truecolor. */
const DEPTH: ColourDepth = "truecolor";
const CORPUS_LINES = 240;
const rawWrites: "tick" | "line" = ((w) => {
  if (w !== "tick" && w !== "line") throw new Error("--raw-writes must be tick or line");
  return w;
})(args["raw-writes"]);
const INPUT_BYTES = 256 * 1024;
const params = {
  window: whole("window"),
  clients: whole("clients"),
  warmupMs: whole("warmup-ms", 0),
  durationMs: whole("duration-ms"),
  interactiveMs: whole("interactive-ms"),
  interactiveClients: whole("interactive-clients"),
  parserMs: whole("parser-ms"),
  renderMs: whole("render-ms"),
  corpusLines: CORPUS_LINES,
  inputBytes: INPUT_BYTES,
  depth: DEPTH,
  rawWrites,
};
/** Bulk: closed loop with `window` lines in flight, so a tick carries many lines per session. */
const bulk: StreamLoopOptions = { window: params.window, warmupMs: params.warmupMs, durationMs: params.durationMs, drainMs: 3000 };
/** Interactive: open loop, one line per session every 2 ms (interactive clients × 500 lines/s at most). */
const interactive: PacedLoopOptions = { perTick: params.interactiveClients, intervalMs: 2, warmupMs: 300, durationMs: params.interactiveMs, drainMs: 3000 };
const here = dirname(fileURLToPath(import.meta.url));
const sinkScript = join(here, "telnet-sink.js");

interface Closable extends StreamTarget {
  start(): Promise<void>;
  close(): Promise<void>;
}

/** Makes a target with this many clients, starts it, measures it in one shape, and always closes it. */
async function scenario(label: string, kind: OutputScenario["kind"], shape: OutputScenario["shape"], make: (clients: number) => Closable): Promise<OutputScenario> {
  const target = make(shape === "bulk" ? params.clients : params.interactiveClients);
  try {
    await target.start();
    const r = shape === "bulk" ? await streamLoop(target, bulk) : await pacedLoop(target, interactive);
    process.stderr.write(`telnet bench: ${label}, ${shape}: ${Math.round(r.perSecond)} lines/s, ${(r.bytesPerSecond / 1e6).toFixed(1)} MB/s, ${r.benchCpuUsPerMsg.toFixed(2)} µs/line\n`);
    return { label, kind, shape, ...r };
  } finally {
    await target.close();
  }
}

async function main(): Promise<void> {
  const started = process.hrtime.bigint();
  const date = new Date().toISOString();
  const machine = machineInfo();
  const markup = gameOutputMarkup(CORPUS_LINES);
  const input = clientInputStream(INPUT_BYTES);

  // 1. Inbound parser.
  const parser = [64, 16 * 1024].map((size) => measureParser(input, size, params.parserMs));
  process.stderr.write(`telnet bench: parser done\n`);

  // 2. Renderer; the cold runs share one counter so no line ever repeats.
  const render: RenderResult[] = [];
  let counter = 0;
  for (const depth of ["truecolor", "xterm256", "ansi16", "none"] as const) {
    for (const cache of ["warm", "cold"] as const) {
      const r = measureRender(markup, depth, cache, params.renderMs, counter);
      counter += 10_000_000;
      render.push(r);
    }
  }
  const textPath = measureTextPath(markup, params.renderMs);
  process.stderr.write(`telnet bench: renderer done\n`);

  // 3 and 4. Output: raw, telnet, telnet + MCCP2, raw + zlib, raw again (bulk only, for drift).
  const wire = markup.map((m) => wireBytes(m, DEPTH));
  const raw = (deflate: boolean) => (clients: number) => new RawStream(sinkScript, wire, clients, deflate, rawWrites);
  const rawBefore = await scenario("raw TCP", "raw", "bulk", raw(false));
  const rawInteractive = await scenario("raw TCP", "raw", "interactive", raw(false));
  const host = new TelnetPortal();
  const telnet: OutputScenario[] = [];
  const mccp: OutputScenario[] = [];
  let sessionFlags: Record<string, unknown> = {};
  try {
    await host.start();
    const made: TelnetStream[] = [];
    for (const shape of ["bulk", "interactive"] as const) {
      telnet.push(await scenario("telnet, MCCP2 off", "telnet", shape, (clients) => {
        made.push(new TelnetStream(host, sinkScript, markup, clients, false));
        return made[made.length - 1]!;
      }));
      // The raw baselines send truecolor without MXP: the sessions must have rendered exactly that.
      const flags = made[made.length - 1]!.flags;
      const resolved = colourDepthFor(flags, {});
      if (resolved.depth !== DEPTH || resolved.mxp) throw new Error(`the telnet sessions rendered at ${resolved.depth}${resolved.mxp ? " with MXP" : ""}, not ${DEPTH}; the raw baseline sent other bytes`);
      sessionFlags = Object.fromEntries(["CLIENTNAME", "TTYPE", "TRUECOLOR", "XTERM256", "MXP", "NOGOAHEAD", "ENCODING", "MCCP"].map((k) => [k, flags[k]]));
    }
    for (const shape of ["bulk", "interactive"] as const) {
      mccp.push(await scenario("telnet, MCCP2 on", "telnet+mccp2", shape, (clients) => new TelnetStream(host, sinkScript, markup, clients, true)));
    }
  } finally {
    await host.close();
  }
  const zlibBulk = await scenario("raw TCP + zlib", "raw+zlib", "bulk", raw(true));
  const zlibInteractive = await scenario("raw TCP + zlib", "raw+zlib", "interactive", raw(true));
  const rawAfter = await scenario("raw TCP (after)", "raw", "bulk", raw(false));

  const rawBulk = [rawBefore, rawAfter];
  const rawMean = rawBulk.reduce((sum, r) => sum + r.perSecond, 0) / rawBulk.length;
  const [telnetBulk, telnetInteractive] = telnet as [OutputScenario, OutputScenario];
  const [mccpBulk, mccpInteractive] = mccp as [OutputScenario, OutputScenario];
  const report: TelnetBenchReport = {
    schema: "portico-telnet-bench/1",
    date,
    command: ["node", ...process.execArgv, ...process.argv.slice(1)].join(" "),
    machine,
    params,
    parser,
    render,
    textPath,
    output: [rawBefore, rawInteractive, telnetBulk, telnetInteractive, mccpBulk, mccpInteractive, zlibBulk, zlibInteractive, rawAfter],
    sessionFlags,
    ratios: {
      rawMeanLinesPerSecond: rawMean,
      telnetOverRawMean: telnetBulk.perSecond / rawMean,
      telnetOverEachRaw: rawBulk.map((r) => telnetBulk.perSecond / r.perSecond),
      mccpOverRawZlib: mccpBulk.perSecond / zlibBulk.perSecond,
      mccpOverTelnet: mccpBulk.perSecond / telnetBulk.perSecond,
      interactiveCpuUsPerLine: { raw: rawInteractive.benchCpuUsPerMsg, telnet: telnetInteractive.benchCpuUsPerMsg, telnetMccp2: mccpInteractive.benchCpuUsPerMsg, rawZlib: zlibInteractive.benchCpuUsPerMsg },
    },
    durationSeconds: Number(process.hrtime.bigint() - started) / 1e9,
  };
  const json = JSON.stringify(report);
  if (args.json) writeFileSync(args.json, json + "\n");
  process.stdout.write(formatTelnetReport(report) + "\n" + json + "\n");
}

runBench(main, { label: "telnet bench", watchdogMs: WATCHDOG_MS });
