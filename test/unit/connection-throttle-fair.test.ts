import { expect } from "chai";
import { addressGroup } from "../../core/sessions/address-group.js";
import { ConnectionThrottle, type ThrottleLimits } from "../../core/sessions/connection-throttle.js";
import { FakeClock } from "../../core/testing/index.js";
import { makeHarness } from "./session-handler-fixture.js";

// Issue 12, item 2: admission is fair across addresses. One first-come line per address group,
// served round-robin, so a newcomer waits for (addresses waiting) turns, not (connections waiting).

interface Conn {
  readonly address: string | null;
  readonly name: string;
}

/** The throttle on its own, every event recorded at fake-clock time. */
function bare(limits: Partial<ThrottleLimits> = {}) {
  const clock = new FakeClock();
  const t0 = clock.now();
  const released: { at: number; c: Conn }[] = [];
  const queued = new Map<Conn, { at: number; seconds: number }>();
  const refused: { c: Conn; why: string; at: number }[] = [];
  const throttle = new ConnectionThrottle<Conn>(
    { maxConnectionRate: 2, connectionQueueMax: 500, connectionQueuePerIp: 10, ...limits },
    clock,
    {
      release: (c) => released.push({ at: clock.now(), c }),
      queued: (c, seconds) => queued.set(c, { at: clock.now(), seconds }),
      refused: (c, why) => refused.push({ c, why, at: clock.now() }),
    },
  );
  const add = (address: string | null, name = `${address}#${Math.random().toString(36).slice(2, 8)}`): Conn => {
    const c = { address, name };
    throttle.enqueue(c);
    return c;
  };
  const releasedAt = (c: Conn) => released.find((r) => r.c === c)?.at;
  return { clock, t0, throttle, released, queued, refused, add, releasedAt, names: () => released.map((r) => r.c.name) };
}

