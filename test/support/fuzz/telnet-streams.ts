import { LineAssembler } from "../../../plugins/telnet/line-assembler.js";
import { TelnetParser } from "../../../plugins/telnet/telnet-parser.js";
import type { Rng } from "../prng.js";
import { mutateBytes } from "./mutate.js";

/**
 * Random and mutated telnet streams (truncated and oversized subnegotiations, lone IAC, 0xFF runs,
 * NUL, invalid UTF-8, 1 MB lines) and a checked TelnetParser + LineAssembler pipeline, for the
 * telnet fuzz target (test/torture/fuzz-telnet.test.ts).
 */

import { DO, DONT, IAC, SB, SE, WILL, WONT } from "../telnet-bytes.js";
export { DO, DONT, IAC, SB, SE, WILL, WONT };
const KNOWN_OPTIONS = [1, 3, 24, 25, 31, 34, 42, 69, 70, 86, 91, 201];

/** Doubles every 0xFF (a valid telnet encoding of the bytes). */
export function escapeIac(b: Buffer): Buffer {
  let count = 0;
  for (let at = b.indexOf(IAC); at >= 0; at = b.indexOf(IAC, at + 1)) count++;
  if (count === 0) return b;
  const out = Buffer.allocUnsafe(b.length + count);
  let o = 0;
  for (const x of b) {
    out[o++] = x;
    if (x === IAC) out[o++] = IAC;
  }
  return out;
}

function option(rng: Rng): number {
  return rng.chance(0.7) ? rng.pick(KNOWN_OPTIONS) : rng.int(256);
}

/** A plausible (or deliberately broken) subnegotiation payload for an option. */
function sbPayload(rng: Rng, opt: number): Buffer {
  switch (rng.chance(0.5) ? opt : -1) {
    case 31: return rng.chance(0.8) ? Buffer.from([rng.int(256), rng.int(256), rng.int(256), rng.int(256)]) : rng.bytes(rng.int(9));
    case 24: return Buffer.concat([Buffer.from([rng.int(3)]), Buffer.from(rng.pick(["TINTIN++", "xterm-256color", "MTTS 271", "", "MUDLET 4.17", "\u00ff\u0000"]), "latin1")]);
    case 201: return Buffer.from(rng.pick([
      'Core.Hello {"client":"fuzz","version":"1"}', "Core.Supports.Set [\"Char 1\", 3, null]", "Core.Ping", "Core.Supports.Remove",
      "Char.Vitals {", "{}", "", "  ", "x".repeat(rng.int(3000)), 'Core.Hello {"__proto__":{"polluted":1}}', "Core.Supports.Add {\"a\":1}",
    ]), "utf8");
    case 69: return Buffer.from(rng.pick([[1, 76, 73, 83, 84, 2, 67, 79, 77, 77, 65, 78, 68, 83], [1, 2, 3, 5, 2, 4, 6], [5, 5, 5, 5, 3, 3, 3, 1, 2], [1], [2, 2, 2]]));
    case 42: return Buffer.concat([Buffer.from([rng.int(5)]), Buffer.from(rng.pick([";UTF-8", "[TTABLE]x;UTF-8", ";", "", ";KOI8-R;LATIN1", "["]), "ascii")]);
    default: return rng.bytes(rng.int(64));
  }
}

