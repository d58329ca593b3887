import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { Portal, type LogFields, type Logger, type PortalSession } from "../../core/index.js";
import { bundledPlugins } from "../../plugins/index.js";
import { LineAssembler } from "../../plugins/telnet/line-assembler.js";
import { TelnetParser } from "../../plugins/telnet/telnet-parser.js";
import { GameProcess } from "../support/game-process.js";
import { MCCP2, MccpTelnetClient } from "../support/mccp-telnet-client.js";
import { sleep, waitFor } from "../../core/testing/wait-for.js";
import { prng } from "../support/prng.js";

/**
 * Bounded fuzzing of the telnet plugin: random and mutated telnet streams (truncated and oversized
 * subnegotiations, lone IAC, 0xFF runs, NUL, invalid UTF-8, 1 MB lines, random splits), first
 * straight into TelnetParser + LineAssembler, then against a live listener while a well-behaved
 * client keeps talking to a real game. Deterministic per seed: PORTICO_FUZZ_SEED=<n> replays a run.
 */
const SEED = Number(process.env.PORTICO_FUZZ_SEED ?? 20261127) >>> 0;

const IAC = 255, SB = 250, SE = 240, WILL = 251, WONT = 252, DO = 253, DONT = 254;
const KNOWN_OPTIONS = [1, 3, 24, 25, 31, 34, 42, 69, 70, 86, 91, 201];

/** Random test input from a seed (mulberry32, test/support/prng.ts). */
class Rng {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = prng(seed);
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
}

/** Doubles every 0xFF (a valid telnet encoding of the bytes). */
function escapeIac(b: Buffer): Buffer {
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

function mutate(rng: Rng, input: Buffer): Buffer {
  let b = Buffer.from(input);
  const n = rng.range(1, 6);
  for (let k = 0; k < n && b.length > 0; k++) {
    const at = rng.int(b.length);
    switch (rng.int(6)) {
      case 0: b[at] = rng.int(256); break;
      case 1: b = Buffer.concat([b.subarray(0, at), Buffer.from([rng.pick([IAC, SB, SE, 0, 13, 10, rng.int(256)])]), b.subarray(at)]); break;
      case 2: b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + rng.range(1, 16)))]); break;
      case 3: b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + rng.range(1, 64)), b.subarray(at)]); break;
      case 4: b = b.subarray(0, at); break;
      default: b[at] = b[at]! ^ (1 << rng.int(8));
    }
  }
  return b;
}

/** A random stream; `allowHuge` permits 1 MB pieces, `oversized` is the share of subnegotiations longer than `maxSub`. */
function stream(rng: Rng, maxSub: number, allowHuge: boolean, oversized = 1): Buffer {
  const parts: Buffer[] = [];
  const count = rng.range(1, 40);
  for (let i = 0; i < count; i++) parts.push(piece(rng, maxSub, allowHuge, oversized));
  const whole = Buffer.concat(parts);
  return rng.chance(0.4) ? mutate(rng, whole) : whole;
}

function split(rng: Rng, b: Buffer): Buffer[] {
  const style = rng.int(4);
  if (style === 0 || b.length === 0) return [b];
  if (style === 1 && b.length <= 4096) return [...b].map((x) => Buffer.from([x]));
  const max = style === 2 ? 64 : 4096;
  const out: Buffer[] = [];
  for (let i = 0; i < b.length;) {
    const n = rng.range(1, max);
    out.push(b.subarray(i, i + n));
    i += n;
  }
  return out;
}

interface Pipeline {
  parser: TelnetParser;
  lines: LineAssembler;
  events: string[];
  lineCount: number;
  problems: string[];
}

