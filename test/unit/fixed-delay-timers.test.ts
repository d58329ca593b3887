import { expect } from "chai";
import { FixedDelayTimers } from "../../core/index.js";
import { FakeClock } from "../../core/testing/index.js";

// The telnet listener's negotiation deadlines and keep-alives: one clock timer for all sessions.

describe("FixedDelayTimers (many timers with one delay, one clock timer)", () => {
  interface Item { name: string }
  const item = (name: string): Item => ({ name });

  function make(delayMs = 100, fire: (it: Item) => void = () => undefined) {
    const clock = new FakeClock();
    const fired: string[] = [];
    const errors: unknown[] = [];
    const timers = new FixedDelayTimers<Item>(clock, delayMs, (it) => {
      fired.push(it.name);
      fire(it);
    }, (err) => errors.push(err));
    return { clock, timers, fired, errors };
  }

  it("fires each item once, delayMs after it was added, in the order added, with one clock timer", () => {
    const { clock, timers, fired } = make(100);
    timers.add(item("a"));
    clock.advance(30);
    timers.add(item("b"));
    timers.add(item("c"));
    expect(clock.pendingTimers).to.equal(1);
    expect(timers.size).to.equal(3);
    clock.advance(69);
    expect(fired).to.deep.equal([]);
    clock.advance(1);
    expect(fired).to.deep.equal(["a"]);
    clock.advance(29);
    expect(fired).to.deep.equal(["a"]);
    clock.advance(1);
    expect(fired).to.deep.equal(["a", "b", "c"]);
    expect(timers.size).to.equal(0);
    expect(clock.pendingTimers).to.equal(0);
  });

  it("a cancelled item never fires; stale tickets (fired, cancelled twice, 0) are ignored", () => {
    const { clock, timers, fired } = make(100);
    const a = timers.add(item("a"));
    const b = timers.add(item("b"));
    timers.add(item("c"));
    timers.cancel(b);
    timers.cancel(b);
    timers.cancel(0);
    expect(timers.size).to.equal(2);
    clock.advance(100);
    expect(fired).to.deep.equal(["a", "c"]);
    timers.cancel(a);
    expect(timers.size).to.equal(0);
  });

  it("cancelling the last live item clears the clock timer (nothing keeps the process awake)", () => {
    const { clock, timers } = make(100);
    const a = timers.add(item("a"));
    const b = timers.add(item("b"));
    timers.cancel(a);
    expect(clock.pendingTimers).to.equal(1);
    timers.cancel(b);
    expect(clock.pendingTimers).to.equal(0);
    // and the old tickets stay dead after the queue starts over
    const c = timers.add(item("c"));
    timers.cancel(a);
    expect(timers.size).to.equal(1);
    timers.cancel(c);
    expect(timers.size).to.equal(0);
  });

  it("an item added again from its own firing waits a full delay (a keep-alive), and clear() stops everything", () => {
    let timers!: FixedDelayTimers<Item>;
    const made = make(50, (it) => void timers.add(it));
    timers = made.timers;
    const { clock, fired } = made;
    timers.add(item("k"));
    clock.advance(50);
    expect(fired).to.deep.equal(["k"]);
    clock.advance(49);
    expect(fired).to.deep.equal(["k"]);
    clock.advance(1);
    expect(fired).to.deep.equal(["k", "k"]);
    timers.clear();
    expect(clock.pendingTimers).to.equal(0);
    clock.advance(500);
    expect(fired).to.deep.equal(["k", "k"]);
  });

  it("an item that throws is reported and the others still fire", () => {
    const { clock, timers, fired, errors } = make(10, (it) => {
      if (it.name === "bad") throw new Error("boom");
    });
    timers.add(item("a"));
    timers.add(item("bad"));
    timers.add(item("b"));
    clock.advance(10);
    expect(fired).to.deep.equal(["a", "bad", "b"]);
    expect(errors.map((e) => (e as Error).message)).to.deep.equal(["boom"]);
    expect(clock.pendingTimers).to.equal(0);
  });

  it("stays correct while it never drains: entries are compacted and older tickets still cancel", () => {
    const { clock, timers, fired } = make(10);
    const due = new Map<number, string>();
    let n = 0;
    const expected: string[] = [];
    for (let round = 0; round < 60; round++) {
      // 100 new items every 5 ms, so the queue is never empty and the fired entries pile up at its front
      const batch: [number, string][] = [];
      for (let i = 0; i < 100; i++) {
        const name = `i${n++}`;
        batch.push([timers.add(item(name)), name]);
      }
      // cancel every third new one, and one of the previous batch (added 5 ms ago, not yet due)
      batch.forEach(([ticket, name], i) => (i % 3 === 0 ? timers.cancel(ticket) : due.set(ticket, name)));
      const older = [...due.keys()].find((t) => !batch.some(([b]) => b === t));
      if (older !== undefined) {
        timers.cancel(older);
        due.delete(older);
      }
      expect(timers.size).to.equal(due.size);
      clock.advance(5);
      for (const [ticket, name] of [...due]) if (fired.includes(name)) due.delete(ticket);
    }
    clock.advance(10);
    for (const name of fired) expected.push(name);
    expect(timers.size).to.equal(0);
    expect(clock.pendingTimers).to.equal(0);
    expect(new Set(fired).size).to.equal(fired.length);
    // 60 rounds of 100, a third cancelled at once and one more per round after the first
    expect(fired.length).to.equal(60 * 66 - 59);
    expect(expected).to.deep.equal([...fired].sort((a, b) => Number(a.slice(1)) - Number(b.slice(1))));
  });
});
