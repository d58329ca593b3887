import { expect } from "chai";
import { ConnectionThrottle } from "../../core/sessions/connection-throttle.js";
import { FakeClock } from "../../core/testing/index.js";
import { makeHarness, type TestSession } from "./session-handler-fixture.js";

const notice = (seconds: string) => `Portico DoS protection is active. You are queued to connect in ${seconds} seconds ...`;

interface Conn {
  readonly address: string | null;
  readonly name: string;
}

/** The throttle on its own, with every event recorded at fake-clock time. */
function bare(limits: { maxConnectionRate: number; connectionQueueMax?: number; connectionQueuePerIp?: number }) {
  const clock = new FakeClock();
  const released: { at: number; c: Conn }[] = [];
  const queued: { at: number; c: Conn; seconds: number }[] = [];
  const refused: { c: Conn; why: string }[] = [];
  const throttle = new ConnectionThrottle<Conn>(
    { connectionQueueMax: 500, connectionQueuePerIp: 10, ...limits },
    clock,
    {
      release: (c) => released.push({ at: clock.now(), c }),
      queued: (c, seconds) => queued.push({ at: clock.now(), c, seconds }),
      refused: (c, why) => refused.push({ c, why }),
    },
  );
  return { clock, throttle, released, queued, refused, t0: clock.now() };
}

