import { expect } from "chai";
import { connect, type Socket } from "node:net";
import { performance } from "node:perf_hooks";
import type { PortalSession } from "../../core/index.js";
import type { LineAssembler } from "../../plugins/telnet/line-assembler.js";
import { sleep, waitFor } from "../../core/testing/wait-for.js";
import { splitChunks } from "../support/fuzz/mutate.js";
import { DO, DONT, IAC, RESYNC, WILL, escapeIac, feedPipeline, pipeline, telnetStream } from "../support/fuzz/telnet-streams.js";
import { MCCP2, MccpTelnetClient } from "../support/mccp-telnet-client.js";
import { Rng } from "../support/prng.js";
import { Canary, LONG, MemoryWatch, Rig, TortureReport, caseCount, expectUnharmed, canaryStats, fuzzSeed, pick, replayHint } from "../support/torture.js";

/**
 * Fuzzing of the telnet plugin: random and mutated telnet streams (truncated and oversized
 * subnegotiations, lone IAC, 0xFF runs, NUL, invalid UTF-8, 1 MB lines, random splits, option
 * negotiation in any order), first straight into TelnetParser + LineAssembler, then against a live
 * listener while a well-behaved MCCP client and a plain canary keep talking to a real game.
 * Short form in `npm test`; PORTICO_TORTURE=long runs >= 100 000 streams per part. Deterministic per
 * seed (PORTICO_FUZZ_SEED=<n>); the live part's interleaving depends on timing.
 */
const SEED = fuzzSeed(20261127);

