import { expect } from "chai";
import { ErrorCodes } from "../../core/errors/error-codes.js";
import { GameSessionHandler } from "../../core/game/game-session-handler.js";
import type { GameSession } from "../../core/game/game-session.js";
import type { GameTransport, GameTransportEvents } from "../../core/game/game-transport.js";
import { LINK_VERSION, type GameToPortal, type PortalToGame, type SyncEntry } from "../../core/link/link-messages.js";
import type { SyncData } from "../../core/sessions/session-data.js";
import { FakeClock, MemoryLogger } from "../../core/testing/index.js";

/** A GameTransport of several portals keyed by portal id (as over NATS), driven by the test. */
class FakeTransport implements GameTransport {
  readonly dropsSessionsOnDown = true;
  readonly keysArePortalIds = true;
  events!: GameTransportEvents;
  readonly up = new Set<string>();
  readonly sent: { portal: string; msg: GameToPortal }[] = [];
  readonly flushed: string[] = [];

  start(events: GameTransportEvents): void {
    this.events = events;
  }

  async stop(): Promise<void> {}

  send(portal: string, msg: GameToPortal): boolean {
    if (!this.up.has(portal)) return false;
    this.sent.push({ portal, msg });
    return true;
  }

  flush(portal: string): void {
    this.flushed.push(portal);
  }

  linked(portal: string): boolean {
    return this.up.has(portal);
  }

  to(portal: string, op?: GameToPortal["op"]): GameToPortal[] {
    return this.sent.filter((s) => s.portal === portal && (op === undefined || s.msg.op === op)).map((s) => s.msg);
  }

  ops(): [string, string][] {
    return this.sent.map((s) => [s.portal, s.msg.op]);
  }

  clear(): void {
    this.sent.length = 0;
    this.flushed.length = 0;
  }
}

const LIMITS = { max_frame_bytes: 1024 * 1024, max_server_data_bytes: 64 * 1024 };

function data(sessid: string, extra: Partial<SyncData> = {}): SyncData {
  return {
    sessid, csessid: null, protocol_key: "telnet", address: "127.0.0.1", uid: null, uname: null, logged_in: false, puid: null,
    conn_time: 0, cmd_last: 0, cmd_last_visible: 0, cmd_total: 0, protocol_flags: {}, server_data: {}, ...extra,
  };
}

const entry = (sessid: string, extra: Partial<SyncData> = {}, inputSeq = 1): SyncEntry => ({ ...data(sessid, extra), input_seq: inputSeq });

function portalSync(portalId: string, entries: SyncEntry[], opts: { run?: number; gen?: number; fresh?: string[] } = {}): PortalToGame[] {
  const gen = opts.gen ?? 1;
  return [
    { op: "portal-sync", version: LINK_VERSION, mode: "cold", portal_id: portalId, portal_run: opts.run ?? 1, portal_start_time: 0, gen, total: entries.length, limits: LIMITS },
    { op: "portal-sync-sessions", sessions: entries, fresh: opts.fresh ?? [] },
    { op: "portal-sync-end", gen },
  ];
}

const connect = (sessid: string, gen = 2): PortalToGame => ({ op: "session-connect", session: data(sessid), gen });
const dataIn = (sessid: string, seq: number, text: string): PortalToGame => ({ op: "data-in", sessid, seq, cmds: [["text", [text], {}]] });

class Fixture {
  readonly transport = new FakeTransport();
  readonly logger = new MemoryLogger();
  readonly clock = new FakeClock();
  readonly connects: string[] = [];
  readonly disconnects: string[] = [];
  readonly inputs: [string, unknown][] = [];
  readonly linkDowns: (string | undefined)[] = [];
  readonly handler: GameSessionHandler;

