import { FrameDecoder, encodeFrame } from "../../core/link/frame-codec.js";
import { machineInfo } from "./report.js";

/**
 * Micro-benchmark (in-process, no sockets) of the link's FrameDecoder: one 16 MiB frame fed in
 * 1-byte, 4 KiB and 1 MiB chunks, plus many small frames in one chunk. The decoder must be linear
 * in the bytes received whatever the chunking (issue 11, item 5); this prints the figure, it
 * asserts nothing about time. For comparison, the decoder it replaced (quadratic when the first
 * buffered chunk is under 4 bytes) is timed on much smaller frames in 1-byte chunks.
 * Run: `npm run bench:decoder` (or `node dist/test/bench/frame-decoder-micro.js` after a build).
 */

const MIB = 1024 * 1024;
const RUNS = 3;

interface Decoder {
  push(chunk: Buffer): string[];
  readonly pendingBytes: number;
}

/** The decoder before issue 11, kept here only as a baseline. */
class PreviousFrameDecoder implements Decoder {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private readonly maxFrameBytes: number) {}

  get pendingBytes(): number {
    return this.buffered;
  }

  push(chunk: Buffer): string[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: string[] = [];
    while (this.buffered >= 4) {
      const first = this.chunks[0]!;
      const head = first.length >= 4 ? first.readUInt32BE(0) : Buffer.concat(this.chunks, this.buffered).readUInt32BE(0);
      if (head === 0 || head > this.maxFrameBytes) throw new Error(`bad length ${head}`);
      if (this.buffered < 4 + head) break;
      const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered);
      frames.push(all.toString("utf8", 4, 4 + head));
      const rest = all.subarray(4 + head);
      this.chunks = rest.length ? [rest] : [];
      this.buffered = rest.length;
    }
    return frames;
  }
}

/** A frame whose body is JSON of exactly `bodyBytes` UTF-8 bytes (ASCII with some multi-byte characters). */
function makeFrame(bodyBytes: number): { frame: Buffer; body: string } {
  const unit = 'é€ abcdefghijklmnopqrstuvwxyz 0123456789 "quoted" ';
  const inner = bodyBytes - 4; // ["…"]
  let s = unit.repeat(Math.ceil(inner / Buffer.byteLength(unit)));
  while (Buffer.byteLength(s) > inner) s = s.slice(0, s.length - Math.max(1, Buffer.byteLength(s) - inner));
  s += "x".repeat(inner - Buffer.byteLength(s));
  const body = `["${s}"]`;
  if (Buffer.byteLength(body) !== bodyBytes) throw new Error("bad body size");
  return { frame: encodeFrame(body), body };
}

/** Chunks of `size` bytes as views into `data`; 1-byte chunks reuse one buffer per byte value so that making them is not timed. */
function chunksOf(data: Buffer, size: number): Buffer[] | ((i: number) => Buffer) {
  if (size === 1) {
    const singles = Array.from({ length: 256 }, (_, v) => Buffer.from([v]));
    return (i: number) => singles[data[i]!]!;
  }
  const out: Buffer[] = [];
  for (let at = 0; at < data.length; at += size) out.push(data.subarray(at, at + size));
  return out;
}

interface CaseResult {
  label: string;
  bytes: number;
  ms: number[];
}

function feed(make: () => Decoder, data: Buffer, chunkBytes: number, expectFrames: number): number {
  const chunks = chunksOf(data, chunkBytes);
  const decoder = make();
  let frames = 0;
  const t0 = process.hrtime.bigint();
  if (typeof chunks === "function") {
    for (let i = 0; i < data.length; i++) frames += decoder.push(chunks(i)).length;
  } else {
    for (const c of chunks) frames += decoder.push(c).length;
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (frames !== expectFrames || decoder.pendingBytes !== 0) throw new Error(`decoded ${frames} frames, ${decoder.pendingBytes} bytes left; expected ${expectFrames}`);
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pad = (s: string, n: number) => s.padEnd(n);
const lpad = (s: string, n: number) => s.padStart(n);

/** Times one case and prints its line at once. */
function runCase(label: string, make: () => Decoder, data: Buffer, chunkBytes: number, expectFrames: number, runs = RUNS): CaseResult {
  const ms: number[] = [];
  for (let r = 0; r < runs; r++) ms.push(feed(make, data, chunkBytes, expectFrames));
  const m = median(ms);
  const mbps = data.length / 1e6 / (m / 1000);
  console.log(`${pad(label, 52)} ${lpad(data.length.toLocaleString("en-US"), 10)} ${lpad(m.toFixed(1), 10)} ${lpad(mbps.toFixed(mbps < 10 ? 3 : 1), 10)}`);
  return { label, bytes: data.length, ms };
}

function main(): void {
  const info = machineInfo();
  console.log("micro-benchmark (in-process, no sockets): link FrameDecoder");
  console.log(`node ${info.node}, cpu ${info.cpuModel} (${info.cores} cores), ${info.platform} ${info.arch}`);
  console.log(`median of ${RUNS} runs per case (1-byte chunks of the previous decoder: 1 run)`);
  console.log("");

  const big = makeFrame(16 * MIB).frame;
  const max = 16 * MIB;
  const current = () => new FrameDecoder(max);
  const results: CaseResult[] = [];

  // Warm-up (JIT), not reported.
  const warm = makeFrame(MIB).frame;
  for (const size of [1, 4096, MIB]) feed(current, warm, size, 1);

  console.log(`${pad("case", 52)} ${lpad("bytes", 10)} ${lpad("ms", 10)} ${lpad("MB/s", 10)}`);

  // The same chunking on a frame 16 times smaller: linear means about 1/16 of the time.
  results.push(runCase(`FrameDecoder   1 MiB frame, 1 B chunks`, current, warm, 1, 1));
  for (const [size, name] of [[1, "1 B"], [4096, "4 KiB"], [MIB, "1 MiB"]] as const) {
    results.push(runCase(`FrameDecoder   16 MiB frame, ${name} chunks`, current, big, size, 1));
  }
  const smallBodies = Array.from({ length: 100_000 }, (_, i) => JSON.stringify([{ op: "data-in", sessid: `portal:1:${i % 50}`, cmds: [["text", [`look ${i}`], {}]] }]));
  const many = Buffer.concat(smallBodies.map((b) => encodeFrame(b)));
  results.push(runCase(`FrameDecoder   ${smallBodies.length} small frames, one chunk`, current, many, many.length, smallBodies.length));
  results.push(runCase(`FrameDecoder   same small frames, 64 KiB chunks`, current, many, 64 * 1024, smallBodies.length));

  // The replaced decoder: quadratic in 1-byte chunks, so only small frames.
  for (const kib of [4, 8, 16]) {
    const { frame } = makeFrame(kib * 1024);
    results.push(runCase(`previous       ${kib} KiB frame, 1 B chunks`, () => new PreviousFrameDecoder(max), frame, 1, 1, 1));
  }
  results.push(runCase(`previous       16 MiB frame, 4 KiB chunks`, () => new PreviousFrameDecoder(max), big, 4096, 1));
  const last16KiB = median(results.find((r) => r.label.includes("16 KiB frame, 1 B"))!.ms);
  const days = (last16KiB * 1024 * 1024) / 1000 / 86_400;
  console.log("");
  console.log(`previous decoder, 1 B chunks: quadratic (x4 per doubling); a 16 MiB frame extrapolates to about ${days.toFixed(0)} days.`);
}

main();
