import { expect } from "chai";
import { AttemptLimiter } from "../../../core/default-game/attempt-limiter.js";

describe("default game: failed-login limiter", () => {
  let t = 0;
  const make = (maxKeys = 100) => new AttemptLimiter({ maxFailures: 5, windowMs: 300_000, maxKeys, now: () => t });
  beforeEach(() => (t = 1_000_000));

  it("allows 5 failed attempts per address, then blocks", () => {
    const l = make();
    for (let i = 0; i < 5; i++) expect(l.begin("1.2.3.4"), `attempt ${i + 1}`).to.equal(true);
    expect(l.blocked("1.2.3.4")).to.equal(true);
    expect(l.begin("1.2.3.4")).to.equal(false);
    expect(l.blocked("5.6.7.8")).to.equal(false);
  });

  it("a successful attempt gives its slot back", () => {
    const l = make();
    for (let i = 0; i < 4; i++) l.begin("a");
    expect(l.begin("a")).to.equal(true);
    l.succeed("a");
    expect(l.blocked("a")).to.equal(false);
    expect(l.begin("a")).to.equal(true);
    expect(l.blocked("a")).to.equal(true);
  });

  it("parallel attempts cannot slip past the limit (the slot is taken up front)", () => {
    const l = make();
    const started = Array.from({ length: 10 }, () => l.begin("x")).filter(Boolean).length;
    expect(started).to.equal(5);
  });

  it("forgets failures after the window", () => {
    const l = make();
    for (let i = 0; i < 5; i++) l.begin("a");
    t += 299_999;
    expect(l.blocked("a")).to.equal(true);
    t += 2;
    expect(l.blocked("a")).to.equal(false);
    expect(l.size).to.equal(0);
  });

  it("keeps at most maxKeys addresses, dropping the least recently used", () => {
    const l = make(3);
    for (const k of ["a", "b", "c"]) l.begin(k);
    l.begin("a");
    l.begin("d");
    expect(l.size).to.equal(3);
    for (let i = 0; i < 3; i++) l.begin("a");
    expect(l.blocked("a")).to.equal(true);
    expect(l.begin("b")).to.equal(true);
    expect(l.size).to.equal(3);
  });
});