  constructor() {
    this.handler = new GameSessionHandler({
      transport: this.transport,
      logger: this.logger,
      clock: this.clock,
      callbacks: {
        onConnect: (s) => this.connects.push(s.sessid),
        onDisconnect: (s) => this.disconnects.push(s.sessid),
        onInput: (s, _name, args) => this.inputs.push([s.sessid, args[0]]),
        onLinkDown: ({ portalId }) => this.linkDowns.push(portalId),
      },
    });
    this.handler.start();
  }

  frame(portal: string, msgs: PortalToGame[]): void {
    this.transport.events.frame(portal, msgs);
  }

  /** Portals "a" (a:1:1, a:1:2) and "b" (b:1:1) linked and synced. */
  static linked(): Fixture {
    const f = new Fixture();
    f.transport.up.add("a");
    f.transport.up.add("b");
    f.frame("a", portalSync("a", [entry("a:1:1"), entry("a:1:2", { logged_in: true, uid: 7, uname: "ann" })]));
    f.frame("b", portalSync("b", [entry("b:1:1")]));
    f.transport.clear();
    return f;
  }

  session(id: string): GameSession {
    const s = this.handler.get(id);
    expect(s, `session ${id}`).to.not.equal(undefined);
    return s!;
  }

  /** handBack(), expected to reject: resolves to the error. */
  handBackExpectingError(): Promise<unknown> {
    return this.handler.handBack().then(() => expect.fail("handBack resolved"), (e: unknown) => e);
  }

