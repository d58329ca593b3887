import { expect } from "chai";
import { QueueClosedError, QueueFullError, WorkQueue } from "../../../core/default-game/work-queue.js";

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe("default game: bounded work queue", () => {
  it("runs at most `concurrency` jobs at once, in order", async () => {
    const q = new WorkQueue(2, 100);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    const jobs = Array.from({ length: 10 }, (_, i) =>
      q.run(async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 2));
        order.push(i);
        running--;
        return i * 2;
      }),
    );
    expect(await Promise.all(jobs)).to.deep.equal([0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
    expect(peak).to.equal(2);
    expect(order.slice(0, 2).sort()).to.deep.equal([0, 1]);
  });

  it("refuses work beyond maxPending at once, and keeps working afterwards", async () => {
    const q = new WorkQueue(1, 2);
    const gate = deferred();
    const a = q.run(() => gate.promise);
    const b = q.run(async () => 1);
    const c = q.run(async () => 2);
    let refused: unknown;
    await q.run(async () => 3).catch((e: unknown) => (refused = e));
    expect(refused).to.be.instanceOf(QueueFullError);
    gate.resolve();
    await a;
    expect(await b).to.equal(1);
    expect(await c).to.equal(2);
    expect(await q.run(async () => 4)).to.equal(4);
  });

  it("a failing job does not stop the queue", async () => {
    const q = new WorkQueue(1, 10);
    const bad = q.run(() => Promise.reject(new Error("boom")));
    const throws = q.run(() => {
      throw new Error("sync boom");
    });
    const good = q.run(async () => "ok");
    expect(await bad.catch((e: Error) => e.message)).to.equal("boom");
    expect(await throws.catch((e: Error) => e.message)).to.equal("sync boom");
    expect(await good).to.equal("ok");
  });

  it("close() fails what waits and refuses new work", async () => {
    const q = new WorkQueue(1, 10);
    const gate = deferred();
    const running = q.run(() => gate.promise);
    const waiting = q.run(async () => 1);
    q.close();
    expect(await waiting.catch((e: unknown) => e)).to.be.instanceOf(QueueClosedError);
    expect(await q.run(async () => 1).catch((e: unknown) => e)).to.be.instanceOf(QueueClosedError);
    gate.resolve();
    await running;
  });
});
