import { expect } from "chai";
import { GameSessionHandler, type GameTransport, type GameTransportEvents } from "../../core/game/index.js";
import { parsePortalMessage, type GameToPortal, type PortalToGame } from "../../core/link/link-messages.js";
import { encodeEnvelope, type Envelope } from "../../core/link/nats/envelope.js";
import { EnvelopeReader } from "../../core/link/nats/nats-connection.js";
import { ReliableEpoch } from "../../core/link/nats/reliable-epoch.js";
import { FakeClock } from "../../core/testing/index.js";
import { mutateJson, mutateText, randomJson } from "../support/fuzz/mutate.js";
import { Rng } from "../support/prng.js";
import { CountingLogger, MemoryWatch, TortureReport, caseCount, fuzzSeed } from "../support/torture.js";

/**
 * Fuzzing of the link over NATS, where one game hears several portals: (1) the game SDK fed mutated
 * portal messages from two portals, each first checked by parsePortalMessage as both transports do
 * (it must never throw, and its books must stay whole: every session held by exactly one portal, the
 * one its id names); (2) the envelope reader fed random bytes and mutated envelopes (never throws;
 * what it passes is a well-formed envelope); (3) an epoch fed random envelopes of its own id (never
 * throws; what it delivers comes strictly in sequence, once). Short form in `npm test`;
 * PORTICO_TORTURE=long runs >= 100 000 cases per part.
 */
const SEED = fuzzSeed(20261205);
const LIMITS = { max_frame_bytes: 1 << 20, max_server_data_bytes: 1 << 16 };

/** Realistic messages of portal `p`, the material the mutations start from. */
function sample(rng: Rng, p: string): PortalToGame {
  const sessid = `${p}:1:${rng.range(1, 6)}`;
  const session = { sessid, csessid: null, protocol_key: "telnet", address: "127.0.0.1", uid: null, uname: null, logged_in: false, puid: null, conn_time: 1, cmd_last: 1, cmd_last_visible: 1, cmd_total: 0, protocol_flags: { ANSI: true }, server_data: {} };
  const all: PortalToGame[] = [
    { op: "portal-sync", version: 2, mode: rng.pick(["cold", "reload", "crash"] as const), portal_id: p, portal_run: 1, portal_start_time: 0, gen: rng.range(1, 9), total: 1, limits: LIMITS },
    { op: "portal-sync-sessions", sessions: [{ ...session, input_seq: rng.range(1, 5) }], fresh: rng.chance(0.5) ? [sessid] : [] },
    { op: "portal-sync-end", gen: rng.range(1, 9) },
    { op: "session-connect", session, gen: rng.range(1, 9) },
    { op: "session-connect-sync", session },
    { op: "session-disconnect", sessid },
    { op: "data-in", sessid, seq: rng.range(1, 8), cmds: [["text", [`line ${rng.int(100)}`], {}]] },
    { op: "reply", id: rng.int(5), ok: rng.chance(0.5), result: {} } as PortalToGame,
    { op: "cluster", id: rng.int(5) },
    { op: "disconnect-all" },
    { op: "server-stop", mode: "reload" },
  ];
  return rng.pick(all);
}

class ScriptedTransport implements GameTransport {
  readonly dropsSessionsOnDown = true;
  readonly keysArePortalIds = true;
  events: GameTransportEvents | undefined;
  sent = 0;
  start(events: GameTransportEvents): void {
    this.events = events;
  }
  async stop(): Promise<void> {}
  send(_p: string, _m: GameToPortal): boolean {
    this.sent += 1;
    return true;
  }
  flush(): void {}
  linked(): boolean {
    return true;
  }
}