describe("torture: telnet fuzz (TelnetParser + LineAssembler)", function () {
  this.timeout(LONG ? 600_000 : 30_000);

  it("never throws, stays bounded, is split-invariant and always resyncs (seeded)", async () => {
    const rng = new Rng(SEED);
    const report = new TortureReport("telnet/parser", SEED, new MemoryWatch());
    const cases = caseCount(1500, 100_000);
    const maxMs = pick(5000, 170_000);
    // Streams with 1 MB pieces: every 10th in the short form, every 200th in the long one (time).
    const hugeEvery = pick(10, 200);
    const started = Date.now();
    let iterations = 0;
    let totalBytes = 0;
    let sawOverflow = 0;
    let sawSb = 0;
    let sawErr = 0;
    while (iterations < cases && Date.now() - started < maxMs) {
      iterations += 1;
      const maxLine = rng.pick([256, 4096, 64 * 1024]);
      const maxSub = rng.pick([64, 8192, 64 * 1024]);
      const input = telnetStream(rng, maxSub, iterations % hugeEvery === 0);
      totalBytes += input.length;
      const where = `seed ${SEED}, iteration ${iterations}, ${input.length} bytes, maxLine ${maxLine}, maxSub ${maxSub} (replay: ${replayHint(SEED)})`;

      const whole = pipeline(maxLine, maxSub);
      const pieces = pipeline(maxLine, maxSub);
      try {
        feedPipeline(whole, [input], maxLine, maxSub);
        feedPipeline(pieces, splitChunks(rng, input), maxLine, maxSub);
        feedPipeline(pieces, splitChunks(rng, RESYNC), maxLine, maxSub);
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
      if (iterations % 1000 === 0) await sleep(0); // let the memory sampler run
    }
    report.count("streams", iterations);
    Object.assign(report.notes, { megabytes: Math.round(totalBytes / 1048576), overflows: sawOverflow, subnegotiations: sawSb, protocolErrors: sawErr });
    await report.memory.finish();
    await report.finish();
    expect(iterations, `cases run within ${maxMs} ms`).to.equal(cases);
    // The generator really reached the interesting paths.
    expect(totalBytes).to.be.greaterThan(10 * 1024 * 1024);
    expect(sawOverflow, "line overflows").to.be.greaterThan(0);
    expect(sawSb, "subnegotiations").to.be.greaterThan(100);
    expect(sawErr, "protocol errors").to.be.greaterThan(100);
    expect(report.memory.heapGrowthMb, "heap growth (MB)").to.be.below(32);
  });

  it("a 1 MB line in random chunks: one overflow, never more than maxLineBytes held, the next line intact", () => {
    const rng = new Rng(SEED ^ 0x1111);
    for (const maxLine of [256, 64 * 1024]) {
      const p = pipeline(maxLine, 64 * 1024);
      const big = Buffer.concat([Buffer.alloc(1024 * 1024, 0x78), Buffer.from("\r\nafter\r\n")]);
      let peak = 0;
      for (const c of splitChunks(rng, big)) {
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
    const hugeSb = Buffer.concat([Buffer.from([IAC, 250, 201]), escapeIac(rng.bytes(1024 * 1024)), Buffer.from([IAC, 240])]);
    const ffRun = Buffer.concat([Buffer.alloc(2 * 1024 * 1024, IAC), Buffer.from([13, 10])]);
    const input = Buffer.concat([hugeSb, Buffer.from([IAC, WILL, 24]), ffRun, Buffer.from("ok\r\n")]);
    let peakSb = 0;
    for (const c of splitChunks(rng, input)) {
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

interface SessionInternals {
  lines: LineAssembler;
  parser: { sbBytes: number };
  socket: Socket;
}

describe("torture: telnet fuzz against a live listener", function () {
  this.timeout(LONG ? 600_000 : 30_000);
  const FUZZERS = pick(6, 8);
  const MAX_LINE = 64 * 1024;
  const MAX_SUB = 64 * 1024;
  let rig: Rig;
  let port: number;
  let steady: MccpTelnetClient | undefined;
  let canary: Canary | undefined;
  let fuzzSockets: Set<Socket>;
  let stopFuzz = true;

  beforeEach(async () => {
    fuzzSockets = new Set();
    rig = await Rig.start({ telnet: { maxLineBytes: MAX_LINE, maxSubnegotiationBytes: MAX_SUB } });
    port = rig.port();
  });

  afterEach(async () => {
    stopFuzz = true;
    for (const s of fuzzSockets) s.destroy();
    steady?.close();
    steady = undefined;
    canary?.close();
    canary = undefined;
    await rig.stop();
  });

  /** One hostile connection after another until told to stop: random and mutated streams in random splits. */
  async function fuzzer(rng: Rng, stats: { connections: number; streams: number; bytes: number }, pauseMs: [number, number]): Promise<void> {
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
        stats.streams += 1;
        for (const chunk of splitChunks(rng, telnetStream(rng, MAX_SUB, rng.chance(0.005), 0.2))) {
          if (gone) break;
          stats.bytes += chunk.length;
          if (!socket.write(chunk)) {
            // Bounded wait for the portal to read.
            let bound: NodeJS.Timeout | undefined;
            await Promise.race([new Promise((r) => socket.once("drain", r)), new Promise((r) => (bound = setTimeout(r, 200)))]);
            clearTimeout(bound);
          }
        }
        await sleep(rng.range(...pauseMs));
      }
      if (rng.chance(0.5)) socket.destroy();
      else socket.end();
      await sleep(rng.int(5));
    }
  }

  it("N fuzzing sockets: the well-behaved clients keep their replies, nothing crashes, memory and buffers stay bounded", async () => {
    const rng = new Rng(SEED ^ 0x3333);
    const portal = rig.portal;

    // The well-behaved client: accepts MCCP2, logs in, then pings the echo game while the fuzzers run.
    steady = await MccpTelnetClient.open(port, { acceptRemote: [MCCP2] });
    const client = steady;
    await client.waitForLine("Welcome. Type: login <name>", 10_000);
    const mine = await waitFor(() => portal.handler.all().find((s) => s.protocol_flags.MCCP === true), 10_000, "MCCP2 on for the steady client");
    client.send("login steady");
    await client.waitForLine("Logged in as steady.", 10_000);
    expect(client.mccpStarts).to.equal(1);
    client.drive(MCCP2);
    // And a plain canary that never answers a negotiation.
    canary = await Canary.telnet(port, "canary");
    const canarySession = portal.handler.all().find((s) => s.uname === "canary")!;

    // Warm up once so the baseline includes the code paths' one-time allocations.
    for (let i = 0; i < 3; i++) {
      client.send(`warm ${i}`);
      await client.waitForLine(`echo: warm ${i}`, 5000);
    }
    const report = new TortureReport("telnet/live", SEED, new MemoryWatch());

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
    const stats = { connections: 0, streams: 0, bytes: 0 };
    const target = LONG || process.env.PORTICO_TORTURE_CASES ? caseCount(0, 100_000) : 0;
    const fuzzMs = pick(4000, 170_000);
    const fuzzers = Array.from({ length: FUZZERS }, (_, i) => fuzzer(new Rng(SEED + 1000 + i), stats, pick<[number, number]>([2, 12], [0, 4])));
    canary.start(50, 5000);

    // Request/response with the game for as long as the fuzz runs; every reply must come.
    const latencies: number[] = [];
    const started = Date.now();
    let n = 0;
    let toggles = 0;
    try {
      while (Date.now() - started < fuzzMs && (target === 0 || stats.streams < target)) {
        n += 1;
        if (n % 5 === 0) {
          // Now and then turn compression off and straight back on in one burst: the stream must stay decodable.
          client.sendRaw([IAC, DONT, MCCP2, IAC, DO, MCCP2]);
          toggles += 1;
        }
        const mark = client.lines.length;
        const t0 = performance.now();
        client.send(`ping ${n} ${rng.int(1e9)}`);
        await client.waitForLine(new RegExp(`^echo: ping ${n} \\d+$`), 5000, mark);
        latencies.push(performance.now() - t0);
        client.lines.length = 0;
        await sleep(15);
      }
    } finally {
      stopFuzz = true;
      clearInterval(sampler);
    }
    const canaryResult = await canary.stop();
    let bound: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(fuzzers), new Promise((r) => (bound = setTimeout(r, 5000)))]);
    clearTimeout(bound);
    for (const s of fuzzSockets) s.destroy();
    await waitFor(() => fuzzSockets.size === 0, 5000, "every fuzz socket closed");
    report.count("streams", stats.streams);
    Object.assign(report.notes, { connections: stats.connections, megabytes: Math.round(stats.bytes / 1048576), toggles, traffic: rig.traffic, log: rig.logger.counts, topWarnings: rig.logger.top() });

    // Only the well-behaved sessions are left.
    await rig.settleSessions(2);
    await waitFor(() => rig.connections() === 2, 5000, "listener connections back to 2");
    expect(portal.handler.all().map((s: PortalSession) => s.sessid).sort()).to.deep.equal([mine.sessid, canarySession.sessid].sort());
    expect(portal.handler.count_loggedin()).to.equal(2);
    await report.memory.finish();
    await report.finish([canaryStats("mccp", latencies, 0), canaryResult]);

    // The well-behaved clients noticed nothing: all replies came, decoded, and they are still logged in.
    // A fuzz line "login fuzz" followed by a hang-up makes the game log in a session the portal has just
    // dropped; the portal answers that with an error reply (a normal race, not a fault). Nothing else may log an error.
    await expectUnharmed(rig, [canary], report.memory, 64, (e) => e.fields.includes('"code":"PORTAL_ERR_UNKNOWN_SESSION","op":"login"'));
    expect(client.errors, "steady client decode errors").to.deep.equal([]);
    expect(client.closed).to.equal(false);
    const mark = client.lines.length;
    client.send("whoami");
    expect(await client.waitForLine(/^You are /, 5000, mark)).to.equal("You are steady (logins: 1).");
    expect(latencies.length).to.be.greaterThan(10);
    expect(Math.max(...latencies), `reply latencies ${JSON.stringify(latencies.slice(-20))}`).to.be.below(3000);
    expect(client.mccpStarts, "compressed streams restarted after each off/on burst").to.equal(toggles + 1);
    expect(mine.protocol_flags.MCCP).to.equal(true);

    // Nothing was held past its bound.
    expect(problems.slice(0, 10), "bounded buffers").to.deep.equal([]);
    if (target > 0) expect(stats.streams, `streams sent within ${fuzzMs} ms`).to.be.at.least(target);
    expect(stats.connections).to.be.greaterThan(FUZZERS);
    expect(stats.bytes).to.be.greaterThan(4 * 1024 * 1024);
  });

  it("MCCP2 switched off and on (and off again) in one burst, repeatedly: the client can decode every reply", async () => {
    steady = await MccpTelnetClient.open(port, { acceptRemote: [MCCP2] });
    const client = steady;
    await client.waitForLine("Welcome. Type: login <name>", 10_000);
    const session = await waitFor(() => rig.portal.handler.all().find((s) => s.protocol_flags.MCCP === true), 10_000, "MCCP2 on");
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
