import { expect } from "chai";
import { ErrorCodes } from "../../core/errors/error-codes.js";
import { PortalError } from "../../core/errors/portal-error.js";
import { encodeEnvelope, type Envelope, type OutgoingEnvelope } from "../../core/link/nats/envelope.js";
import { ReliableEpoch, type EpochOptions } from "../../core/link/nats/reliable-epoch.js";
import { FakeClock } from "../../core/testing/index.js";

type Side = "a" | "b";
const other = (s: Side): Side => (s === "a" ? "b" : "a");

/** One envelope in flight on the fake broker: its wire text and where it is going. */
interface InFlight {
  to: Side;
  raw: string;
}

interface EndRecord {
  frames: unknown[][];
  faults: PortalError[];
  closed: (PortalError | undefined)[];
}

const EPOCH = "game~1.1";
const BASE: Omit<EpochOptions, "id" | "publish" | "clock"> = {
  maxFrameBytes: 4096,
  batchMaxBytes: 1024,
  heartbeatMs: 1000,
  heartbeatTimeoutMs: 5000,
  resendMs: 250,
  maxBufferedBytes: 100_000,
};

/** Two epochs back to back through an in-memory broker that delivers only what the test says. */
class Pair {
  readonly clock = new FakeClock();
  /** Envelopes published and not yet delivered (or dropped), in publish order. */
  queue: InFlight[] = [];
  readonly rec: Record<Side, EndRecord> = { a: { frames: [], faults: [], closed: [] }, b: { frames: [], faults: [], closed: [] } };
  readonly a: ReliableEpoch;
  readonly b: ReliableEpoch;

  constructor(opts: Partial<typeof BASE> = {}) {
    this.a = this.make("a", opts);
    this.b = this.make("b", opts);
  }

  private make(side: Side, opts: Partial<typeof BASE>): ReliableEpoch {
    const rec = this.rec[side];
    return new ReliableEpoch(
      { ...BASE, ...opts, id: EPOCH, clock: this.clock, publish: (env: OutgoingEnvelope) => this.queue.push({ to: other(side), raw: encodeEnvelope(env) }) },
      { frame: (msgs) => rec.frames.push(msgs), fault: (err) => rec.faults.push(err), closed: (err) => rec.closed.push(err) },
    );
  }

  epoch(side: Side): ReliableEpoch {
    return side === "a" ? this.a : this.b;
  }

  /** What is in flight towards `to`, parsed. */
  pending(to: Side): Envelope[] {
    return this.queue.filter((f) => f.to === to).map((f) => JSON.parse(f.raw) as Envelope);
  }

  /** Takes envelopes out of flight (delivering none): returns them. */
  take(pred: (env: Envelope, f: InFlight) => boolean = () => true): InFlight[] {
    const taken = this.queue.filter((f) => pred(JSON.parse(f.raw) as Envelope, f));
    this.queue = this.queue.filter((f) => !taken.includes(f));
    return taken;
  }

  deliver(f: InFlight): void {
    this.epoch(f.to).receive(JSON.parse(f.raw) as Envelope);
  }

  /** Delivers everything in flight (and what that causes to be published), in order. */
  deliverAll(max = 10_000): void {
    for (let i = 0; i < max && this.queue.length > 0; i++) this.deliver(this.queue.shift()!);
  }

  /** Every message `side` received, flattened. */
  got(side: Side): unknown[] {
    return this.rec[side].frames.flat();
  }

  close(): void {
    this.a.close();
    this.b.close();
  }
}

const msg = (n: number, extra: Record<string, unknown> = {}) => ({ op: "data-in", n, ...extra });
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => msg(from + i));