describe("torture: NATS link fuzz (the SDK with two portals, envelopes, epochs)", function () {
  this.timeout(600_000);

  it("mutated portal messages from two portals: the SDK never throws and keeps each session with the portal its id names", async () => {
    const memory = new MemoryWatch();
    const report = new TortureReport("nats/sdk", SEED, memory);
    const rng = new Rng(SEED);
    const logger = new CountingLogger();
    const transport = new ScriptedTransport();
    let callbacks = 0;
    const game = new GameSessionHandler({
      transport, logger, clock: new FakeClock(),
      callbacks: { onConnect: () => void callbacks++, onDisconnect: () => void callbacks++, onInput: () => void callbacks++, onSync: () => void callbacks++ },
    });
    game.start();
    const frames = caseCount(5_000, 100_000);
    let refused = 0;
    for (let i = 0; i < frames; i++) {
      const portal = rng.pick(["a", "b"]);
      const msgs: PortalToGame[] = [];
      for (let n = rng.range(1, 4); n > 0; n--) {
        const base: unknown = sample(rng, rng.chance(0.85) ? portal : portal === "a" ? "b" : "a");
        const raw = rng.chance(0.6) ? base : rng.chance(0.8) ? mutateJson(rng, base) : randomJson(rng, 3);
        const parsed = parsePortalMessage(raw);
        if (parsed.ok) msgs.push(parsed.msg);
        else refused += 1;
      }
      if (rng.chance(0.01)) transport.events!.down(portal);
      transport.events!.frame(portal, msgs);
      report.count("frames");
      if (i % 50 === 0) {
        const views = game.portalViews();
        expect(views.reduce((n, v) => n + v.sessions, 0)).to.equal(game.sessions.size);
        for (const id of game.sessions.keys()) expect(game.portalOf(id), id).to.equal(id.slice(0, id.indexOf(":")));
      }
      if (i % 1000 === 0) memory.sample();
    }
    report.notes.refusedByTheCheck = refused;
    report.notes.callbacks = callbacks;
    report.notes.sent = transport.sent;
    report.notes.log = logger.counts;
    expect(logger.counts.error ?? 0, "no frame reached the SDK's last-resort catch").to.equal(0);
    await game.stop();
    await report.finish();
  });

  it("random bytes and mutated envelopes: the reader never throws and passes only well-formed envelopes", async () => {
    const memory = new MemoryWatch();
    const report = new TortureReport("nats/envelopes", SEED, memory);
    const rng = new Rng(SEED ^ 0x5a5a);
    const reader = new EnvelopeReader(64 * 1024, new CountingLogger());
    const valid = { e: "g~1.1", s: 3, a: 2, m: [{ op: "ping" }] };
    const cases = caseCount(5_000, 100_000);
    for (let i = 0; i < cases; i++) {
      const text = rng.chance(0.2) ? rng.bytes(rng.range(0, 300)) : Buffer.from(rng.chance(0.5) ? mutateText(rng, JSON.stringify(valid)) : JSON.stringify(mutateJson(rng, valid)) ?? "null");
      const env = reader.read("fuzz", new Uint8Array(text));
      report.count(env ? "passed" : "dropped");
      if (env) {
        expect(env.e).to.be.a("string");
        if (env.s !== undefined) expect(Number.isSafeInteger(env.s) && env.s > 0 && Array.isArray(env.m)).to.equal(true);
      }
      if (i % 1000 === 0) memory.sample();
    }
    reader.close();
    await report.finish();
  });

  it("random envelopes of its own epoch: the epoch never throws and delivers frames once, in sequence", async () => {
    const memory = new MemoryWatch();
    const report = new TortureReport("nats/epoch", SEED, memory);
    const rng = new Rng(SEED ^ 0xa5a5);
    const clock = new FakeClock();
    const delivered: number[] = [];
    const epoch = new ReliableEpoch({
      id: "g~1.1", clock, maxFrameBytes: 64 * 1024, batchMaxBytes: 16 * 1024, heartbeatMs: 1000, heartbeatTimeoutMs: 1e9, resendMs: 250, maxBufferedBytes: 1 << 30,
      publish: (env) => void encodeEnvelope(env),
    }, { frame: (msgs) => delivered.push((msgs[0] as { n: number }).n), fault: () => undefined, closed: () => undefined });
    const cases = caseCount(5_000, 100_000);
    for (let i = 0; i < cases; i++) {
      const s = rng.range(1, Math.max(2, delivered.length + 3));
      const env: Envelope = { e: "g~1.1", ...(rng.chance(0.8) ? { s, m: [{ op: "data-in", n: s }] } : {}), ...(rng.chance(0.5) ? { a: rng.int(50) } : {}), ...(rng.chance(0.1) ? { n: rng.range(1, 50) } : {}) };
      epoch.receive(env);
      if (rng.chance(0.3)) {
        epoch.send({ op: "x", i });
        epoch.flush();
      }
      if (rng.chance(0.05)) clock.advance(rng.int(600));
      report.count("envelopes");
      if (i % 1000 === 0) memory.sample();
    }
    expect(delivered).to.deep.equal(Array.from({ length: delivered.length }, (_, k) => k + 1));
    report.notes.delivered = delivered.length;
    report.notes.stats = epoch.stats;
    epoch.close();
    await report.finish();
  });
});