describe("connection throttle", () => {
  describe("H02: at most maxConnectionRate per second, first come first served (one connection per address)", () => {
    it("announces six simultaneous connections 0.5 s apart in arrival order", () => {
      const h = makeHarness();
      const t0 = h.clock.now();
      const sessions = Array.from({ length: 6 }, (_, i) => h.connect(`10.0.0.${i + 1}`));
      h.clock.advance(10_000);
      const times = sessions.map((s) => h.channel.announcedAt(s.sessid)! - t0);
      expect(times).to.deep.equal([0, 500, 1000, 1500, 2000, 2500]);
      expect(h.channel.ofOp("session-connect").map((m) => m.session.sessid)).to.deep.equal(sessions.map((s) => s.sessid));
    });

    it("keeps spacing of at least 1/rate for other rates (rate 4 → 250 ms)", () => {
      const t = bare({ maxConnectionRate: 4 });
      for (let i = 0; i < 5; i += 1) t.throttle.enqueue({ address: "a", name: `c${i}` });
      t.clock.advance(5000);
      expect(t.released.map((r) => r.at - t.t0)).to.deep.equal([0, 250, 500, 750, 1000]);
      expect(t.released.map((r) => r.c.name)).to.deep.equal(["c0", "c1", "c2", "c3", "c4"]);
    });

    it("releases a newcomer at once after a quiet period, but never sooner than 1/rate after the last release", () => {
      const t = bare({ maxConnectionRate: 2 });
      t.throttle.enqueue({ address: "a", name: "first" });
      t.clock.advance(499);
      t.throttle.enqueue({ address: "b", name: "second" });
      expect(t.released.map((r) => r.c.name)).to.deep.equal(["first"]);
      t.clock.advance(1);
      expect(t.released.map((r) => [r.c.name, r.at - t.t0])).to.deep.equal([["first", 0], ["second", 500]]);
      t.clock.advance(600);
      t.throttle.enqueue({ address: "c", name: "third" });
      expect(t.released.map((r) => [r.c.name, r.at - t.t0])).to.deep.equal([["first", 0], ["second", 500], ["third", 1100]]);
      expect(t.queued).to.have.length(1);
    });

    it("queues a newcomer behind the connections already waiting", () => {
      const t = bare({ maxConnectionRate: 2 });
      for (const name of ["a", "b", "c"]) t.throttle.enqueue({ address: name, name });
      t.clock.advance(500);
      t.throttle.enqueue({ address: "d", name: "d" });
      t.clock.advance(5000);
      expect(t.released.map((r) => r.c.name)).to.deep.equal(["a", "b", "c", "d"]);
      expect(t.released.map((r) => r.at - t.t0)).to.deep.equal([0, 500, 1000, 1500]);
    });
  });

  describe("H03: the queued notice reports the real wait", () => {
    it("tells the 2nd and 3rd of three simultaneous connections 0.5 and 1.0 seconds", () => {
      const h = makeHarness();
      const [a, b, c] = [h.connect(), h.connect(), h.connect()];
      expect(a!.texts).to.deep.equal([]);
      expect(b!.texts).to.deep.equal([notice("0.5")]);
      expect(c!.texts).to.deep.equal([notice("1.0")]);
      expect(b!.sent[0]!.kwargs).to.deep.equal({ options: {} });
    });

    it("measures the wait from now (part of the spacing already elapsed)", () => {
      const h = makeHarness();
      const t0 = h.clock.now();
      h.connect();
      h.clock.advance(200);
      const b = h.connect();
      const c = h.connect();
      expect(b.texts).to.deep.equal([notice("0.3")]);
      expect(c.texts).to.deep.equal([notice("0.8")]);
      h.clock.advance(5000);
      expect(h.channel.announcedAt(b.sessid)! - t0).to.equal(500);
      expect(h.channel.announcedAt(c.sessid)! - t0).to.equal(1000);
    });

    it("uses the configured server name and the configured rate", () => {
      const h = makeHarness({ serverName: "Dungeon", limits: { maxConnectionRate: 0.5 } });
      h.connect();
      const b = h.connect();
      const c = h.connect();
      expect(b.texts).to.deep.equal(["Dungeon DoS protection is active. You are queued to connect in 2.0 seconds ..."]);
      expect(c.texts).to.deep.equal(["Dungeon DoS protection is active. You are queued to connect in 4.0 seconds ..."]);
    });
  });

  describe("H04: sustained arrivals above the rate never starve the queue", () => {
    it("3 arrivals/s for 10 s: each is announced within position × 0.5 s, at the time its notice gave", () => {
      const h = makeHarness();
      const t0 = h.clock.now();
      const arrivals: { s: TestSession; at: number; position: number }[] = [];
      for (let i = 0; i < 30; i += 1) {
        const at = t0 + Math.round((i * 1000) / 3);
        h.clock.advance(at - h.clock.now());
        const s = h.connect(`10.0.${i}.1`);
        const announcedAtOnce = h.channel.announcedAt(s.sessid) !== undefined;
        arrivals.push({ s, at, position: announcedAtOnce ? 0 : h.handler.queuedConnections });
      }
      // the queue did grow: arrivals outpace the rate
      expect(Math.max(...arrivals.map((a) => a.position))).to.be.greaterThanOrEqual(9);
      h.clock.advance(20_000);
      const announced = h.channel.ofOp("session-connect").map((m) => m.session.sessid);
      expect(announced).to.deep.equal(arrivals.map((a) => a.s.sessid));
      let previous = -Infinity;
      for (const { s, at, position } of arrivals) {
        const when = h.channel.announcedAt(s.sessid)!;
        expect(when - at, `${s.sessid} waited too long`).to.be.at.most(position * 500);
        expect(when - previous, "announcements closer than 1/rate").to.be.at.least(500);
        previous = when;
        if (position > 0) {
          const [text] = s.texts;
          const seconds = Number(/in ([\d.]+) seconds/.exec(text ?? "")?.[1]);
          expect(Math.abs(seconds * 1000 - (when - at)), `notice for ${s.sessid}`).to.be.at.most(50);
        } else {
          expect(s.texts).to.deep.equal([]);
        }
      }
      // the last arrival (t = 9667) gets through by 30 × 0.5 s after the first
      expect(h.channel.announcedAt(arrivals[29]!.s.sessid)! - t0).to.equal(14_500);
    });
  });

  describe("H05: a connection closed while queued is never announced", () => {
    it("sends neither connect nor disconnect for it, and the next one moves up", () => {
      const h = makeHarness();
      const t0 = h.clock.now();
      const a = h.connect();
      const b = h.connect();
      const c = h.connect();
      expect(h.handler.queuedConnections).to.equal(2);
      b.drop();
      expect(h.handler.queuedConnections).to.equal(1);
      h.clock.advance(5000);
      expect(h.channel.ofOp("session-connect").map((m) => m.session.sessid)).to.deep.equal([a.sessid, c.sessid]);
      expect(h.channel.ofOp("session-disconnect")).to.deep.equal([]);
      expect(h.channel.announcedAt(c.sessid)! - t0).to.equal(500);
      expect(h.handler.get(b.sessid)).to.equal(undefined);
    });
  });

  describe("queue caps", () => {
    it("refuses a connection over connectionQueueMax with a message, then closes it", () => {
      const h = makeHarness({ limits: { connectionQueueMax: 2 } });
      const first = h.connect("1.1.1.1");
      const q1 = h.connect("1.1.1.2");
      const q2 = h.connect("1.1.1.3");
      const over = h.connect("1.1.1.4");
      const msg = "Portico is receiving too many connections right now. Please try again in a minute.";
      expect(over.texts).to.deep.equal([msg]);
      expect(over.closeReasons).to.deep.equal([msg]);
      expect(over.state).to.equal("closed");
      expect(h.handler.queuedConnections).to.equal(2);
      const entry = h.logger.entries.find((e) => e.fields.code === "PORTAL_ERR_CONNECT_QUEUE_FULL");
      expect(entry?.fields).to.deep.include({ address: "1.1.1.4" });
      h.clock.advance(5000);
      expect(h.channel.ofOp("session-connect").map((m) => m.session.sessid)).to.deep.equal([first.sessid, q1.sessid, q2.sessid]);
      expect(h.channel.ofOp("session-disconnect")).to.deep.equal([]);
    });

    it("refuses a connection over connectionQueuePerIp for its address only", () => {
      const h = makeHarness({ limits: { connectionQueuePerIp: 2 } });
      h.connect("9.9.9.9"); // released at once: does not occupy the queue
      h.connect("9.9.9.9");
      h.connect("9.9.9.9");
      const overLimit = h.connect("9.9.9.9");
      const other = h.connect("8.8.8.8");
      const msg = "Portico: too many connections are waiting from your address. Please try again in a minute.";
      expect(overLimit.texts).to.deep.equal([msg]);
      expect(overLimit.state).to.equal("closed");
      // its turn comes right after the first waiting connection of 9.9.9.9, not behind both
      expect(other.texts).to.deep.equal([notice("1.0")]);
      expect(h.logger.codes()).to.include("PORTAL_ERR_CONNECT_PER_IP");
      // once one from that address is released, a new one may queue again
      h.clock.advance(500);
      const again = h.connect("9.9.9.9");
      expect(again.state).to.not.equal("closed");
      expect(h.handler.queuedConnections).to.equal(3);
    });

    it("frees a per-address slot when a queued connection closes", () => {
      const t = bare({ maxConnectionRate: 2, connectionQueuePerIp: 1 });
      t.throttle.enqueue({ address: "x", name: "first" });
      const waiting = { address: "x", name: "waiting" };
      t.throttle.enqueue(waiting);
      t.throttle.enqueue({ address: "x", name: "refused" });
      expect(t.refused.map((r) => [r.c.name, r.why])).to.deep.equal([["refused", "per-ip"]]);
      expect(t.throttle.remove(waiting)).to.equal(true);
      expect(t.throttle.remove(waiting)).to.equal(false);
      t.throttle.enqueue({ address: "x", name: "accepted" });
      expect(t.refused).to.have.length(1);
      expect(t.throttle.length).to.equal(1);
    });
  });

  describe("rate 0 disables the throttle (H14)", () => {
    it("announces 50 simultaneous connections at once with no notices and no timers", () => {
      const h = makeHarness({ limits: { maxConnectionRate: 0 } });
      const sessions = Array.from({ length: 50 }, () => h.connect("1.2.3.4"));
      expect(h.channel.ofOp("session-connect")).to.have.length(50);
      expect(sessions.every((s) => s.texts.length === 0)).to.equal(true);
      expect(h.handler.queuedConnections).to.equal(0);
      expect(h.clock.pendingTimers).to.equal(0);
    });
  });
});