describe("connection throttle: fair admission across addresses (issue 12)", () => {
  describe("a flood from many addresses", () => {
    it("55 addresses × 10 queued: a new address is admitted within (55 + 1) / rate s, and its notice says when", () => {
      const t = bare({ maxConnectionRate: 2, connectionQueueMax: 1000, connectionQueuePerIp: 10 });
      t.add("192.0.2.250", "opener"); // released at once; everyone after it waits
      for (let a = 1; a <= 55; a += 1) for (let i = 0; i < 10; i += 1) t.add(`10.0.0.${a}`, `a${a}.${i}`);
      expect(t.throttle.length).to.equal(550);
      expect(t.throttle.addresses).to.equal(55);
      const player = t.add("203.0.113.9", "player");
      const { seconds } = t.queued.get(player)!;
      t.clock.advance(400_000);
      const waitMs = t.releasedAt(player)! - t.t0;
      // a FIFO would have put the player 551 × 0.5 s = 275.5 s back
      expect(waitMs).to.be.at.most((56 / 2) * 1000);
      expect(waitMs).to.equal(28_000);
      expect(seconds).to.equal(28);
      expect(t.refused).to.deep.equal([]);
      expect(t.released).to.have.length(552);
    });

    it("with the default queue bounds (500, 10 per address) the flood fills the queue, yet a new address still gets in within 56 / rate s", () => {
      const t = bare({ maxConnectionRate: 2 });
      for (let a = 1; a <= 55; a += 1) for (let i = 0; i < 10; i += 1) t.add(`10.0.0.${a}`, `a${a}.${i}`);
      const refusedNow = t.refused.length;
      expect(t.throttle.length).to.equal(500);
      const player = t.add("203.0.113.9", "player");
      const { seconds } = t.queued.get(player)!;
      expect(t.throttle.length).to.equal(500);
      // the player took the slot of the newest connection of an address with the most waiting
      expect(t.refused.slice(refusedNow).map((r) => r.why)).to.deep.equal(["queue-full"]);
      expect(t.refused.slice(refusedNow)[0]!.c.address).to.not.equal("203.0.113.9");
      t.clock.advance(400_000);
      const waitMs = t.releasedAt(player)! - t.t0;
      expect(waitMs).to.be.at.most(28_000);
      expect(Math.abs(waitMs - seconds * 1000)).to.be.at.most(1);
      // every flood connection was released, or refused (queue-full), none lost
      const flood = 550;
      expect(t.released.length - 1 + t.refused.length).to.equal(flood);
      expect(t.refused.every((r) => r.why === "queue-full")).to.equal(true);
    });

    it("a full queue displaces connections of the longest lines first, so the addresses end with equal shares", () => {
      const t = bare({ maxConnectionRate: 2, connectionQueueMax: 12, connectionQueuePerIp: 12 });
      t.add("z", "opener");
      for (let i = 0; i < 12; i += 1) t.add("big", `big${i}`);
      for (let a = 0; a < 3; a += 1) for (let i = 0; i < 3; i += 1) t.add(`s${a}`, `s${a}.${i}`);
      expect(t.throttle.length).to.equal(12);
      // the displaced ones are big's newest, in reverse order of arrival
      expect(t.refused.map((r) => [r.c.name, r.why])).to.deep.equal(
        [11, 10, 9, 8, 7, 6, 5, 4, 3].map((i) => [`big${i}`, "queue-full"]),
      );
      // all lines at 3: a 4th from one of them, or anyone when all are equal, is refused (not displacing)
      const fourth = t.add("s0", "s0.3");
      expect(t.refused.at(-1)).to.deep.include({ c: fourth, why: "queue-full" });
      expect(t.queued.has(fourth)).to.equal(false);
      // a new address displaces one (lines of 3 > 0 + 1)
      const fresh = t.add("new", "fresh");
      expect(t.queued.has(fresh)).to.equal(true);
      expect(t.refused.at(-1)!.why).to.equal("queue-full");
      expect(t.refused.at(-1)!.c.name).to.equal("s0.2"); // the first address whose line reached 3
      expect(t.throttle.length).to.equal(12);
    });

    it("when every waiting address has a single connection, a full queue refuses the newcomer (nobody to displace)", () => {
      const t = bare({ maxConnectionRate: 2, connectionQueueMax: 3 });
      t.add("z", "opener");
      for (const a of ["a", "b", "c"]) t.add(a, a);
      const late = t.add("d", "late");
      expect(t.refused.map((r) => [r.c, r.why])).to.deep.equal([[late, "queue-full"]]);
      t.clock.advance(10_000);
      expect(t.names()).to.deep.equal(["opener", "a", "b", "c"]);
    });
  });

  describe("turn order", () => {
    it("serves addresses in turn: each release goes to the next waiting address", () => {
      const t = bare();
      t.add("z", "opener");
      t.add("A", "A1");
      t.add("A", "A2");
      t.add("A", "A3");
      t.add("B", "B1");
      t.add("C", "C1");
      t.add("B", "B2");
      t.clock.advance(10_000);
      expect(t.names()).to.deep.equal(["opener", "A1", "B1", "C1", "A2", "B2", "A3"]);
      expect(t.released.map((r) => r.at - t.t0)).to.deep.equal([0, 500, 1000, 1500, 2000, 2500, 3000]);
    });

    it("keeps first-come order within one address, however the addresses interleave", () => {
      const t = bare({ connectionQueuePerIp: 20 });
      t.add("z", "opener");
      const order: Record<string, string[]> = { A: [], B: [], C: [] };
      const seq = "AABACCBABBCAACBA";
      seq.split("").forEach((a, i) => {
        const name = `${a}${i}`;
        order[a]!.push(name);
        t.add(a, name);
      });
      t.clock.advance(60_000);
      for (const a of ["A", "B", "C"]) {
        expect(t.names().filter((n) => n.startsWith(a)), `order of ${a}`).to.deep.equal(order[a]);
      }
      expect(t.released).to.have.length(seq.length + 1);
    });

    it("the queued notice is the real wait for an address's first waiting connection, and for any connection nobody queues after", () => {
      const t = bare({ maxConnectionRate: 4, connectionQueuePerIp: 50 });
      let x = 12345;
      const rand = (n: number) => {
        x = (x * 48271) % 2147483647;
        return x % n;
      };
      t.add("z", "opener");
      t.clock.advance(100); // part of the spacing already gone
      const conns: Conn[] = [];
      for (let a = 0; a < 7; a += 1) conns.push(t.add(`10.1.0.${a}`, `first${a}`));
      for (let i = 0; i < 113; i += 1) conns.push(t.add(`10.1.0.${rand(7)}`, `c${i}`));
      t.clock.advance(120_000);
      expect(t.released).to.have.length(121);
      const waited = (c: Conn) => t.releasedAt(c)! - t.queued.get(c)!.at;
      const told = (c: Conn) => t.queued.get(c)!.seconds * 1000;
      for (const c of conns.slice(0, 7)) expect(waited(c), c.name).to.be.closeTo(told(c), 1e-6);
      expect(waited(conns.at(-1)!)).to.be.closeTo(told(conns.at(-1)!), 1e-6);
      // a further connection of an address can be overtaken by ones queued after it from other
      // addresses (they take their turns first): its notice is the least it will wait
      for (const c of conns) expect(waited(c), c.name).to.be.at.least(told(c) - 1e-6);
    });

    it("under arrivals from ever new addresses, an address's first waiting connection gets exactly the wait it was told; its further ones at least that", () => {
      const t = bare({ maxConnectionRate: 4, connectionQueueMax: 10_000, connectionQueuePerIp: 50 });
      t.add("z", "opener");
      const firsts: Conn[] = [];
      const further: Conn[] = [];
      // every 100 ms: one connection from a new address, and one more from one of 5 flooders
      for (let i = 0; i < 200; i += 1) {
        firsts.push(t.add(`10.2.${i >> 8}.${i & 255}`, `new${i}`));
        const flooder = `10.3.0.${i % 5}`;
        const c = t.add(flooder, `f${i}`);
        if (i >= 5) further.push(c);
        else firsts.push(c);
        t.clock.advance(100);
      }
      t.clock.advance(1_000_000);
      for (const c of firsts) {
        const q = t.queued.get(c)!;
        expect(t.releasedAt(c)! - q.at, c.name).to.be.closeTo(q.seconds * 1000, 1e-6);
      }
      for (const c of further) {
        const q = t.queued.get(c)!;
        expect(t.releasedAt(c)! - q.at, c.name).to.be.at.least(q.seconds * 1000 - 1e-6);
      }
      // and a new address never waited longer than (addresses waiting + 1) turns
      expect(Math.max(...firsts.map((c) => t.releasedAt(c)! - t.queued.get(c)!.at))).to.be.at.most((5 + 200 + 1) * 250);
    });

    it("an address that starts waiting joins the back of the current turn", () => {
      const t = bare();
      t.add("z", "opener");
      for (let i = 0; i < 3; i += 1) t.add("A", `A${i}`);
      t.add("B", "B0");
      t.clock.advance(500); // A0 released; turn is now B, A
      const c = t.add("C", "C0");
      expect(t.queued.get(c)!.seconds).to.equal(1.5); // behind B0 and A1
      t.clock.advance(10_000);
      expect(t.names()).to.deep.equal(["opener", "A0", "B0", "A1", "C0", "A2"]);
    });
  });

  describe("removal, drain and stop", () => {
    it("a closed queued connection leaves its line; an address whose line empties leaves the turn", () => {
      const t = bare();
      t.add("z", "opener");
      const a1 = t.add("A", "A1");
      const a2 = t.add("A", "A2");
      const b1 = t.add("B", "B1");
      t.add("C", "C1");
      expect(t.throttle.remove(a2)).to.equal(true);
      expect(t.throttle.remove(a2)).to.equal(false);
      expect(t.throttle.remove(b1)).to.equal(true);
      expect(t.throttle.length).to.equal(2);
      expect(t.throttle.addresses).to.equal(2);
      expect(t.throttle.remove(a1)).to.equal(true);
      expect(t.throttle.addresses).to.equal(1);
      t.clock.advance(10_000);
      expect(t.names()).to.deep.equal(["opener", "C1"]);
      expect(t.released.map((r) => r.at - t.t0)).to.deep.equal([0, 500]);
    });

    it("a removal frees the address's share: it may queue again (per-address cap) and its removed slot is not displaced twice", () => {
      const t = bare({ connectionQueueMax: 3, connectionQueuePerIp: 3 });
      t.add("z", "opener");
      const a = [t.add("A", "A0"), t.add("A", "A1"), t.add("A", "A2")];
      expect(t.add("A", "A3")).to.satisfy((c: Conn) => t.refused.some((r) => r.c === c && r.why === "per-ip"));
      t.throttle.remove(a[2]!);
      const again = t.add("A", "A4");
      expect(t.queued.has(again)).to.equal(true);
      // queue full (3): B displaces A's newest (A4), not the removed A2
      const b = t.add("B", "B0");
      expect(t.queued.has(b)).to.equal(true);
      expect(t.refused.at(-1)).to.deep.include({ c: again, why: "queue-full" });
      t.clock.advance(10_000);
      expect(t.names()).to.deep.equal(["opener", "A0", "B0", "A1"]);
    });

    it("through the handler: a queued player who hangs up is never announced, and the next address moves up", () => {
      const h = makeHarness();
      const t0 = h.clock.now();
      h.connect("10.0.0.1");
      const flood = Array.from({ length: 5 }, () => h.connect("10.0.0.2"));
      const player = h.connect("10.0.0.3");
      const other = h.connect("10.0.0.4");
      expect(player.texts).to.deep.equal(["Portico DoS protection is active. You are queued to connect in 1.0 seconds ..."]);
      expect(other.texts).to.deep.equal(["Portico DoS protection is active. You are queued to connect in 1.5 seconds ..."]);
      player.drop();
      h.clock.advance(10_000);
      expect(h.channel.announcedAt(player.sessid)).to.equal(undefined);
      expect(h.channel.announcedAt(other.sessid)! - t0).to.equal(1000);
      expect(h.channel.announcedAt(flood[1]!.sessid)! - t0).to.equal(1500);
      expect(h.channel.ofOp("session-disconnect")).to.deep.equal([]);
    });

    it("drain returns every waiting connection once and nothing is released afterwards", () => {
      const t = bare();
      t.add("z", "opener");
      const waiting = [t.add("A", "A0"), t.add("A", "A1"), t.add("B", "B0"), t.add("2001:db8::1", "v6")];
      const drained = t.throttle.drain();
      expect(new Set(drained)).to.deep.equal(new Set(waiting));
      expect(drained).to.have.length(4);
      expect([t.throttle.length, t.throttle.addresses]).to.deep.equal([0, 0]);
      expect(t.throttle.remove(waiting[0]!)).to.equal(false);
      t.clock.advance(10_000);
      expect(t.names()).to.deep.equal(["opener"]);
    });

    it("stop cancels the timer and forgets the queue; a drained handler closes the waiting players", () => {
      const t = bare();
      t.add("z", "opener");
      t.add("A", "A0");
      t.add("B", "B0");
      t.throttle.stop();
      expect(t.clock.pendingTimers).to.equal(0);
      expect(t.throttle.length).to.equal(0);
      t.clock.advance(10_000);
      expect(t.names()).to.deep.equal(["opener"]);

      const h = makeHarness();
      h.connect("10.0.0.1");
      const q = [h.connect("10.0.0.2"), h.connect("10.0.0.2"), h.connect("10.0.0.3")];
      h.handler.disconnect_all("Shutting down");
      expect(q.map((s) => s.state)).to.deep.equal(["closed", "closed", "closed"]);
      expect(h.handler.queuedConnections).to.equal(0);
      h.clock.advance(10_000);
      expect(h.channel.ofOp("session-connect")).to.have.length(1);
    });

    it("rate 0 still disables the throttle: no queue, no refusals, whatever the addresses", () => {
      const t = bare({ maxConnectionRate: 0, connectionQueueMax: 1, connectionQueuePerIp: 1 });
      for (let i = 0; i < 20; i += 1) t.add("A", `A${i}`);
      expect(t.released).to.have.length(20);
      expect([t.refused.length, t.queued.size, t.clock.pendingTimers]).to.deep.equal([0, 0, 0]);
    });
  });

  describe("address groups (IPv6 by prefix, IPv4-mapped as IPv4)", () => {
    it("groups addresses as documented", () => {
      expect(addressGroup("203.0.113.7", 64)).to.equal("203.0.113.7");
      expect(addressGroup("::ffff:203.0.113.7", 64)).to.equal("203.0.113.7");
      expect(addressGroup("::FFFF:cb00:7107", 64)).to.equal("203.0.113.7");
      expect(addressGroup("2001:db8:1:2:3:4:5:6", 64)).to.equal("2001:db8:1:2:0:0:0:0/64");
      expect(addressGroup("2001:DB8:1:2::ffff", 64)).to.equal("2001:db8:1:2:0:0:0:0/64");
      expect(addressGroup("2001:db8:1:2::1", 48)).to.equal("2001:db8:1:0:0:0:0:0/48");
      expect(addressGroup("2001:db8:1:2::1", 128)).to.equal("2001:db8:1:2:0:0:0:1/128");
      expect(addressGroup("2001:db8:1:abcd::1", 50)).to.equal("2001:db8:1:8000:0:0:0:0/50");
      expect(addressGroup("fe80::1%eth0", 64)).to.equal("fe80:0:0:0:0:0:0:0/64");
      expect(addressGroup("[2001:db8::1]", 64)).to.equal("2001:db8:0:0:0:0:0:0/64");
      expect(addressGroup("::1", 64)).to.equal("0:0:0:0:0:0:0:0/64");
      expect(addressGroup("64:ff9b::192.0.2.1", 96)).to.equal("64:ff9b:0:0:0:0:0:0/96");
      expect(addressGroup(null, 64)).to.equal("");
      expect(addressGroup("/run/portico.sock", 64)).to.equal("/run/portico.sock");
      expect(addressGroup("not an address", 64)).to.equal("not an address");
    });

    it("one /64 is one address for the per-address cap and for turns; another /64 is not", () => {
      const t = bare({ connectionQueuePerIp: 2 });
      t.add("z", "opener");
      t.add("2001:db8:0:1::a", "h1");
      t.add("2001:db8:0:1::b", "h2");
      const third = t.add("2001:db8:0:1:ffff:ffff:ffff:ffff", "h3");
      const neighbour = t.add("2001:db8:0:2::a", "n1");
      expect(t.refused.map((r) => [r.c, r.why])).to.deep.equal([[third, "per-ip"]]);
      expect(t.queued.get(neighbour)!.seconds).to.equal(1.0); // one turn of the /64 ahead, not two
      expect(t.throttle.addresses).to.equal(2);
    });

    it("IPv4-mapped IPv6 and plain IPv4 are one address; ipv6PrefixLength 128 counts each IPv6 address alone", () => {
      const t = bare({ connectionQueuePerIp: 1 });
      t.add("z", "opener");
      t.add("198.51.100.4", "v4");
      const mapped = t.add("::ffff:198.51.100.4", "mapped");
      expect(t.refused.map((r) => [r.c, r.why])).to.deep.equal([[mapped, "per-ip"]]);

      const each = bare({ connectionQueuePerIp: 1, ipv6PrefixLength: 128 });
      each.add("z", "opener");
      each.add("2001:db8::1", "one");
      each.add("2001:db8::2", "two");
      expect(each.refused).to.deep.equal([]);
      expect(each.throttle.addresses).to.equal(2);
    });

    it("the handler uses limits.ipv6PrefixLength from the config", () => {
      const h = makeHarness({ limits: { connectionQueuePerIp: 1, ipv6PrefixLength: 32 } });
      h.connect("2001:db8:1::1");
      h.connect("2001:db8:2::1");
      const sameSlash32 = h.connect("2001:db8:3::1");
      expect(sameSlash32.texts).to.deep.equal(["Portico: too many connections are waiting from your address. Please try again in a minute."]);
      expect(sameSlash32.state).to.equal("closed");
    });
  });
});