/** One piece of a telnet stream; the kinds a hostile or broken client produces. */
function piece(rng: Rng, maxSub: number, allowHuge: boolean, oversized: number): Buffer {
  switch (rng.int(20)) {
    case 0: case 1: case 2: return Buffer.from(Array.from({ length: rng.int(80) }, () => 32 + rng.int(95)));
    case 3: return Buffer.from(rng.pick(["héllo wörld", "日本語のテキスト", "emoji 😀 ok", "login fuzz", "whoami", "GET / HTTP/1.1", "MSSP-REQUEST"]), "utf8");
    case 4: return Buffer.from(rng.pick([[0x80], [0xc3], [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0xfe], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xff, 0xfe]]));
    case 5: case 6: return Buffer.from(rng.pick([[13, 10], [10], [13], [10, 13], [13, 0], [0], [0, 0, 0], [13, 13, 10, 10]]));
    case 7: return Buffer.from([IAC, IAC]);
    case 8: return Buffer.from([IAC]);
    case 9: return Buffer.alloc(rng.range(1, 600), IAC);
    case 10: case 11: return Buffer.from([IAC, rng.pick([WILL, WONT, DO, DONT]), option(rng)]);
    case 12: return Buffer.from([IAC, rng.chance(0.5) ? rng.range(236, 249) : rng.int(256)]);
    case 13: case 14: {
      const opt = option(rng);
      return Buffer.concat([Buffer.from([IAC, SB, opt]), escapeIac(sbPayload(rng, opt)), Buffer.from([IAC, SE])]);
    }
    case 15: {
      // Truncated or interrupted subnegotiation.
      const opt = option(rng);
      const tail = rng.pick([[], [IAC], [IAC, rng.int(256)], [IAC, WILL, 31]]);
      return Buffer.concat([Buffer.from([IAC, SB, opt]), sbPayload(rng, opt), Buffer.from(tail)]);
    }
    case 16: {
      if (!rng.chance(oversized)) return Buffer.from([IAC, SB, option(rng), ...rng.bytes(rng.int(300))]);
      // Oversized subnegotiation (sometimes with raw, unescaped 0xFF inside).
      const size = maxSub + rng.range(1, 4096);
      const body = rng.chance(0.5) ? Buffer.alloc(size, 0x41) : escapeIac(rng.bytes(size));
      return Buffer.concat([Buffer.from([IAC, SB, option(rng)]), body, Buffer.from([IAC, SE])]);
    }
    case 17: return Buffer.from([IAC, SE]);
    case 18: return rng.bytes(rng.range(1, 200));
    default: {
      if (!allowHuge || !rng.chance(0.15)) return Buffer.alloc(rng.range(100, 3000), 0x61);
      // A 1 MB line (or a 1 MB run of escaped 0xFF, which is also data).
      return rng.chance(0.5) ? Buffer.concat([Buffer.alloc(1024 * 1024, 0x62), Buffer.from([13, 10])]) : Buffer.alloc(1024 * 1024, IAC);
    }
  }
}

/** A random stream; `allowHuge` permits 1 MB pieces, `oversized` is the share of subnegotiations longer than `maxSub`. */
export function telnetStream(rng: Rng, maxSub: number, allowHuge: boolean, oversized = 1): Buffer {
  const parts: Buffer[] = [];
  const count = rng.range(1, 40);
  for (let i = 0; i < count; i++) parts.push(piece(rng, maxSub, allowHuge, oversized));
  const whole = Buffer.concat(parts);
  return rng.chance(0.4) ? mutateBytes(rng, whole, [IAC, SB, SE, 0, 13, 10]) : whole;
}

export interface Pipeline {
  parser: TelnetParser;
  lines: LineAssembler;
  events: string[];
  lineCount: number;
  problems: string[];
}

/** Parser feeding a line assembler, with the invariants checked on every event. */
export function pipeline(maxLine: number, maxSub: number): Pipeline {
  const p: Pipeline = { events: [], lineCount: 0, problems: [] } as unknown as Pipeline;
  p.lines = new LineAssembler({
    line: (bytes) => {
      p.lineCount += 1;
      if (bytes.length > maxLine) p.problems.push(`line of ${bytes.length} bytes > ${maxLine}`);
      if (bytes.includes(13) || bytes.includes(10) || bytes.includes(0)) p.problems.push("line contains CR, LF or NUL");
      p.events.push(`line:${bytes.toString("base64")}`);
    },
    overflow: () => p.events.push("overflow"),
    idle: () => p.events.push("idle"),
  }, maxLine);
  p.parser = new TelnetParser({
    data: (bytes) => p.lines.push(bytes),
    negotiate: (verb, opt) => {
      if (verb < WILL || verb > DONT) p.problems.push(`negotiate with verb ${verb}`);
      p.events.push(`neg:${verb}:${opt}`);
    },
    subnegotiation: (opt, payload) => {
      if (payload.length > maxSub) p.problems.push(`subnegotiation of ${payload.length} bytes > ${maxSub}`);
      p.events.push(`sb:${opt}:${payload.toString("base64")}`);
    },
    command: (c) => p.events.push(`cmd:${c}`),
    protocolError: (m) => p.events.push(`err:${m}`),
  }, maxSub);
  return p;
}

/** Pushes `chunks` through the pipeline, checking after each that nothing is held past its bound. */
export function feedPipeline(p: Pipeline, chunks: Buffer[], maxLine: number, maxSub: number): void {
  for (const c of chunks) {
    p.parser.push(c);
    if (p.lines.pendingBytes > maxLine) p.problems.push(`LineAssembler.pendingBytes ${p.lines.pendingBytes} > ${maxLine}`);
    const sbBytes = (p.parser as unknown as { sbBytes: number }).sbBytes;
    if (sbBytes > maxSub) p.problems.push(`parser holds ${sbBytes} subnegotiation bytes > ${maxSub}`);
  }
}

/** IAC SE twice brings the parser back to data from any state; then a line and a negotiation must come through. */
export const RESYNC = Buffer.from([IAC, SE, IAC, SE, 13, 10, ...Buffer.from("MARK"), 13, 10, IAC, WILL, 31]);