/** A small deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("ReliableEpoch (NATS link epoch)", () => {
  let p: Pair;
  afterEach(() => p?.close());

  describe("delivery", () => {
    it("delivers messages once and in order, batched per flush, in both directions", () => {
      p = new Pair();
      for (const m of range(1, 3)) p.a.send(m);
      p.a.flush();
      for (const m of range(4, 5)) p.a.send(m);
      p.a.flush();
      p.b.send({ op: "back", n: 1 });
      p.b.flush();
      const toB = p.pending("b");
      expect(toB.map((e) => e.s)).to.deep.equal([1, 2]);
      expect(toB[0]!.e).to.equal(EPOCH);
      p.deliverAll();
      expect(p.rec.b.frames).to.deep.equal([range(1, 3), range(4, 5)]);
      expect(p.got("a")).to.deep.equal([{ op: "back", n: 1 }]);
      expect(p.b.stats).to.deep.equal({ resent: 0, duplicates: 0, gaps: 0 });
    });

    it("send() publishes nothing until the end of the turn (setImmediate), then one frame", async () => {
      p = new Pair();
      p.a.send(msg(1));
      p.a.send(msg(2));
      expect(p.queue).to.have.length(0);
      await new Promise((resolve) => setImmediate(resolve));
      expect(p.pending("b").map((e) => e.m)).to.deep.equal([[msg(1), msg(2)]]);
    });

    it("reordered and duplicated envelopes still give each message exactly once, in order", () => {
      p = new Pair();
      for (let i = 1; i <= 3; i++) {
        p.a.send(msg(i));
        p.a.flush();
      }
      const [f1, f2, f3] = p.take();
      // 3 first (a gap: discarded, resend asked from 1), then 1, 1 again, 2.
      p.deliver(f3!);
      p.deliver(f1!);
      p.deliver(f1!);
      p.deliver(f2!);
      expect(p.got("b")).to.deep.equal(range(1, 2));
      expect(p.b.stats.duplicates).to.equal(1);
      expect(p.b.stats.gaps).to.equal(1);
      p.deliverAll(); // the nak reaches a, which resends 1..3; b discards 1 and 2, takes 3
      expect(p.got("b")).to.deep.equal(range(1, 3));
      expect(p.b.stats.duplicates).to.equal(3);
    });

    it("discards a duplicated frame (stats.duplicates) and still acknowledges it", () => {
      p = new Pair();
      p.a.send(msg(1));
      p.a.flush();
      const [f] = p.take();
      p.deliver(f!);
      p.deliver(f!);
      p.deliver(f!);
      expect(p.rec.b.frames).to.deep.equal([[msg(1)]]);
      expect(p.b.stats.duplicates).to.equal(2);
      p.clock.advance(5);
      expect(p.pending("a")).to.deep.equal([{ e: EPOCH, a: 1 }]);
      // That ack is lost; the sender's resend (a duplicate) is acknowledged again.
      p.take();
      p.deliver(f!);
      expect(p.b.stats.duplicates).to.equal(3);
      p.clock.advance(5);
      expect(p.pending("a")).to.deep.equal([{ e: EPOCH, a: 1 }]);
    });

    it("survives a lossy, duplicating, reordering broker: every message once and in order", () => {
      for (const seed of [1, 7, 42]) {
        p = new Pair();
        const rand = rng(seed);
        const sent: Record<Side, unknown[]> = { a: [], b: [] };
        let n = 0;
        for (let step = 0; step < 400; step++) {
          if (step < 300) {
            for (const side of ["a", "b"] as const) {
              if (rand() < 0.5) {
                const m = msg(++n, { side });
                sent[side].push(m);
                p.epoch(side).send(m);
                if (rand() < 0.5) p.epoch(side).flush();
              }
            }
          } else {
            p.a.flush();
            p.b.flush();
          }
          // The broker: each envelope in flight is dropped, duplicated, held back or delivered.
          const inFlight = p.take();
          const held: InFlight[] = [];
          for (const f of inFlight) {
            const r = rand();
            if (r < 0.2) continue; // dropped
            if (r < 0.3) held.push(f); // reordered: after later ones
            else if (r < 0.4) {
              p.deliver(f);
              p.deliver(f);
            } else p.deliver(f);
          }
          for (const f of held.reverse()) p.deliver(f);
          p.clock.advance(20);
        }
        // Let the link settle with a perfect broker.
        for (let i = 0; i < 100; i++) {
          p.a.flush();
          p.b.flush();
          p.deliverAll();
          p.clock.advance(50);
        }
        expect(p.rec.a.closed, `seed ${seed}: not closed`).to.deep.equal([]);
        expect(p.got("b"), `seed ${seed}: a → b`).to.deep.equal(sent.a);
        expect(p.got("a"), `seed ${seed}: b → a`).to.deep.equal(sent.b);
        expect(p.a.pendingBytes + p.b.pendingBytes).to.equal(0);
        expect(p.a.stats.resent + p.b.stats.resent).to.be.greaterThan(0);
        expect(p.a.stats.duplicates + p.b.stats.duplicates).to.be.greaterThan(0);
        p.close();
      }
    });
  });

  describe("recovery", () => {
    it("a dropped frame followed by a later one: the gap asks for a resend (n) at once, and it is filled", () => {
      p = new Pair();
      for (let i = 1; i <= 3; i++) {
        p.a.send(msg(i));
        p.a.flush();
      }
      const [f1, , f3] = p.take(); // frame 2 is dropped
      p.deliver(f1!);
      p.deliver(f3!);
      expect(p.got("b")).to.deep.equal([msg(1)]);
      expect(p.b.stats.gaps).to.equal(1);
      // The resend request goes out without waiting for any timer, acknowledging 1.
      expect(p.pending("a")).to.deep.equal([{ e: EPOCH, a: 1, n: 2 }]);
      p.deliverAll();
      expect(p.a.stats.resent).to.equal(2); // 2 and 3
      expect(p.got("b")).to.deep.equal(range(1, 3));
      expect(p.clock.now()).to.equal(new FakeClock().now());
    });

    it("asks once per gap, not once per frame beyond it, until resendMs has passed", () => {
      p = new Pair();
      for (let i = 1; i <= 4; i++) {
        p.a.send(msg(i));
        p.a.flush();
      }
      const [, f2, f3, f4] = p.take();
      p.deliver(f2!);
      p.deliver(f3!);
      p.deliver(f4!);
      expect(p.pending("a").filter((e) => e.n !== undefined)).to.have.length(1);
      p.take();
      p.clock.advance(250);
      p.take((e, f) => f.to === "b"); // a's timer resend: dropped too
      p.deliver({ to: "b", raw: encodeEnvelope({ e: EPOCH, s: 3, a: 0, m: "[]" }) });
      expect(p.pending("a").filter((e) => e.n === 1)).to.have.length(1);
    });

    it("a lost last frame (no later frame to reveal the gap) is published again after resendMs", () => {
      p = new Pair();
      p.a.send(msg(1));
      p.a.flush();
      expect(p.take()).to.have.length(1); // dropped
      p.clock.advance(249);
      expect(p.pending("b")).to.deep.equal([]);
      expect(p.a.stats.resent).to.equal(0);
      p.clock.advance(1);
      expect(p.pending("b").map((e) => e.s)).to.deep.equal([1]);
      expect(p.a.stats.resent).to.equal(1);
      p.deliverAll();
      expect(p.got("b")).to.deep.equal([msg(1)]);
    });

    it("resends resendMs after the last acknowledgement progress, not at every tick", () => {
      p = new Pair({ heartbeatMs: 100 }); // ticks every 100 ms
      p.a.send(msg(1));
      p.a.flush();
      p.a.send(msg(2));
      p.a.flush();
      p.take(); // both lost
      p.clock.advance(200);
      expect(p.a.stats.resent).to.equal(0);
      p.a.receive({ e: EPOCH, a: 1 }); // frame 1 was taken after all: progress at t=200
      p.clock.advance(200);
      expect(p.a.stats.resent).to.equal(0);
      expect(p.queue).to.deep.equal([]);
      p.clock.advance(100);
      expect(p.a.stats.resent).to.equal(1);
      expect(p.pending("b").map((e) => e.s)).to.deep.equal([2]);
    });

    it("backs off while nothing is acknowledged: resends after resendMs, then 2x, 4x ... up to two heartbeats", () => {
      p = new Pair({ resendMs: 100, heartbeatMs: 1000, heartbeatTimeoutMs: 60_000 });
      p.a.send(msg(1));
      p.a.flush();
      const rounds: number[] = [];
      let resent = 0;
      for (let t = 100; t <= 8000; t += 100) {
        p.clock.advance(100);
        p.take();
        if (p.a.stats.resent !== resent) {
          resent = p.a.stats.resent;
          rounds.push(t);
        }
      }
      expect(rounds).to.deep.equal([100, 300, 700, 1500, 3100, 5100, 7100]);
      // Progress resets it: the next frame lost is resent after resendMs again.
      p.a.receive({ e: EPOCH, a: 1 });
      p.a.send(msg(2));
      p.a.flush();
      p.take();
      p.clock.advance(100);
      expect(p.a.stats.resent).to.equal(resent + 1);
    });

    it("resends at most about 1 MiB per round (always at least one frame)", () => {
      p = new Pair({ resendMs: 100, batchMaxBytes: 1024 * 1024, maxFrameBytes: 4 * 1024 * 1024, maxBufferedBytes: 64 * 1024 * 1024 });
      for (let i = 1; i <= 3; i++) {
        p.a.send(msg(i, { pad: "x".repeat(600 * 1024) }));
        p.a.flush();
      }
      p.take();
      p.clock.advance(100);
      expect(p.pending("b").filter((e) => e.s !== undefined).map((e) => e.s)).to.deep.equal([1]);
    });

    it("a resend request republishes from n on, not what comes before it", () => {
      p = new Pair();
      for (let i = 1; i <= 4; i++) {
        p.a.send(msg(i));
        p.a.flush();
      }
      p.take();
      p.a.receive({ e: EPOCH, n: 3 });
      expect(p.pending("b").map((e) => e.s)).to.deep.equal([3, 4]);
      expect(p.a.stats.resent).to.equal(2);
    });

    it("does not resend a frame that was acknowledged", () => {
      p = new Pair();
      p.a.send(msg(1));
      p.a.flush();
      p.deliverAll();
      p.clock.advance(5); // b's ack
      p.deliverAll();
      expect(p.a.pendingBytes).to.equal(0);
      p.clock.advance(2000);
      expect(p.pending("b").filter((e) => e.s !== undefined && (e.m ?? []).some((m) => (m as { op: string }).op !== "ping"))).to.deep.equal([]);
      expect(p.a.stats.resent).to.equal(0);
    });
  });

  describe("acknowledgements", () => {
    it("an ack goes alone ~5 ms after a frame when there is nothing to piggyback on, and frees the sender's buffer", () => {
      p = new Pair();
      p.a.send(msg(1, { pad: "x".repeat(100) }));
      p.a.flush();
      const bytes = p.a.pendingBytes;
      expect(bytes).to.be.greaterThan(100);
      p.deliverAll();
      expect(p.pending("a")).to.deep.equal([]);
      p.clock.advance(4);
      expect(p.pending("a")).to.deep.equal([]);
      p.clock.advance(1);
      expect(p.pending("a")).to.deep.equal([{ e: EPOCH, a: 1 }]);
      expect(p.a.pendingBytes).to.equal(bytes);
      p.deliverAll();
      expect(p.a.pendingBytes).to.equal(0);
    });

    it("an ack rides on the receiver's next data frame (a), and no separate ack follows", () => {
      p = new Pair();
      p.a.send(msg(1));
      p.a.send(msg(2));
      p.a.flush();
      p.a.send(msg(3));
      p.a.flush();
      p.deliverAll();
      p.b.send({ op: "reply" });
      p.b.flush();
      expect(p.pending("a")).to.deep.equal([{ e: EPOCH, s: 1, a: 2, m: [{ op: "reply" }] }]);
      p.deliverAll();
      expect(p.a.pendingBytes).to.equal(0);
      p.clock.advance(5);
      expect(p.pending("a")).to.deep.equal([]);
    });

    it("a partial ack frees only the acknowledged frames", () => {
      p = new Pair();
      p.a.send(msg(1));
      p.a.flush();
      const first = p.a.pendingBytes;
      p.a.send(msg(2, { pad: "yy" }));
      p.a.flush();
      const both = p.a.pendingBytes;
      p.take();
      p.a.receive({ e: EPOCH, a: 1 });
      expect(p.a.pendingBytes).to.equal(both - first);
      p.a.receive({ e: EPOCH, a: 2 });
      expect(p.a.pendingBytes).to.equal(0);
    });
  });

  describe("heartbeat", () => {
    it("ping and pong are answered inside the epoch, never handed to frame()", () => {
      p = new Pair();
      p.a.send({ op: "ping" });
      p.a.send(msg(1));
      p.a.flush();
      p.deliverAll();
      expect(p.rec.b.frames).to.deep.equal([[msg(1)]]);
      p.b.flush(); // the pong
      const back = p.pending("a");
      expect(back).to.have.length(1);
      expect(back[0]!.m).to.deep.equal([{ op: "pong" }]);
      p.deliverAll();
      expect(p.rec.a.frames).to.deep.equal([]);
      // A frame of nothing but a ping calls frame() not at all.
      p.a.send({ op: "ping" });
      p.a.flush();
      p.deliverAll();
      expect(p.rec.b.frames).to.have.length(1);
    });

    it("a silent peer is pinged after heartbeatMs", () => {
      p = new Pair();
      p.clock.advance(999);
      p.a.flush();
      expect(p.pending("b")).to.deep.equal([]);
      p.clock.advance(1);
      p.a.flush();
      expect(p.pending("b").map((e) => e.m)).to.deep.equal([[{ op: "ping" }]]);
    });

    it("two epochs that keep pinging each other never time out", () => {
      p = new Pair();
      for (let t = 0; t < 30_000; t += 50) {
        p.clock.advance(50);
        p.a.flush();
        p.b.flush();
        p.deliverAll();
      }
      expect(p.rec.a.closed).to.deep.equal([]);
      expect(p.rec.b.closed).to.deep.equal([]);
      expect(p.rec.a.frames).to.deep.equal([]);
    });

    it("silence past heartbeatTimeoutMs closes with PORTAL_ERR_LINK_TIMEOUT, once", () => {
      p = new Pair();
      p.clock.advance(5000);
      expect(p.rec.a.closed).to.deep.equal([]);
      p.clock.advance(250);
      expect(p.rec.a.closed).to.have.length(1);
      expect(p.rec.a.closed[0]).to.be.instanceOf(PortalError);
      expect(p.rec.a.closed[0]!.code).to.equal(ErrorCodes.LINK_TIMEOUT);
      expect(p.a.closed).to.equal(true);
      p.clock.advance(10_000);
      p.a.close();
      expect(p.rec.a.closed).to.have.length(1);
    });

    it("any envelope from the peer (an ack alone) counts as hearing from it", () => {
      p = new Pair();
      p.clock.advance(4000);
      p.a.receive({ e: EPOCH, a: 0 });
      p.clock.advance(4000);
      expect(p.rec.a.closed).to.deep.equal([]);
      p.clock.advance(1250);
      expect(p.rec.a.closed.map((e) => e?.code)).to.deep.equal([ErrorCodes.LINK_TIMEOUT]);
    });

    it("does not time out while paused; resume() gives a fresh timeout and resends what is unacknowledged", () => {
      p = new Pair();
      p.a.send(msg(1));
      p.a.flush();
      p.take(); // lost while our connection is down
      p.a.pause();
      p.clock.advance(60_000);
      expect(p.rec.a.closed).to.deep.equal([]);
      expect(p.a.stats.resent).to.equal(0); // nothing published while paused
      p.take();
      p.a.resume();
      expect(p.a.stats.resent).to.equal(1);
      expect(p.pending("b").map((e) => e.s)).to.deep.equal([1]);
      p.take(); // the peer is gone for good
      p.clock.advance(5000);
      expect(p.rec.a.closed).to.deep.equal([]);
      p.clock.advance(250);
      expect(p.rec.a.closed.map((e) => e?.code)).to.deep.equal([ErrorCodes.LINK_TIMEOUT]);
    });

    it("resume() with nothing unacknowledged publishes nothing", () => {
      p = new Pair();
      p.a.pause();
      p.clock.advance(10_000);
      p.a.resume();
      expect(p.queue).to.deep.equal([]);
      expect(p.a.stats.resent).to.equal(0);
    });
  });

  describe("limits", () => {
    it("more unacknowledged bytes than maxBufferedBytes closes with PORTAL_ERR_LINK_BACKPRESSURE", () => {
      p = new Pair({ maxBufferedBytes: 2000 });
      const big = (n: number) => msg(n, { pad: "z".repeat(880) });
      p.a.send(big(1));
      p.a.flush();
      p.a.send(big(2));
      p.a.flush();
      expect(p.a.pendingBytes).to.be.within(1800, 2000);
      expect(p.rec.a.closed).to.deep.equal([]);
      p.a.send(big(3));
      p.a.flush();
      expect(p.rec.a.closed).to.have.length(1);
      expect(p.rec.a.closed[0]!.code).to.equal(ErrorCodes.LINK_BACKPRESSURE);
      expect(p.a.closed).to.equal(true);
      expect(p.a.pendingBytes).to.equal(0);
    });

    it("the same bytes acknowledged as they go never trip the limit", () => {
      p = new Pair({ maxBufferedBytes: 2000 });
      for (let i = 1; i <= 20; i++) {
        p.a.send(msg(i, { pad: "z".repeat(880) }));
        p.a.flush();
        p.deliverAll();
        p.clock.advance(5);
        p.deliverAll();
      }
      expect(p.rec.a.closed).to.deep.equal([]);
      expect(p.got("b")).to.have.length(20);
    });

    it("a message larger than the frame limit is a fault PORTAL_ERR_LINK_FRAME and nothing is sent", () => {
      p = new Pair();
      p.a.send({ op: "data-out", text: "q".repeat(5000) });
      p.a.flush();
      expect(p.queue).to.deep.equal([]);
      expect(p.rec.a.faults).to.have.length(1);
      expect(p.rec.a.faults[0]!.code).to.equal(ErrorCodes.LINK_FRAME);
      expect(p.rec.a.faults[0]!.details).to.deep.equal({ op: "data-out" });
      expect(p.rec.a.closed).to.deep.equal([]);
      // The link goes on: the next message is frame 1.
      p.a.send(msg(1));
      p.a.flush();
      expect(p.pending("b").map((e) => e.s)).to.deep.equal([1]);
    });

    it("several messages over batchMaxBytes go as several frames, all delivered in order", () => {
      p = new Pair();
      const msgs = Array.from({ length: 10 }, (_, i) => msg(i + 1, { pad: "w".repeat(300) }));
      for (const m of msgs) p.a.send(m);
      p.a.flush();
      const frames = p.pending("b");
      expect(frames.length).to.be.greaterThan(1);
      for (const f of frames) expect(JSON.stringify(f.m).length).to.be.at.most(1024);
      p.deliverAll();
      expect(p.got("b")).to.deep.equal(msgs);
    });
  });

  describe("close", () => {
    it("close() publishes what is queued first, then fires closed() without an error", () => {
      p = new Pair();
      p.a.send(msg(1));
      p.a.send(msg(2));
      p.a.close();
      expect(p.pending("b").map((e) => e.m)).to.deep.equal([[msg(1), msg(2)]]);
      expect(p.rec.a.closed).to.deep.equal([undefined]);
      p.deliverAll();
      expect(p.got("b")).to.deep.equal(range(1, 2));
    });

    it("close(err) drops what is queued and reports err", () => {
      p = new Pair();
      p.a.send(msg(1));
      const err = new PortalError(ErrorCodes.LINK_DOWN, "reset by the peer");
      p.a.close(err);
      p.a.flush();
      expect(p.queue).to.deep.equal([]);
      expect(p.rec.a.closed).to.deep.equal([err]);
    });

    it("closed fires once; a closed epoch sends and receives nothing", () => {
      p = new Pair();
      p.a.close();
      p.a.close();
      p.a.close(new PortalError(ErrorCodes.LINK_DOWN, "again"));
      expect(p.rec.a.closed).to.deep.equal([undefined]);
      p.a.send(msg(1));
      p.a.flush();
      expect(p.queue).to.deep.equal([]);
      p.a.receive({ e: EPOCH, s: 1, a: 0, m: [msg(9)] });
      expect(p.rec.a.frames).to.deep.equal([]);
      p.clock.advance(60_000);
      expect(p.queue).to.deep.equal([]);
      expect(p.rec.a.closed).to.have.length(1);
      expect(p.clock.pendingTimers).to.be.at.most(1); // only b's ticker left
    });
  });
});
