import { expect } from "chai";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { InputLedger, tupleBytes } from "../../core/sessions/input-ledger.js";
import { GameRunState } from "../../core/link/game-run-state.js";
import { chunkBySize, syncChunkBudget } from "../../core/link/chunks.js";
import type { CommandTuple } from "../../core/messages/command-tuple.js";

const line = (text: string): CommandTuple => ["text", [text], {}];
const a = { name: "a" };
const b = { name: "b" };
const big = { maxTuples: 1000, maxBytes: 1 << 20, maxTotalBytes: 1 << 22 };

describe("InputLedger (numbered input kept until acknowledged)", () => {
  it("numbers each session's input from 1, sends each once per connection, and forgets it on acknowledgement", () => {
    const l = new InputLedger<object>(big);
    expect(l.keep(a, line("one"))).to.deep.equal({ kept: true, seq: 1 });
    expect(l.keep(a, line("two"))).to.deep.equal({ kept: true, seq: 2 });
    expect(l.keep(b, line("x"))).to.deep.equal({ kept: true, seq: 1 });
    expect(l.takeUnsent(a)).to.deep.equal({ seq: 1, cmds: [line("one"), line("two")] });
    expect(l.takeUnsent(a), "nothing new").to.equal(undefined);
    l.keep(a, line("three"));
    expect(l.takeUnsent(a)).to.deep.equal({ seq: 3, cmds: [line("three")] });
    expect(l.size).to.equal(4);
    expect(l.ack(a, 2)).to.deep.equal({ ok: true, released: 2 });
    expect(l.size).to.equal(2);
    expect(l.nextExpected(a)).to.equal(3);
    expect(l.nextExpected(b)).to.equal(1);
  });

  it("after the link is lost, replays exactly what was not acknowledged, with the same numbers", () => {
    const l = new InputLedger<object>(big);
    for (const t of ["1", "2", "3", "4"]) l.keep(a, line(t));
    l.takeUnsent(a);
    l.ack(a, 2);
    l.rewind();
    l.keep(a, line("5"));
    expect(l.takeUnsent(a)).to.deep.equal({ seq: 3, cmds: [line("3"), line("4"), line("5")] });
  });

  it("refuses acknowledgements that were never sent, out of order or repeated, changing nothing", () => {
    const l = new InputLedger<object>(big);
    for (const t of ["1", "2", "3"]) l.keep(a, line(t));
    expect(l.ack(a, 1)).to.deep.include({ ok: false });
    l.takeUnsent(a);
    expect(l.ack(a, 4)).to.deep.include({ ok: false });
    expect(l.ack(a, 2)).to.deep.equal({ ok: true, released: 2 });
    expect(l.ack(a, 2)).to.deep.include({ ok: false });
    expect(l.ack(a, 1)).to.deep.include({ ok: false });
    expect(l.ack(b, 1)).to.deep.include({ ok: false });
    expect(l.size).to.equal(1);
    expect(l.nextExpected(a)).to.equal(3);
  });

  it("bounds tuples and bytes per session and bytes portal-wide; one input is always kept when none waits", () => {
    const l = new InputLedger<object>({ maxTuples: 2, maxBytes: 100, maxTotalBytes: 600 });
    expect(l.keep(a, line("x".repeat(500)))).to.deep.include({ kept: true });
    expect(l.keep(a, line("y"))).to.deep.equal({ kept: false, full: "session" });
    l.takeUnsent(a);
    l.ack(a, 1);
    expect(l.keep(a, line("1"))).to.deep.include({ kept: true });
    expect(l.keep(a, line("2"))).to.deep.include({ kept: true });
    expect(l.keep(a, line("3")), "tuple bound").to.deep.equal({ kept: false, full: "session" });
    expect(l.keep(b, line("z".repeat(560))), "portal-wide bound").to.deep.equal({ kept: false, full: "portal" });
    expect(l.bytes).to.equal(2 * tupleBytes(line("1")));
    l.drop(a);
    expect(l.bytes).to.equal(0);
    expect(l.keep(b, line("z".repeat(560)))).to.deep.include({ kept: true });
  });

  it("keeps memory flat over a long run of input acknowledged in step", () => {
    const l = new InputLedger<object>(big);
    for (let i = 1; i <= 10_000; i++) {
      l.keep(a, line(String(i)));
      l.takeUnsent(a);
      expect(l.ack(a, i).ok).to.equal(true);
    }
    expect([l.size, l.bytes]).to.deep.equal([0, 0]);
  });

  it("holds no acknowledged input: each is collectable as soon as it is acknowledged, whether or not later ones wait", async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const l = new InputLedger<object>(big);
    // Made in a function of its own, so no variable of this (async) test's frame still holds one.
    const refs = ((): WeakRef<CommandTuple>[] => {
      const made: WeakRef<CommandTuple>[] = [];
      for (let i = 1; i <= 10; i++) {
        const t = line(`input ${i}`);
        made.push(new WeakRef(t));
        l.keep(a, t);
      }
      return made;
    })();
    l.takeUnsent(a);
    expect(l.ack(a, 4).ok).to.equal(true);
    await new Promise((r) => setTimeout(r, 0));
    gc();
    expect(refs.map((r) => r.deref() !== undefined)).to.deep.equal([false, false, false, false, true, true, true, true, true, true]);
    expect(l.ack(a, 10).ok).to.equal(true);
    await new Promise((r) => setTimeout(r, 0));
    gc();
    expect(refs.filter((r) => r.deref() !== undefined)).to.have.length(0);
    // Still numbered on from where it was, and replayable.
    l.keep(a, line("input 11"));
    expect(l.takeUnsent(a)).to.deep.equal({ seq: 11, cmds: [line("input 11")] });
  });

  it("sizes typed lines cheaply and other tuples as JSON", () => {
    expect(tupleBytes(line("hello"))).to.equal(5 + 16);
    const oob: CommandTuple = ["Core.Hello", [{ client: "x" }], { k: 1 }];
    expect(tupleBytes(oob)).to.equal(JSON.stringify(oob).length);
  });
});

describe("GameRunState (the one owner of the restart mode)", () => {
  it("turns an announced stop into the next restart mode, anything else into crash", () => {
    const r = new GameRunState();
    expect(r.restartMode).to.equal("cold");
    r.requestStop("reload");
    r.linkClosed();
    expect(r.restartMode).to.equal("reload");
    r.linked();
    r.linkClosed();
    expect(r.restartMode).to.equal("crash");
    r.requestStop("shutdown");
    r.linkClosed();
    expect(r.restartMode).to.equal("cold");
    r.requestStop("reset");
    r.linked();
    expect(r.stopRequested, "a stop announced by the previous game does not carry over").to.equal(undefined);
  });
});

describe("chunkBySize", () => {
  it("splits in order within the budget; a larger item goes alone", () => {
    expect(chunkBySize([1, 2, 3, 10, 1, 1], (n) => n, 4)).to.deep.equal([[1, 2], [3], [10], [1, 1]]);
    expect(chunkBySize([], (n: number) => n, 4)).to.deep.equal([]);
    expect(syncChunkBudget(16 * 1024 * 1024, 256 * 1024)).to.equal(256 * 1024);
    expect(syncChunkBudget(64 * 1024, 256 * 1024)).to.equal(16 * 1024);
  });
});