/** Parser feeding a line assembler, with the invariants checked on every event. */
function pipeline(maxLine: number, maxSub: number): Pipeline {
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

function feed(p: Pipeline, chunks: Buffer[], maxLine: number, maxSub: number): void {
  for (const c of chunks) {
    p.parser.push(c);
    if (p.lines.pendingBytes > maxLine) p.problems.push(`LineAssembler.pendingBytes ${p.lines.pendingBytes} > ${maxLine}`);
    const sbBytes = (p.parser as unknown as { sbBytes: number }).sbBytes;
    if (sbBytes > maxSub) p.problems.push(`parser holds ${sbBytes} subnegotiation bytes > ${maxSub}`);
  }
}

/** IAC SE twice brings the parser back to data from any state; then a line and a negotiation must come through. */
const RESYNC = Buffer.from([IAC, SE, IAC, SE, 13, 10, ...Buffer.from("MARK"), 13, 10, IAC, WILL, 31]);

describe("fuzz: TelnetParser + LineAssembler with random and mutated streams", function () {
  this.timeout(20_000);

  it("never throws, stays bounded, is split-invariant and always resyncs (seeded)", () => {
    const rng = new Rng(SEED);
    const started = Date.now();
    let iterations = 0;
    let totalBytes = 0;
    let sawOverflow = 0;
    let sawSb = 0;
    let sawErr = 0;
    while (iterations < 1500 && Date.now() - started < 5000) {
      iterations += 1;
      const maxLine = rng.pick([256, 4096, 64 * 1024]);
      const maxSub = rng.pick([64, 8192, 64 * 1024]);
      const input = stream(rng, maxSub, iterations % 10 === 0);
      totalBytes += input.length;
      const where = `seed ${SEED}, iteration ${iterations}, ${input.length} bytes, maxLine ${maxLine}, maxSub ${maxSub}`;

      const whole = pipeline(maxLine, maxSub);
      const pieces = pipeline(maxLine, maxSub);
      try {
        feed(whole, [input], maxLine, maxSub);
        feed(pieces, split(rng, input), maxLine, maxSub);
        feed(pieces, split(rng, RESYNC), maxLine, maxSub);
      } catch (err) {
        throw new Error(`threw at ${where}: ${(err as Error).stack ?? String(err)}`);
      }
      expect(whole.problems, where).to.deep.equal([]);
      expect(pieces.problems, where).to.deep.equal([]);
      // Split anywhere, the same events in the same order.
      const head = pieces.events.slice(0, whole.events.length);
      if (head.join("\n") !== whole.events.join("\n")) {
        const at = head.findIndex((e, i) => e !== whole.events[i]);
        expect.fail(`split changed the events at ${where}: event ${at}: ${String(whole.events[at]).slice(0, 120)} vs ${String(head[at]).slice(0, 120)}`);
      }
      // After the resync sequence, the marker line and the negotiation arrive.
      const tail = pieces.events.slice(whole.events.length);
      expect(tail.slice(-2), `resync at ${where}: ${JSON.stringify(tail.map((e) => e.slice(0, 60)))}`).to.deep.equal([
        `line:${Buffer.from("MARK").toString("base64")}`,
        `neg:${WILL}:31`,
      ]);
      sawOverflow += whole.events.filter((e) => e === "overflow").length;
      sawSb += whole.events.filter((e) => e.startsWith("sb:")).length;
      sawErr += whole.events.filter((e) => e.startsWith("err:")).length;
    }
    // The generator really reached the interesting paths.
    expect(iterations).to.be.greaterThan(200);
    expect(totalBytes).to.be.greaterThan(10 * 1024 * 1024);
    expect(sawOverflow, "line overflows").to.be.greaterThan(0);
    expect(sawSb, "subnegotiations").to.be.greaterThan(100);
    expect(sawErr, "protocol errors").to.be.greaterThan(100);
  });

  it("a 1 MB line in random chunks: one overflow, never more than maxLineBytes held, the next line intact", () => {
    const rng = new Rng(SEED ^ 0x1111);
    for (const maxLine of [256, 64 * 1024]) {
      const p = pipeline(maxLine, 64 * 1024);
      const big = Buffer.concat([Buffer.alloc(1024 * 1024, 0x78), Buffer.from("\r\nafter\r\n")]);
      let peak = 0;
      for (const c of split(rng, big)) {
        p.parser.push(c);
        peak = Math.max(peak, p.lines.pendingBytes);
      }
      expect(peak).to.be.at.most(maxLine);
      expect(p.events).to.deep.equal(["overflow", `line:${Buffer.from("after").toString("base64")}`]);
      expect(p.problems).to.deep.equal([]);
    }
  });

  it("a 1 MB subnegotiation (and a 1 MB run of IAC IAC) is dropped without holding it; parsing goes on", () => {
    const rng = new Rng(SEED ^ 0x2222);
    const maxSub = 8192;
    const p = pipeline(4096, maxSub);
    const hugeSb = Buffer.concat([Buffer.from([IAC, SB, 201]), escapeIac(rng.bytes(1024 * 1024)), Buffer.from([IAC, SE])]);
    const ffRun = Buffer.concat([Buffer.alloc(2 * 1024 * 1024, IAC), Buffer.from([13, 10])]);
    const input = Buffer.concat([hugeSb, Buffer.from([IAC, WILL, 24]), ffRun, Buffer.from("ok\r\n")]);
    let peakSb = 0;
    for (const c of split(rng, input)) {
      p.parser.push(c);
      peakSb = Math.max(peakSb, (p.parser as unknown as { sbBytes: number }).sbBytes);
      expect(p.lines.pendingBytes).to.be.at.most(4096);
    }
    expect(peakSb).to.be.at.most(maxSub);
    expect(p.events.filter((e) => e.startsWith("sb:"))).to.deep.equal([]);
    expect(p.events).to.deep.equal([
      `err:subnegotiation for option 201 longer than ${maxSub} bytes dropped`,
      `neg:${WILL}:24`,
      "overflow",
      `line:${Buffer.from("ok").toString("base64")}`,
    ]);
  });
});

/** Keeps counts and a few warn/error entries only, so the fuzz's flood of debug lines does not skew the memory figures. */
class CountingLogger implements Logger {
  readonly counts = { debug: 0, info: 0, warn: 0, error: 0 };
  readonly notable: { level: string; msg: string; fields: string }[] = [];
  debug(): void { this.counts.debug += 1; }
  info(): void { this.counts.info += 1; }
  warn(fields: LogFields, msg: string): void { this.keep("warn", fields, msg); }
  error(fields: LogFields, msg: string): void { this.keep("error", fields, msg); }
  child(): Logger { return this; }
  private keep(level: "warn" | "error", fields: LogFields, msg: string): void {
    this.counts[level] += 1;
    if (this.notable.length < 50) {
      let text: string;
      try {
        text = JSON.stringify(fields, (_k, v) => (v instanceof Error ? v.stack : v)).slice(0, 500);
      } catch {
        text = String(fields);
      }
      this.notable.push({ level, msg, fields: text });
    }
  }
}

function collectGarbage(): () => void {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (existing) return existing;
  setFlagsFromString("--expose-gc");
  return runInNewContext("gc") as () => void;
}

interface SessionInternals {
  lines: LineAssembler;
  parser: { sbBytes: number };
  socket: Socket;
}

describe("fuzz: a live telnet listener under hostile clients", function () {
  this.timeout(20_000);
  const FUZZERS = 6;
  const FUZZ_MS = 4000;
  const MAX_LINE = 64 * 1024;
  const MAX_SUB = 64 * 1024;
  let dataDir: string;
  let portal: Portal;
  let logger: CountingLogger;
  let game: GameProcess;
  let port: number;
  let steady: MccpTelnetClient | undefined;
  let fuzzSockets: Set<Socket>;
  let stopFuzz = true;

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "portico-telnet-fuzz-"));
    logger = new CountingLogger();
    fuzzSockets = new Set();
    portal = new Portal({
      config: {
        dataDir,
        link: { port: 0 },
        limits: { maxConnectionRate: 0 },
        listeners: [{ plugin: "plugins.telnet.TelnetFactory", config: { host: "127.0.0.1", port: 0, maxLineBytes: MAX_LINE, maxSubnegotiationBytes: MAX_SUB } }],
      },
      plugins: bundledPlugins,
      logger,
    });
    await portal.start();
    port = (portal.launcher.list()[0]!.status as { port: number }).port;
    game = GameProcess.start(portal.linkAddress!.port, dataDir);
    await game.waitForSync(1, 15_000);
  });

  afterEach(async () => {
    stopFuzz = true;
    for (const s of fuzzSockets) s.destroy();
    steady?.close();
    steady = undefined;
    await game.kill();
    await portal.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** One hostile connection after another until told to stop: random and mutated streams in random splits. */
  async function fuzzer(rng: Rng, stats: { connections: number; bytes: number }): Promise<void> {
    while (!stopFuzz) {
      const socket = connect({ host: "127.0.0.1", port });
      fuzzSockets.add(socket);
      let gone = false;
      socket.on("error", () => undefined);
      socket.on("close", () => {
        gone = true;
        fuzzSockets.delete(socket);
      });
      // Half of them never read what the portal sends back.
      if (rng.chance(0.5)) socket.on("data", () => undefined);
      stats.connections += 1;
      const writes = rng.range(5, 40);
      for (let i = 0; i < writes && !stopFuzz && !gone; i++) {
        for (const chunk of split(rng, stream(rng, MAX_SUB, rng.chance(0.005), 0.2))) {
          if (gone) break;
          stats.bytes += chunk.length;
          if (!socket.write(chunk)) {
            // Bounded wait for the portal to read.
            let bound: NodeJS.Timeout | undefined;
            await Promise.race([new Promise((r) => socket.once("drain", r)), new Promise((r) => (bound = setTimeout(r, 200)))]);
            clearTimeout(bound);
          }
        }
        await sleep(rng.range(2, 12));
      }
      if (rng.chance(0.5)) socket.destroy();
      else socket.end();
      await sleep(rng.int(5));
    }
  }

  it("N fuzzing sockets: the well-behaved client keeps its replies, nothing crashes, memory and buffers stay bounded", async () => {
    const gc = collectGarbage();
    const rng = new Rng(SEED ^ 0x3333);

    // The well-behaved client: accepts MCCP2, logs in, then pings the echo game while the fuzzers run.
    steady = await MccpTelnetClient.open(port, { acceptRemote: [MCCP2] });
    const client = steady;
    await client.waitForLine("Welcome. Type: login <name>", 10_000);
    const mine = await waitFor(() => portal.handler.all().find((s) => s.protocol_flags.MCCP === true), 10_000, "MCCP2 on for the steady client");
    client.send("login steady");
    await client.waitForLine("Logged in as steady.", 10_000);
    expect(client.mccpStarts).to.equal(1);
    client.drive(MCCP2);

    // Warm up once so the baseline includes the code paths' one-time allocations.
    for (let i = 0; i < 3; i++) {
      client.send(`warm ${i}`);
      await client.waitForLine(`echo: warm ${i}`, 5000);
    }
    gc();
    gc();
    const heapBefore = process.memoryUsage().heapUsed;

    const problems: string[] = [];
    const sampler = setInterval(() => {
      for (const s of portal.handler.all()) {
        const inner = s as unknown as SessionInternals;
        if (!inner.lines || !inner.parser) continue;
        if (inner.lines.pendingBytes > MAX_LINE) problems.push(`${s.sessid}: ${inner.lines.pendingBytes} line bytes held`);
        if (inner.parser.sbBytes > MAX_SUB) problems.push(`${s.sessid}: ${inner.parser.sbBytes} subnegotiation bytes held`);
        // Output to a client that does not read is capped (4 MB default) plus what one write can add.
        if (inner.socket.writableLength > 8 * 1024 * 1024) problems.push(`${s.sessid}: ${inner.socket.writableLength} output bytes queued`);
      }
    }, 50);

    stopFuzz = false;
    const stats = { connections: 0, bytes: 0 };
    const fuzzers = Array.from({ length: FUZZERS }, (_, i) => fuzzer(new Rng(SEED + 1000 + i), stats));

    // Request/response with the game for as long as the fuzz runs; every reply must come.
    const latencies: number[] = [];
    const started = Date.now();
    let n = 0;
    let toggles = 0;
    try {
      while (Date.now() - started < FUZZ_MS) {
        n += 1;
        if (n % 5 === 0) {
          // Now and then turn compression off and straight back on in one burst: the stream must stay decodable.
          client.sendRaw([IAC, DONT, MCCP2, IAC, DO, MCCP2]);
          toggles += 1;
        }
        const mark = client.lines.length;
        const t0 = Date.now();
        client.send(`ping ${n} ${rng.int(1e9)}`);
        await client.waitForLine(new RegExp(`^echo: ping ${n} \\d+$`), 5000, mark);
        latencies.push(Date.now() - t0);
        await sleep(15);
      }
    } finally {
      stopFuzz = true;
      clearInterval(sampler);
    }
    let bound: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(fuzzers), new Promise((r) => (bound = setTimeout(r, 5000)))]);
    clearTimeout(bound);
    for (const s of fuzzSockets) s.destroy();
    await waitFor(() => fuzzSockets.size === 0, 5000, "every fuzz socket closed");

    if (process.env.PORTICO_FUZZ_VERBOSE) console.log(JSON.stringify({ stats, n, toggles, latencies, log: logger.counts, notable: logger.notable.slice(0, 5) }));
    // Only the well-behaved session is left.
    await waitFor(() => portal.handler.count_loggedin(true) === 1, 5000, () => `sessions back to 1 (now ${portal.handler.count_loggedin(true)})`);
    await waitFor(() => (portal.launcher.list()[0]!.status as { connections: number }).connections === 1, 5000, "listener connections back to 1");
    expect(portal.handler.all().map((s: PortalSession) => s.sessid)).to.deep.equal([mine.sessid]);
    expect(portal.handler.count_loggedin()).to.equal(1);

    // The well-behaved client noticed nothing: all replies came, decoded, and it is still logged in.
    expect(client.errors, "steady client decode errors").to.deep.equal([]);
    expect(client.closed).to.equal(false);
    const mark = client.lines.length;
    client.send("whoami");
    expect(await client.waitForLine(/^You are /, 5000, mark)).to.equal("You are steady (logins: 1).");
    expect(latencies.length).to.be.greaterThan(10);
    expect(Math.max(...latencies), `reply latencies ${JSON.stringify(latencies.slice(-20))}`).to.be.below(3000);
    expect(client.mccpStarts, "compressed streams restarted after each off/on burst").to.equal(toggles + 1);
    expect(mine.protocol_flags.MCCP).to.equal(true);

    // Nothing crashed, nothing leaked, nothing was held past its bound.
    expect(game.child.exitCode, "echo game still running").to.equal(null);
    expect(problems.slice(0, 10), "bounded buffers").to.deep.equal([]);
    // A fuzz line "login fuzz" followed by a hang-up makes the game log in a session the portal has just
    // dropped; the portal answers that with an error reply (a normal race, not a fault). Nothing else may log an error.
    const errors = logger.notable.filter((e) => e.level === "error" && !e.fields.includes('"code":"PORTAL_ERR_UNKNOWN_SESSION","op":"login"'));
    expect(errors, "error log entries").to.deep.equal([]);
    expect(stats.connections).to.be.greaterThan(FUZZERS);
    expect(stats.bytes).to.be.greaterThan(4 * 1024 * 1024);

    gc();
    gc();
    const heapAfter = process.memoryUsage().heapUsed;
    const growthMb = (heapAfter - heapBefore) / (1024 * 1024);
    expect(growthMb, `heap ${(heapBefore / 1048576).toFixed(1)} MB -> ${(heapAfter / 1048576).toFixed(1)} MB after ${stats.connections} fuzz connections, ${(stats.bytes / 1048576).toFixed(1)} MB`).to.be.below(64);
  });

  it("MCCP2 switched off and on (and off again) in one burst, repeatedly: the client can decode every reply", async () => {
    steady = await MccpTelnetClient.open(port, { acceptRemote: [MCCP2] });
    const client = steady;
    await client.waitForLine("Welcome. Type: login <name>", 10_000);
    const session = await waitFor(() => portal.handler.all().find((s) => s.protocol_flags.MCCP === true), 10_000, "MCCP2 on");
    await waitFor(() => client.decompressing, 5000, "the client inflating");
    client.drive(MCCP2);
    const bursts: [string, number[], boolean][] = [
      ["off-on", [IAC, DONT, MCCP2, IAC, DO, MCCP2], true],
      ["off-on-off", [IAC, DONT, MCCP2, IAC, DO, MCCP2, IAC, DONT, MCCP2], false],
      ["on-off-on (from off)", [IAC, DO, MCCP2, IAC, DONT, MCCP2, IAC, DO, MCCP2], true],
      ["off-on-off-on", [IAC, DONT, MCCP2, IAC, DO, MCCP2, IAC, DONT, MCCP2, IAC, DO, MCCP2], true],
    ];
    for (const [name, bytes, on] of bursts) {
      const mark = client.lines.length;
      client.sendRaw(bytes);
      client.send(`after ${name}`);
      await client.waitForLine(`echo: after ${name}`, 5000, mark);
      await waitFor(() => client.decompressing === on, 2000, `client ${on ? "inflating" : "plain"} after ${name}`);
      expect(session.protocol_flags.MCCP, name).to.equal(on);
      expect(client.errors, name).to.deep.equal([]);
    }
  });
});
