import { renderAnsiLine, type ColourDepth } from "../../core/render/index.js";
import { LineAssembler } from "../../plugins/telnet/line-assembler.js";
import { escapeIac } from "../../plugins/telnet/output-pipe.js";
import { TelnetParser } from "../../plugins/telnet/telnet-parser.js";
import { crlf, encodeOutput } from "../../plugins/telnet/text-encoding.js";
import type { InputStream } from "./telnet-corpus.js";

/** In-process measurements (no sockets): the inbound parser and the markup renderer. */

export interface ParserResult {
  chunkBytes: number;
  bytes: number;
  seconds: number;
  bytesPerSecond: number;
  lines: number;
  linesPerSecond: number;
  subnegotiations: number;
  /** Every pass over the stream produced exactly its lines and subnegotiations, and no protocol error. */
  checked: boolean;
}

const now = () => process.hrtime.bigint();
const secondsSince = (t0: bigint) => Number(now() - t0) / 1e9;

/**
 * Client input through TelnetParser + LineAssembler (the session's wiring, minus the session):
 * the stream is fed again and again in `chunkBytes` pieces (views, so chunk boundaries fall
 * anywhere, inside sequences too) for about `durationMs`, after an unmeasured warm-up pass.
 */
export function measureParser(input: InputStream, chunkBytes: number, durationMs: number): ParserResult {
  let lines = 0;
  let subnegotiations = 0;
  let errors = 0;
  let idle = 0;
  const assembler = new LineAssembler({
    line: () => (lines += 1),
    overflow: () => (errors += 1),
    idle: () => (idle += 1),
  }, 64 * 1024);
  const parser = new TelnetParser({
    data: (b) => assembler.push(b),
    negotiate: () => undefined,
    subnegotiation: () => (subnegotiations += 1),
    command: () => undefined,
    protocolError: () => (errors += 1),
  }, 64 * 1024);
  const chunks: Buffer[] = [];
  for (let at = 0; at < input.bytes.length; at += chunkBytes) chunks.push(input.bytes.subarray(at, at + chunkBytes));
  const pass = () => {
    for (const c of chunks) parser.push(c);
  };
  for (let i = 0; i < 3; i += 1) pass(); // warm-up (JIT)
  lines = 0;
  subnegotiations = 0;
  let passes = 0;
  const t0 = now();
  const budget = durationMs / 1000;
  let seconds = 0;
  do {
    pass();
    passes += 1;
    seconds = secondsSince(t0);
  } while (seconds < budget);
  const bytes = passes * input.bytes.length;
  const checked = errors === 0 && lines === passes * input.lines && subnegotiations === passes * input.subnegotiations && idle === 0;
  return { chunkBytes, bytes, seconds, bytesPerSecond: bytes / seconds, lines, linesPerSecond: lines / seconds, subnegotiations, checked };
}

export interface RenderResult {
  depth: ColourDepth;
  cache: "warm" | "cold";
  lines: number;
  seconds: number;
  linesPerSecond: number;
  /** Markup in (UTF-8 bytes) and rendered text out (UTF-8 bytes) per second. */
  markupBytesPerSecond: number;
  outputBytesPerSecond: number;
  /** Mean rendered bytes per line. */
  outputBytesPerLine: number;
}

/**
 * renderAnsiLine over the markup corpus at one colour depth for about `durationMs`. Warm: the
 * corpus lines repeat, so after the first round every call is a cache hit. Cold: every line gets a
 * unique `[<n>] ` prefix, so every call tokenizes and renders, and inserts into the full LRU cache
 * (evicting its oldest entry), as unique game output does.
 */
export function measureRender(markup: readonly string[], depth: ColourDepth, cache: "warm" | "cold", durationMs: number, counterStart: number): RenderResult {
  const options = { depth, mxp: false };
  const inBytes = markup.map((m) => Buffer.byteLength(m, "utf8"));
  const outBytes = markup.map((m) => Buffer.byteLength(renderAnsiLine(m, options), "utf8"));
  let counter = counterStart;
  let sink = 0;
  let lines = 0;
  let markupBytes = 0;
  let outputBytes = 0;
  const n = markup.length;
  const budget = durationMs / 1000;
  const round = cache === "warm"
    ? () => {
      for (let i = 0; i < n; i += 1) sink += renderAnsiLine(markup[i]!, options).length;
      lines += n;
      for (let i = 0; i < n; i += 1) {
        markupBytes += inBytes[i]!;
        outputBytes += outBytes[i]!;
      }
    }
    : () => {
      for (let i = 0; i < n; i += 1) {
        const prefix = `[${counter++}] `;
        sink += renderAnsiLine(prefix + markup[i]!, options).length;
        markupBytes += inBytes[i]! + prefix.length;
        outputBytes += outBytes[i]! + prefix.length;
      }
      lines += n;
    };
  for (let i = 0; i < 5; i += 1) round(); // warm-up (JIT; fills the cache for "warm")
  lines = 0;
  markupBytes = 0;
  outputBytes = 0;
  const t0 = now();
  let seconds = 0;
  do {
    round();
    seconds = secondsSince(t0);
  } while (seconds < budget);
  if (sink < 0) throw new Error("unreachable");
  return {
    depth, cache, lines, seconds, linesPerSecond: lines / seconds,
    markupBytesPerSecond: markupBytes / seconds, outputBytesPerSecond: outputBytes / seconds, outputBytesPerLine: outputBytes / lines,
  };
}

export interface TextPathResult {
  lines: number;
  seconds: number;
  linesPerSecond: number;
  outputBytesPerSecond: number;
  /** Nanoseconds per line. */
  nsPerLine: number;
}

/**
 * What TelnetSession.send_text does to a line before the output pipe, warm cache, truecolor:
 * renderAnsiLine, crlf, the CR LF check, UTF-8 encoding and IAC escaping (no socket).
 */
export function measureTextPath(markup: readonly string[], durationMs: number): TextPathResult {
  const options = { depth: "truecolor" as const, mxp: false };
  const n = markup.length;
  let lines = 0;
  let bytes = 0;
  const round = () => {
    for (let i = 0; i < n; i += 1) {
      let body = crlf(renderAnsiLine(markup[i]!, options));
      if (!body.endsWith("\r\n")) body += "\r\n";
      bytes += escapeIac(encodeOutput(body, "utf-8")).length;
    }
    lines += n;
  };
  for (let i = 0; i < 5; i += 1) round();
  lines = 0;
  bytes = 0;
  const t0 = now();
  const budget = durationMs / 1000;
  let seconds = 0;
  do {
    round();
    seconds = secondsSince(t0);
  } while (seconds < budget);
  return { lines, seconds, linesPerSecond: lines / seconds, outputBytesPerSecond: bytes / seconds, nsPerLine: (seconds * 1e9) / lines };
}

/** The exact bytes TelnetSession.send_text writes for one line at a depth (the raw baseline sends these). */
export function wireBytes(markup: string, depth: ColourDepth): Buffer {
  let body = crlf(renderAnsiLine(markup, { depth, mxp: false }));
  if (!body.endsWith("\r\n")) body += "\r\n";
  return escapeIac(encodeOutput(body, "utf-8"));
}