  foreignLogs(): number {
    return this.logger.codes().filter((c) => c === ErrorCodes.LINK_FOREIGN_SESSION).length;
  }
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe("GameSessionHandler with several portals (NATS transport)", () => {
  let f: Fixture;
  afterEach(async () => {
    await f?.handler.stop();
  });

  it("tracks each portal's sessions (portalViews, portalOf)", () => {
    f = Fixture.linked();
    expect(f.handler.portalViews()).to.deep.equal([
      { portal_id: "a", run: 1, linked: true, sessions: 2, logged_in: 1 },
      { portal_id: "b", run: 1, linked: true, sessions: 1, logged_in: 0 },
    ]);
    expect(f.handler.portalOf("a:1:1")).to.equal("a");
    expect(f.handler.portalOf(f.session("a:1:2"))).to.equal("a");
    expect(f.handler.portalOf("b:1:1")).to.equal("b");
    expect(f.handler.portalOf("c:1:1")).to.equal(undefined);
    expect([...f.handler.sessions.keys()].sort()).to.deep.equal(["a:1:1", "a:1:2", "b:1:1"]);
    expect(f.handler.ready).to.equal(true);
    // A session announced later joins its portal.
    f.frame("b", [connect("b:1:2")]);
    expect(f.handler.portalOf("b:1:2")).to.equal("b");
    expect(f.handler.portalViews().map((v) => v.sessions)).to.deep.equal([2, 2]);
    expect(f.connects).to.deep.equal(["b:1:2"]);
    expect(f.foreignLogs()).to.equal(0);
  });

  it("msg(), login() and disconnect() go to the portal holding the session only", () => {
    f = Fixture.linked();
    expect(f.handler.msg("b:1:1", "hello b")).to.equal(true);
    expect(f.handler.msg(f.session("a:1:1"), "hello a")).to.equal(true);
    f.handler.login(f.session("b:1:1"), 42, "bob");
    f.handler.disconnect(f.session("a:1:2"), "bye");
    expect(f.transport.ops()).to.deep.equal([
      ["b", "data-out"],
      ["a", "data-out"],
      ["b", "login"],
      ["a", "disconnect"],
    ]);
    expect(f.transport.to("b", "data-out")[0]).to.deep.include({ sessid: "b:1:1" });
    expect(f.transport.to("a", "data-out")[0]).to.deep.include({ sessid: "a:1:1" });
    expect(f.transport.to("b", "login")[0]).to.deep.equal({ op: "login", sessid: "b:1:1", uid: 42, uname: "bob" });
    expect(f.transport.to("a", "disconnect")[0]).to.deep.equal({ op: "disconnect", sessid: "a:1:2", reason: "bye" });
    expect(f.disconnects).to.deep.equal(["a:1:2"]);
    expect(f.handler.portalViews().map((v) => [v.portal_id, v.sessions, v.logged_in])).to.deep.equal([["a", 1, 0], ["b", 1, 1]]);
  });

  it("msg() to a session whose portal's link is not up returns false and sends nothing", () => {
    f = Fixture.linked();
    f.transport.up.delete("a");
    expect(f.handler.msg("a:1:1", "lost")).to.equal(false);
    expect(f.handler.msg("b:1:1", "fine")).to.equal(true);
    expect(f.transport.ops()).to.deep.equal([["b", "data-out"]]);
  });

  it("msgMany sends one data-out-many per portal naming only that portal's sessions", () => {
    f = Fixture.linked();
    expect(f.handler.msgMany(["a:1:1", f.session("b:1:1"), "a:1:2"], "channel line")).to.equal(true);
    expect(f.transport.ops()).to.deep.equal([["a", "data-out-many"], ["b", "data-out-many"]]);
    const toA = f.transport.to("a")[0] as Extract<GameToPortal, { op: "data-out-many" }>;
    const toB = f.transport.to("b")[0] as Extract<GameToPortal, { op: "data-out-many" }>;
    expect(toA.sessids).to.deep.equal(["a:1:1", "a:1:2"]);
    expect(toB.sessids).to.deep.equal(["b:1:1"]);
    expect(toA.cmds).to.deep.equal(toB.cmds);
    expect(toA.cmds[0]![0]).to.equal("text");
    f.transport.clear();
    f.handler.announce("everyone");
    expect(f.transport.ops().sort()).to.deep.equal([["a", "data-out-many"], ["b", "data-out-many"]]);
    f.transport.clear();
    f.handler.announce("logged in only", true);
    expect(f.transport.ops()).to.deep.equal([["a", "data-out-many"]]);
    expect((f.transport.to("a")[0] as { sessids: string[] }).sessids).to.deep.equal(["a:1:2"]);
  });

  it("acknowledges a frame's data-in to the portal that sent it (written at once)", () => {
    f = Fixture.linked();
    f.frame("b", [dataIn("b:1:1", 1, "look")]);
    expect(f.transport.ops()).to.deep.equal([["b", "ack"]]);
    expect(f.transport.to("b", "ack")[0]).to.deep.equal({ op: "ack", seqs: { "b:1:1": 1 } });
    expect(f.transport.flushed).to.deep.equal(["b"]);
    expect(f.inputs).to.deep.equal([["b:1:1", "look"]]);
    f.transport.clear();
    f.frame("a", [dataIn("a:1:1", 1, "n"), dataIn("a:1:2", 1, "s"), dataIn("a:1:1", 2, "e")]);
    expect(f.transport.ops()).to.deep.equal([["a", "ack"]]);
    expect(f.transport.to("a", "ack")[0]).to.deep.equal({ op: "ack", seqs: { "a:1:1": 2, "a:1:2": 1 } });
    expect(f.transport.flushed).to.deep.equal(["a"]);
    expect(f.inputs.slice(1)).to.deep.equal([["a:1:1", "n"], ["a:1:2", "s"], ["a:1:1", "e"]]);
  });

  describe("a portal naming another portal's sessions", () => {
    it("data-in for another portal's session is dropped and logged; the rest of the frame is applied", () => {
      f = Fixture.linked();
      f.frame("b", [dataIn("a:1:1", 1, "sneaky"), dataIn("b:1:1", 1, "honest")]);
      expect(f.inputs).to.deep.equal([["b:1:1", "honest"]]);
      expect(f.transport.ops()).to.deep.equal([["b", "ack"]]);
      expect(f.transport.to("b", "ack")[0]).to.deep.equal({ op: "ack", seqs: { "b:1:1": 1 } });
      expect(f.foreignLogs()).to.equal(1);
      const log = f.logger.entries.find((e) => e.fields.code === ErrorCodes.LINK_FOREIGN_SESSION)!;
      expect(log.fields.portal).to.equal("b");
      expect(log.msg).to.contain("a:1:1");
      // a's own input for that session still counts from 1.
      f.frame("a", [dataIn("a:1:1", 1, "mine")]);
      expect(f.inputs.at(-1)).to.deep.equal(["a:1:1", "mine"]);
    });

    it("session-connect for an id with another portal's prefix is dropped; its own is taken", () => {
      f = Fixture.linked();
      f.frame("b", [connect("a:1:9"), connect("b:1:9")]);
      expect(f.handler.get("a:1:9")).to.equal(undefined);
      expect(f.handler.portalOf("b:1:9")).to.equal("b");
      expect(f.connects).to.deep.equal(["b:1:9"]);
      expect(f.foreignLogs()).to.equal(1);
      expect(f.handler.portalViews().map((v) => v.sessions)).to.deep.equal([2, 2]);
    });

    it("session-connect re-announcing another portal's existing session is dropped (the session stays with its portal)", () => {
      f = Fixture.linked();
      f.frame("b", [connect("a:1:1")]);
      expect(f.handler.portalOf("a:1:1")).to.equal("a");
      expect(f.connects).to.deep.equal([]);
      expect(f.foreignLogs()).to.equal(1);
    });

    it("session-disconnect for another portal's session is dropped", () => {
      f = Fixture.linked();
      f.frame("b", [{ op: "session-disconnect", sessid: "a:1:1" }, { op: "session-disconnect", sessid: "b:1:1" }]);
      expect(f.handler.get("a:1:1")).to.not.equal(undefined);
      expect(f.handler.get("b:1:1")).to.equal(undefined);
      expect(f.disconnects).to.deep.equal(["b:1:1"]);
      expect(f.foreignLogs()).to.equal(1);
    });

    it("portal-sync-sessions entries of another portal are filtered out; the portal's own are taken", () => {
      f = Fixture.linked();
      f.frame("b", portalSync("b", [entry("a:1:1", { uid: 666 }), entry("b:1:1"), entry("a:1:5"), entry("b:1:2")], { run: 2, gen: 3, fresh: ["b:1:2", "a:1:5"] }));
      expect([...f.handler.sessions.keys()].sort()).to.deep.equal(["a:1:1", "a:1:2", "b:1:1", "b:1:2"]);
      expect(f.handler.portalOf("a:1:1")).to.equal("a");
      expect(f.session("a:1:1").uid).to.equal(null);
      expect(f.handler.get("a:1:5")).to.equal(undefined);
      expect(f.connects).to.deep.equal(["b:1:2"]);
      expect(f.handler.portalViews()).to.deep.equal([
        { portal_id: "a", run: 1, linked: true, sessions: 2, logged_in: 1 },
        { portal_id: "b", run: 2, linked: true, sessions: 2, logged_in: 0 },
      ]);
      expect(f.foreignLogs()).to.equal(1);
    });

    it("a portal-sync whose portal_id is not the portal's key is refused; the rest of the frame is applied", () => {
      f = Fixture.linked();
      f.frame("b", [...portalSync("a", [entry("a:1:1", { uid: 666 }), entry("a:7:7")], { run: 9 }), dataIn("b:1:1", 1, "still here")]);
      expect(f.foreignLogs()).to.be.at.least(1);
      expect(f.handler.portalOf("a:1:1")).to.equal("a");
      expect(f.session("a:1:1").uid).to.equal(null);
      expect(f.handler.get("a:7:7")).to.equal(undefined);
      expect(f.handler.portalViews()).to.deep.equal([
        { portal_id: "a", run: 1, linked: true, sessions: 2, logged_in: 1 },
        { portal_id: "b", run: 1, linked: true, sessions: 1, logged_in: 0 },
      ]);
      expect(f.inputs).to.deep.equal([["b:1:1", "still here"]]);
    });

    it("a first portal-sync naming another id does not make the portal's sessions claimable under that id", () => {
      f = new Fixture();
      f.transport.up.add("c");
      f.frame("c", [...portalSync("a", [entry("a:1:1")]), connect("a:1:2")]);
      expect(f.handler.sessions.size).to.equal(0);
      expect(f.connects).to.deep.equal([]);
      expect(f.foreignLogs()).to.be.at.least(1);
      expect(f.handler.ready).to.equal(false);
    });
    it("before its portal-sync, a portal may announce only sessions carrying its own id (its key)", () => {
      f = Fixture.linked();
      f.transport.up.add("c");
      f.frame("c", [connect("a:1:7"), connect("c:1:1")]);
      expect(f.handler.get("a:1:7")).to.equal(undefined);
      expect(f.handler.get("c:1:1")).to.not.equal(undefined);
      expect(f.foreignLogs()).to.equal(1);
      // The real owner can still announce it.
      f.frame("a", [connect("a:1:7")]);
      expect(f.handler.portalOf("a:1:7")).to.equal("a");
    });
  });

  it("down(portal) drops that portal's sessions only (onDisconnect each) and keeps the other's", () => {
    f = Fixture.linked();
    f.transport.up.delete("a");
    f.transport.events.down("a");
    expect(f.disconnects.sort()).to.deep.equal(["a:1:1", "a:1:2"]);
    expect(f.linkDowns).to.deep.equal(["a"]);
    expect([...f.handler.sessions.keys()]).to.deep.equal(["b:1:1"]);
    expect(f.handler.portalOf("a:1:1")).to.equal(undefined);
    expect(f.handler.portalOf("b:1:1")).to.equal("b");
    expect(f.handler.portalViews()).to.deep.equal([{ portal_id: "b", run: 1, linked: true, sessions: 1, logged_in: 0 }]);
    expect(f.handler.ready).to.equal(true);
    // The portal comes back with its own sessions; b's are untouched.
    f.transport.up.add("a");
    f.frame("a", portalSync("a", [entry("a:2:1")], { run: 2, fresh: ["a:2:1"] }));
    expect([...f.handler.sessions.keys()].sort()).to.deep.equal(["a:2:1", "b:1:1"]);
    expect(f.handler.portalOf("a:2:1")).to.equal("a");
  });

  it("down(portal) fails that portal's pending requests only", async () => {
    f = Fixture.linked();
    const toA = f.handler.status("a");
    const toB = f.handler.status("b");
    let bSettled = false;
    toB.then(() => (bSettled = true), () => (bSettled = true));
    f.transport.events.down("a");
    const err = await toA.then(() => undefined, (e: unknown) => e);
    expect((err as { code?: string }).code).to.equal(ErrorCodes.LINK_DOWN);
    await tick();
    expect(bSettled).to.equal(false);
    const id = (f.transport.to("b", "status")[0] as { id: number }).id;
    f.frame("b", [{ op: "reply", id, ok: true, result: { up: true } }]);
    expect(await toB).to.deep.equal({ up: true });
  });

  it("a new portal-sync from one portal replaces only that portal's sessions", () => {
    f = Fixture.linked();
    f.frame("a", portalSync("a", [entry("a:1:2", { logged_in: true, uid: 7 }), entry("a:2:1")], { run: 2, gen: 2, fresh: ["a:2:1"] }));
    expect([...f.handler.sessions.keys()].sort()).to.deep.equal(["a:1:2", "a:2:1", "b:1:1"]);
    expect(f.disconnects).to.deep.equal(["a:1:1"]);
    expect(f.connects).to.deep.equal(["a:2:1"]);
    expect(f.handler.portalOf("b:1:1")).to.equal("b");
    expect(f.handler.portalViews()).to.deep.equal([
      { portal_id: "a", run: 2, linked: true, sessions: 2, logged_in: 1 },
      { portal_id: "b", run: 1, linked: true, sessions: 1, logged_in: 0 },
    ]);
  });

  it("handBack() sends each linked portal a clean session-sync of its sessions only and resolves when both reply", async () => {
    f = Fixture.linked();
    f.frame("a", [connect("a:1:3", 5)]);
    f.session("b:1:1").server_data = { hp: 3 };
    f.transport.clear();
    let done = false;
    let failed: unknown;
    const p = f.handler.handBack().then(() => (done = true), (e: unknown) => (failed = e));
    const syncA = f.transport.to("a", "session-sync") as Extract<GameToPortal, { op: "session-sync" }>[];
    const syncB = f.transport.to("b", "session-sync") as Extract<GameToPortal, { op: "session-sync" }>[];
    expect(syncA).to.have.length(1);
    expect(syncB).to.have.length(1);
    expect(f.transport.sent).to.have.length(2);
    expect(syncA[0]!.clean).to.equal(true);
    expect(syncB[0]!.clean).to.equal(true);
    expect(syncA[0]!.sessions.map((s) => s.sessid).sort()).to.deep.equal(["a:1:1", "a:1:2", "a:1:3"]);
    expect(syncB[0]!.sessions.map((s) => s.sessid)).to.deep.equal(["b:1:1"]);
    expect(syncB[0]!.sessions[0]!.server_data).to.deep.equal({ hp: 3 });
    expect(syncA[0]!.gen).to.equal(5);
    expect(syncB[0]!.gen).to.equal(1);
    expect(syncA[0]!.more).to.equal(undefined);
    const idA = syncA[0]!.id!;
    const idB = syncB[0]!.id!;
    expect(idA).to.not.equal(idB);
    // A reply from the wrong portal does not count.
    f.frame("b", [{ op: "reply", id: idA, ok: true }]);
    await tick();
    expect(done).to.equal(false);
    f.frame("b", [{ op: "reply", id: idB, ok: true }]);
    await tick();
    expect(done).to.equal(false);
    f.frame("a", [{ op: "reply", id: idA, ok: true }]);
    await p;
    expect(failed).to.equal(undefined);
    expect(done).to.equal(true);
  });

  it("handBack() skips a portal whose link is not up", async () => {
    f = Fixture.linked();
    f.transport.up.delete("b");
    const p = f.handler.handBack();
    const syncA = f.transport.to("a", "session-sync") as Extract<GameToPortal, { op: "session-sync" }>[];
    expect(f.transport.sent.map((s) => s.portal)).to.deep.equal(["a"]);
    f.frame("a", [{ op: "reply", id: syncA[0]!.id!, ok: true }]);
    await p;
  });

  it("handBack() rejects when one portal refuses its part", async () => {
    f = Fixture.linked();
    const p = f.handBackExpectingError();
    const syncA = f.transport.to("a", "session-sync") as Extract<GameToPortal, { op: "session-sync" }>[];
    const syncB = f.transport.to("b", "session-sync") as Extract<GameToPortal, { op: "session-sync" }>[];
    f.frame("b", [{ op: "reply", id: syncB[0]!.id!, ok: true }]);
    f.frame("a", [{ op: "reply", id: syncA[0]!.id!, ok: false, error: { code: ErrorCodes.LINK_SYNC, message: "refused" } }]);
    const err = await p;
    expect((err as { code?: string }).code).to.equal(ErrorCodes.LINK_SYNC);
  });

  it("answers the cluster op with a cluster-reply listing both portals, to the asking portal", () => {
    f = Fixture.linked();
    f.frame("b", [{ op: "cluster", id: 77 }]);
    expect(f.transport.ops()).to.deep.equal([["b", "cluster-reply"]]);
    expect(f.transport.to("b")[0]).to.deep.equal({
      op: "cluster-reply",
      id: 77,
      portals: [
        { portal_id: "a", run: 1, linked: true, sessions: 2, logged_in: 1 },
        { portal_id: "b", run: 1, linked: true, sessions: 1, logged_in: 0 },
      ],
    });
  });
});
