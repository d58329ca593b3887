import { expect } from "chai";
import { FakeClock } from "../../../core/testing/fake-clock.js";
import { FloodQueue, type FloodQueueOptions } from "../../../plugins/irc/flood-queue.js";

interface Harness {
  clock: FakeClock;
  sent: string[];
  times: number[];
  queue: FloodQueue;
  /** Time since the start, in ms. */
  elapsed(): number;
}

function harness(options: Partial<Omit<FloodQueueOptions, "clock" | "send">> = {}): Harness {
  const clock = new FakeClock();
  const start = clock.now();
  const sent: string[] = [];
  const times: number[] = [];
  const queue = new FloodQueue({
    ...options,
    clock,
    send: (line) => {
      sent.push(line);
      times.push(clock.now() - start);
    },
  });
  return { clock, sent, times, queue, elapsed: () => clock.now() - start };
}

const lines = (n: number, from = 1): string[] => Array.from({ length: n }, (_, i) => `L${from + i}`);

describe("irc FloodQueue", () => {
  it("sends a burst at once, then one line per second", () => {
    const h = harness();
    const results = lines(6).map((l) => h.queue.push(l));
    expect(results).to.deep.equal(["sent", "sent", "sent", "queued", "queued", "queued"]);
    expect(h.sent).to.deep.equal(["L1", "L2", "L3"]);
    expect(h.queue.length).to.equal(3);
    h.clock.advance(999);
    expect(h.sent).to.have.length(3);
    h.clock.advance(1);
    expect(h.sent).to.deep.equal(lines(4));
    h.clock.advance(1000);
    expect(h.sent).to.deep.equal(lines(5));
    h.clock.advance(1000);
    expect(h.sent).to.deep.equal(lines(6));
    expect(h.times).to.deep.equal([0, 0, 0, 1000, 2000, 3000]);
    expect(h.queue.length).to.equal(0);
    expect(h.clock.pendingTimers).to.equal(0);
  });

  it("keeps at most one timer pending", () => {
    const h = harness();
    for (const l of lines(20)) {
      h.queue.push(l);
      expect(h.clock.pendingTimers).to.be.at.most(1);
    }
    for (let i = 0; i < 70; i++) {
      h.clock.advance(250);
      expect(h.clock.pendingTimers).to.be.at.most(1);
    }
    expect(h.sent).to.deep.equal(lines(20));
  });

  it("refills to the burst size only, however long it was idle", () => {
    const h = harness();
    h.queue.push("first");
    h.clock.advance(60_000);
    const results = lines(5).map((l) => h.queue.push(l));
    expect(results).to.deep.equal(["sent", "sent", "sent", "queued", "queued"]);
  });

  it("refills gradually: a line after a partial wait waits only for the rest", () => {
    const h = harness({ burst: 1 });
    h.queue.push("a");
    h.clock.advance(600);
    expect(h.queue.push("b")).to.equal("queued");
    h.clock.advance(399);
    expect(h.sent).to.deep.equal(["a"]);
    h.clock.advance(1);
    expect(h.sent).to.deep.equal(["a", "b"]);
  });

  it("honours ratePerSec and burst", () => {
    const h = harness({ ratePerSec: 2, burst: 1 });
    for (const l of lines(4)) h.queue.push(l);
    h.clock.advance(2000);
    expect(h.times).to.deep.equal([0, 500, 1000, 1500]);
  });

  it("never sends faster than the bucket allows, whatever the push pattern", () => {
    const h = harness({ ratePerSec: 1, burst: 3, queueMax: 10 });
    let seed = 7;
    const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (let step = 0; step < 400; step++) {
      const n = Math.floor(rand() * 4);
      for (let i = 0; i < n; i++) h.queue.push(`s${step}.${i}`);
      if (rand() < 0.1) h.queue.clear();
      h.clock.advance(Math.floor(rand() * 900));
    }
    expect(h.times.length).to.be.greaterThan(50);
    // In any window of w ms, at most burst + w/1000 lines.
    for (let i = 0; i < h.times.length; i++) {
      for (let j = i; j < h.times.length; j++) {
        const window = h.times[j]! - h.times[i]!;
        expect(j - i + 1, `lines ${i}..${j} within ${window} ms`).to.be.at.most(3 + Math.floor(window / 1000));
      }
    }
  });

  describe("bounded queue and clipped marker", () => {
    it("drops lines when full and queues one marker with the count once there is room", () => {
      const h = harness({ burst: 1, queueMax: 5 });
      expect(h.queue.push("L1")).to.equal("sent");
      for (const l of lines(5, 2)) expect(h.queue.push(l)).to.equal("queued");
      for (const l of lines(4, 7)) expect(h.queue.push(l)).to.equal("dropped");
      expect(h.queue.length).to.equal(5);
      expect(h.queue.dropped).to.equal(4);
      h.clock.advance(1000); // L2 goes, the marker takes the free slot
      expect(h.sent).to.deep.equal(["L1", "L2"]);
      expect(h.queue.length).to.equal(5);
      // the queue is full again: more drops update the waiting marker
      expect(h.queue.push("L11")).to.equal("dropped");
      expect(h.queue.push("L12")).to.equal("dropped");
      expect(h.queue.dropped).to.equal(6);
      h.clock.advance(5000);
      expect(h.sent).to.deep.equal(["L1", "L2", "L3", "L4", "L5", "L6", "[… 6 line(s) clipped]"]);
      expect(h.queue.length).to.equal(0);
      // afterwards lines flow again, and a new overflow gets a new marker with its own count
      h.clock.advance(10_000);
      expect(h.queue.push("M1")).to.equal("sent");
      for (const l of lines(5, 100)) h.queue.push(l);
      expect(h.queue.push("X")).to.equal("dropped");
      h.clock.advance(10_000);
      expect(h.sent.slice(-7)).to.deep.equal(["M1", "L100", "L101", "L102", "L103", "L104", "[… 1 line(s) clipped]"]);
      expect(h.sent.filter((l) => l.includes("clipped"))).to.have.length(2);
      expect(h.queue.dropped).to.equal(7);
    });

    it("never holds more than queueMax lines", () => {
      const h = harness({ burst: 2, queueMax: 3 });
      for (let i = 0; i < 50; i++) {
        h.queue.push(`x${i}`);
        expect(h.queue.length).to.be.at.most(3);
        if (i % 5 === 0) h.clock.advance(700);
      }
    });

    it("uses a custom marker", () => {
      const h = harness({ burst: 1, queueMax: 1, clippedMarker: (n) => `<${n} clipped>` });
      for (const l of lines(5)) h.queue.push(l);
      h.clock.advance(10_000);
      expect(h.sent).to.deep.equal(["L1", "L2", "<3 clipped>"]);
    });

    it("with queueMax 0 the marker goes out directly when the bucket allows", () => {
      const h = harness({ burst: 1, queueMax: 0 });
      for (const l of lines(4)) h.queue.push(l);
      expect(h.sent).to.deep.equal(["L1"]);
      h.clock.advance(1000);
      expect(h.sent).to.deep.equal(["L1", "[… 3 line(s) clipped]"]);
      expect(h.clock.pendingTimers).to.equal(0);
    });
  });

  describe("requeue", () => {
    it("puts held lines ahead of the waiting ones, in their order, paced like the rest, without dropping past queueMax", () => {
      const h = harness({ burst: 1, queueMax: 2 });
      for (const l of ["N1", "N2", "N3"]) h.queue.push(l); // N1 goes out; N2, N3 wait
      h.queue.requeue(["H1", "H2", "H3"]);
      expect(h.queue.length).to.equal(5);
      expect(h.queue.dropped).to.equal(0);
      h.clock.advance(10_000);
      expect(h.sent).to.deep.equal(["N1", "H1", "H2", "H3", "N2", "N3"]);
      expect(h.times).to.deep.equal([0, 1000, 2000, 3000, 4000, 5000]);
      h.queue.requeue([]);
      expect(h.clock.pendingTimers).to.equal(0);
      h.queue.stop();
      h.queue.requeue(["late"]);
      expect(h.queue.length).to.equal(0);
    });
  });

  describe("clear and stop", () => {
    it("clear() drops everything without a marker and cancels the timer", () => {
      const h = harness({ burst: 1, queueMax: 2 });
      for (const l of lines(5)) h.queue.push(l);
      expect(h.clock.pendingTimers).to.equal(1);
      expect(h.queue.clear()).to.equal(2);
      expect(h.queue.length).to.equal(0);
      expect(h.clock.pendingTimers).to.equal(0);
      h.clock.advance(10_000);
      expect(h.sent).to.deep.equal(["L1"]);
      expect(h.queue.dropped).to.equal(2);
    });

    it("clear() does not refill the bucket", () => {
      const h = harness();
      for (const l of lines(5)) h.queue.push(l);
      h.queue.clear();
      expect(h.queue.push("after")).to.equal("queued");
      h.clock.advance(999);
      expect(h.sent).to.deep.equal(["L1", "L2", "L3"]);
      h.clock.advance(1);
      expect(h.sent).to.deep.equal(["L1", "L2", "L3", "after"]);
    });

    it("stop() cancels the timer and ignores later pushes", () => {
      const h = harness();
      for (const l of lines(5)) h.queue.push(l);
      h.queue.stop();
      expect(h.clock.pendingTimers).to.equal(0);
      expect(h.queue.push("late")).to.equal("dropped");
      h.clock.advance(10_000);
      expect(h.sent).to.deep.equal(["L1", "L2", "L3"]);
    });
  });

  it("a send that throws is reported and does not stall the queue", () => {
    const clock = new FakeClock();
    const sent: string[] = [];
    const errors: unknown[] = [];
    const queue = new FloodQueue({
      clock, burst: 1,
      send: (line) => {
        if (line === "bad") throw new Error("socket closed");
        sent.push(line);
      },
      onError: (err) => errors.push(err),
    });
    queue.push("a");
    queue.push("bad");
    queue.push("c");
    clock.advance(5000);
    expect(sent).to.deep.equal(["a", "c"]);
    expect(errors).to.have.length(1);
  });

  it("rejects nonsense options", () => {
    const clock = new FakeClock();
    const send = (): void => {};
    expect(() => new FloodQueue({ clock, send, ratePerSec: 0 })).to.throw(RangeError);
    expect(() => new FloodQueue({ clock, send, burst: 0 })).to.throw(RangeError);
    expect(() => new FloodQueue({ clock, send, queueMax: -1 })).to.throw(RangeError);
  });
});
