import { expect } from "chai";
import { AttemptLimiter, aboutMinutes, addressKey } from "../../../core/default-game/attempt-limiter.js";

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

describe("default game: limiter lockout, release, disabled; address keys", () => {
  let t = 0;
  beforeEach(() => (t = 5_000_000));

  it("with lockoutMs, the failure that fills the window locks the key for the cooldown, then it starts afresh", () => {
    const l = new AttemptLimiter({ maxFailures: 3, windowMs: 60_000, lockoutMs: 600_000, maxKeys: 100, now: () => t });
    for (let i = 0; i < 3; i++) {
      expect(l.begin("victim")).to.equal(true);
      expect(l.failed("victim"), `failure ${i + 1}`).to.equal(i === 2);
    }
    expect(l.begin("victim")).to.equal(false);
    expect(l.retryAfterMs("victim")).to.equal(600_000);
    // Reported once only.
    expect(l.failed("victim")).to.equal(false);
    t += 599_999;
    expect(l.blocked("victim")).to.equal(true);
    expect(l.retryAfterMs("victim")).to.equal(1);
    t += 1;
    expect(l.blocked("victim")).to.equal(false);
    // A fresh start: three more tries before the next lockout.
    for (let i = 0; i < 3; i++) expect(l.begin("victim")).to.equal(true);
    expect(l.begin("victim")).to.equal(false);
    expect(l.blocked("other")).to.equal(false);
  });

  it("attempts still in flight when the lockout starts cannot reopen it", () => {
    const l = new AttemptLimiter({ maxFailures: 2, windowMs: 60_000, lockoutMs: 60_000, maxKeys: 100, now: () => t });
    expect([l.begin("k"), l.begin("k"), l.begin("k")]).to.deep.equal([true, true, false]);
    expect(l.failed("k")).to.equal(true);
    expect(l.failed("k")).to.equal(false);
    l.release("k");
    expect(l.blocked("k")).to.equal(true);
  });

  it("without lockoutMs, retryAfterMs is when the oldest failure leaves the window", () => {
    const l = new AttemptLimiter({ maxFailures: 2, windowMs: 10_000, maxKeys: 100, now: () => t });
    l.begin("a");
    t += 4000;
    l.begin("a");
    expect(l.failed("a")).to.equal(true);
    expect(l.retryAfterMs("a")).to.equal(6000);
  });

  it("release gives a slot back (a creation that failed does not count)", () => {
    const l = new AttemptLimiter({ maxFailures: 1, windowMs: 10_000, maxKeys: 100, now: () => t });
    expect(l.begin("a")).to.equal(true);
    expect(l.begin("a")).to.equal(false);
    l.release("a");
    expect(l.begin("a")).to.equal(true);
  });

  it("maxFailures 0 disables the limiter", () => {
    const l = new AttemptLimiter({ maxFailures: 0, windowMs: 10_000, lockoutMs: 10_000, maxKeys: 100, now: () => t });
    for (let i = 0; i < 1000; i++) expect(l.begin("a")).to.equal(true);
    expect(l.failed("a")).to.equal(false);
    expect(l.blocked("a")).to.equal(false);
    expect(l.size).to.equal(0);
  });

  it("addressKey: the portal's address group (IPv4 as is, IPv4-mapped as IPv4, IPv6 by its /64 prefix)", () => {
    expect(addressKey("127.0.0.12")).to.equal("127.0.0.12");
    expect(addressKey("::ffff:10.1.2.3")).to.equal("10.1.2.3");
    expect(addressKey("2001:db8:1:2:aaaa::1")).to.equal("2001:db8:1:2:0:0:0:0/64");
    expect(addressKey("2001:DB8:1:2:ffff:ffff:ffff:ffff")).to.equal("2001:db8:1:2:0:0:0:0/64");
    expect(addressKey("2001:db8::1")).to.equal("2001:db8:0:0:0:0:0:0/64");
    expect(addressKey("::1")).to.equal("0:0:0:0:0:0:0:0/64");
    expect(addressKey("fe80::1%eth0")).to.equal("fe80:0:0:0:0:0:0:0/64");
    expect(addressKey("64:ff9b::192.0.2.1")).to.equal("64:ff9b:0:0:0:0:0:0/64");
    expect(addressKey(undefined)).to.equal("");
  });

  it("aboutMinutes rounds up, at least one minute", () => {
    expect(aboutMinutes(1)).to.equal("about 1 minute");
    expect(aboutMinutes(60_001)).to.equal("about 2 minutes");
    expect(aboutMinutes(900_000)).to.equal("about 15 minutes");
  });
});
