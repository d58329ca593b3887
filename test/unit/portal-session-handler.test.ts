import { expect } from "chai";
import { DEFAULT_CONFIG } from "../../core/config/portal-config.js";
import { ErrorCodes } from "../../core/errors/error-codes.js";
import { PortalError } from "../../core/errors/portal-error.js";
import { CORE } from "../../core/sessions/portal-session.js";
import { CONNECT_SYNC_KEYS } from "../../core/sessions/session-data.js";
import { makeHarness, type HarnessOptions } from "./session-handler-fixture.js";
import { LinkDispatcher } from "../../core/link/link-dispatcher.js";
import { waitFor } from "../../core/testing/wait-for.js";

const START = 1_700_000_000_000;
const RESTARTING = "The game is restarting; what you type will be delivered when it is back.";

/** Most handler tests do not exercise the connection throttle: rate 0 releases every connection at once. */
const noThrottle = (opts: HarnessOptions = {}) => makeHarness({ ...opts, limits: { maxConnectionRate: 0, ...opts.limits } });

describe("PortalSessionHandler", () => {
  describe("connect", () => {
    it("gives a session an id <portalId>:<run>:<n> and announces it to the game with its full sync data", () => {
      const h = noThrottle({ portalId: "north", run: 7 });
      const a = h.connect();
      const b = h.connect("10.0.0.2");
      expect([a.sessid, b.sessid]).to.deep.equal(["north:7:1", "north:7:2"]);
      expect(h.channel.sent).to.deep.equal([
        { op: "session-connect", session: a.getSyncData(), gen: 1 },
        { op: "session-connect", session: b.getSyncData(), gen: 2 },
      ]);
      expect(a.announced).to.equal(true);
      expect(h.handler.get("north:7:1")).to.equal(a);
      expect(h.handler.all()).to.deep.equal([a, b]);
    });

    it("a session handed over twice keeps its first id; the second hand-over is ignored and logged", () => {
      const h = noThrottle();
      const s = h.connect();
      h.handler.connect(s);
      expect(s.sessid).to.equal("portal:1:1");
      expect(h.handler.all()).to.deep.equal([s]);
      expect(h.logger.codes()).to.include("PORTAL_ERR_SESSION_CALLBACK");
      expect(h.connect().sessid).to.equal("portal:1:2");
    });

    it("registers but does not announce a session while no game is connected", () => {
      const h = noThrottle({ gameConnected: false });
      const s = h.connect();
      expect(h.handler.get(s.sessid)).to.equal(s);
      expect(s.announced).to.equal(false);
      expect(h.channel.sent).to.deep.equal([]);
      expect(h.handler.count_loggedin(true)).to.equal(1);
    });

    it("does not register a session that closed before the throttle released it", () => {
      const h = makeHarness();
      h.connect();
      const queued = h.connect("10.0.0.9");
      expect(h.handler.queuedConnections).to.equal(1);
      queued.drop();
      h.clock.advance(5000);
      expect(h.handler.get(queued.sessid)).to.equal(undefined);
      expect(h.channel.ofOp("session-connect")).to.have.length(1);
      expect(h.channel.ofOp("session-disconnect")).to.deep.equal([]);
    });
  });

  describe("sync", () => {
    it("sends exactly the seven portal-owned keys of an announced session", () => {
      const h = noThrottle();
      const s = h.connect();
      s.protocol_flags.SCREENWIDTH = { 0: 120 };
      s.logged_in = true;
      h.channel.clear();
      h.handler.sync(s);
      const [msg] = h.channel.ofOp("session-connect-sync");
      expect(h.channel.sent).to.have.length(1);
      expect(Object.keys(msg!.session).sort()).to.deep.equal([...CONNECT_SYNC_KEYS].sort());
      expect(msg!.session).to.deep.equal({
        protocol_key: "test",
        address: "127.0.0.1",
        sessid: s.sessid,
        csessid: null,
        conn_time: START / 1000,
        protocol_flags: { ENCODING: "utf-8", SCREENREADER: false, INPUTDEBUG: false, RAW: false, NOCOLOR: false, LOCALECHO: false, SCREENWIDTH: { 0: 120 } },
        server_data: {},
      });
    });

    it("sends nothing for a queued session, an unannounced session, or while the game is away", () => {
      const h = makeHarness();
      h.connect();
      const queued = h.connect();
      h.channel.clear();
      h.handler.sync(queued);
      expect(h.channel.sent).to.deep.equal([]);

      const g = noThrottle({ gameConnected: false });
      const unannounced = g.connect();
      g.channel.connected = true;
      g.handler.sync(unannounced);
      expect(g.channel.sent).to.deep.equal([]);

      const k = noThrottle();
      const s = k.connect();
      k.channel.clear();
      k.channel.connected = false;
      k.handler.sync(s);
      k.channel.connected = true;
      expect(k.channel.sent).to.deep.equal([]);
    });
  });

  describe("disconnect (client side, H06)", () => {
    it("tells the game exactly once and removes the session", () => {
      const h = noThrottle();
      const s = h.connect();
      const other = h.connect();
      h.channel.clear();
      s.drop();
      s.drop();
      h.handler.disconnect(s);
      expect(h.channel.sent).to.deep.equal([{ op: "session-disconnect", sessid: s.sessid }]);
      expect(h.handler.get(s.sessid)).to.equal(undefined);
      expect(h.handler.all()).to.deep.equal([other]);
    });

    it("sends nothing for a session the game was never told about", () => {
      const h = noThrottle({ gameConnected: false });
      const s = h.connect();
      h.channel.connected = true;
      s.drop();
      expect(h.channel.sent).to.deep.equal([]);
      expect(h.handler.all()).to.deep.equal([]);
    });

    it("does not touch a different session registered under the same id", () => {
      const h = noThrottle();
      const s = h.connect();
      const stranger = h.session();
      stranger[CORE].sessid = s.sessid;
      h.channel.clear();
      h.handler.disconnect(stranger);
      expect(h.handler.get(s.sessid)).to.equal(s);
      expect(h.channel.sent).to.deep.equal([]);
    });

    it("drops the input held for the session", () => {
      const h = noThrottle();
      const s = h.connect();
      h.channel.connected = false;
      s.input("look");
      expect(h.handler.pendingInputs).to.equal(1);
      s.drop();
      expect(h.handler.pendingInputs).to.equal(0);
    });
  });

  describe("disconnect_all", () => {
    it("tells the game once, closes every session with the reason and sends no per-session disconnects", () => {
      const h = noThrottle();
      const a = h.connect();
      const b = h.connect();
      h.channel.clear();
      h.handler.disconnect_all("Portal shutting down.");
      expect(h.channel.sent).to.deep.equal([{ op: "disconnect-all" }]);
      expect(a.closeReasons).to.deep.equal(["Portal shutting down."]);
      expect(b.closeReasons).to.deep.equal(["Portal shutting down."]);
      expect(a.texts).to.deep.equal(["Portal shutting down."]);
      expect(a.state).to.equal("closed");
      expect(h.handler.all()).to.deep.equal([]);
      expect(h.handler.count_loggedin(true)).to.equal(0);
    });

    it("sends nothing to an absent game but still closes the sessions", () => {
      const h = noThrottle();
      const a = h.connect();
      h.channel.clear();
      h.channel.connected = false;
      h.handler.disconnect_all();
      h.channel.connected = true;
      expect(h.channel.sent).to.deep.equal([]);
      expect(a.closeReasons).to.deep.equal([undefined]);
      expect(h.handler.all()).to.deep.equal([]);
    });

    it("keeps going when one session's close throws, logging PORTAL_ERR_SESSION_CALLBACK", () => {
      const h = noThrottle();
      const a = h.connect();
      const b = h.connect();
      a.close = () => {
        throw new Error("socket gone");
      };
      h.handler.disconnect_all("bye");
      expect(b.closeReasons).to.deep.equal(["bye"]);
      expect(h.handler.all()).to.deep.equal([]);
      const entry = h.logger.entries.find((e) => e.fields.code === ErrorCodes.SESSION_CALLBACK);
      expect(entry?.fields.sessid).to.equal(a.sessid);
      expect(entry?.msg).to.equal("close failed");
    });
  });

  describe("server-connect (through the link dispatcher)", () => {
    it("starts a plugin by dotted path through the launcher and replies with its result", async () => {
      const h = noThrottle();
      const dispatcher = new LinkDispatcher(h.handler, h.launcher, h.channel, { gameStopRequested() {}, portalShutdownRequested() {}, status: () => ({}), clusterReply() {} }, h.logger);
      dispatcher.handle({ op: "server-connect", id: 7, path: "plugins.irc.IrcBotFactory", config: { channel: "#test" } });
      dispatcher.handle({ op: "server-connect", id: 8, path: "plugins.rss.RssBotFactory" });
      await waitFor(() => h.channel.ofOp("reply").length === 2, 2000, "two replies");
      expect(h.channel.ofOp("reply")[0]).to.deep.equal({ op: "reply", id: 7, ok: true, result: { id: "plugins.irc.IrcBotFactory#1", path: "plugins.irc.IrcBotFactory" } });
      expect(h.launcher.calls).to.deep.equal([{ path: "plugins.irc.IrcBotFactory", config: { channel: "#test" } }, { path: "plugins.rss.RssBotFactory", config: {} }]);
    });
  });

  describe("server_disconnect (H07)", () => {
    it("delivers the reason as text, then closes, without echoing a disconnect back to the game", () => {
      const h = noThrottle();
      const s = h.connect();
      const other = h.connect();
      h.channel.clear();
      h.handler.server_disconnect(s.sessid, "bye");
      expect(s.sent).to.deep.equal([{ name: "text", args: ["bye"], kwargs: {} }]);
      expect(s.closeReasons).to.deep.equal(["bye"]);
      expect(s.state).to.equal("closed");
      expect(h.handler.get(s.sessid)).to.equal(undefined);
      expect(h.handler.all()).to.deep.equal([other]);
      expect(h.channel.sent).to.deep.equal([]);
    });

    it("closes without text when no reason is given", () => {
      const h = noThrottle();
      const s = h.connect();
      h.handler.server_disconnect(s.sessid);
      expect(s.closeReasons).to.deep.equal([undefined]);
      expect(s.texts).to.deep.equal([]);
    });

    it("ignores an unknown session id", () => {
      const h = noThrottle();
      const s = h.connect();
      h.handler.server_disconnect("portal:1:999", "bye");
      expect(h.handler.all()).to.deep.equal([s]);
      expect(s.closeReasons).to.deep.equal([]);
    });

    it("drops input held for the session", () => {
      const h = noThrottle();
      const s = h.connect();
      h.channel.connected = false;
      s.input("say hi");
      h.channel.connected = true;
      h.handler.server_disconnect(s.sessid);
      expect(h.handler.pendingInputs).to.equal(0);
    });
  });

  describe("server_disconnect_all (H07)", () => {
    it("closes every session with the reason; the portal ends with zero sessions and echoes nothing", () => {
      const h = noThrottle();
      const sessions = [h.connect(), h.connect(), h.connect()];
      h.channel.clear();
      h.handler.server_disconnect_all("Server shutting down.");
      for (const s of sessions) {
        expect(s.texts).to.deep.equal(["Server shutting down."]);
        expect(s.state).to.equal("closed");
      }
      expect(h.handler.all()).to.deep.equal([]);
      expect(h.handler.count_loggedin(true)).to.equal(0);
      expect(h.channel.sent).to.deep.equal([]);
    });
  });

  describe("server_logged_in (H08)", () => {
    it("marks the session logged in, stores uid/uname and calls at_login", () => {
      const h = noThrottle();
      const s = h.connect();
      h.connect();
      expect(h.handler.count_loggedin()).to.equal(0);
      h.handler.server_logged_in(s.sessid, 42, "Alice");
      expect(s.logged_in).to.equal(true);
      expect(s.uid).to.equal(42);
      expect(s.uname).to.equal("Alice");
      expect(s.logins).to.equal(1);
      expect(h.handler.count_loggedin()).to.equal(1);
      expect(h.handler.count_loggedin(true)).to.equal(2);
    });

    it("leaves uname alone when it is not given", () => {
      const h = noThrottle();
      const s = h.connect();
      s.uname = "kept";
      h.handler.server_logged_in(s.sessid, "u-1");
      expect(s.uid).to.equal("u-1");
      expect(s.uname).to.equal("kept");
    });

    it("throws PORTAL_ERR_UNKNOWN_SESSION for an unknown session", () => {
      const h = noThrottle();
      let caught: unknown;
      try {
        h.handler.server_logged_in("portal:1:404", 1);
      } catch (err) {
        caught = err;
      }
      expect(caught).to.be.instanceOf(PortalError);
      expect((caught as PortalError).code).to.equal("PORTAL_ERR_UNKNOWN_SESSION");
      expect((caught as PortalError).details).to.deep.equal({ sessid: "portal:1:404" });
    });

    it("logs a throwing at_login and still counts the login", () => {
      const h = noThrottle();
      const s = h.connect();
      s.throwOnLogin = true;
      h.handler.server_logged_in(s.sessid, 1);
      expect(s.logged_in).to.equal(true);
      const entry = h.logger.entries.find((e) => e.fields.code === ErrorCodes.SESSION_CALLBACK);
      expect(entry?.msg).to.equal("at_login failed");
    });
  });

  describe("server_session_sync (H09)", () => {
    it("merges protocol_flags without deleting others (partial sync) and keeps unknown sessions when not clean", () => {
      const h = noThrottle();
      const a = h.connect();
      const b = h.connect();
      a.protocol_flags.ANSI = true;
      h.handler.server_session_sync([{ sessid: a.sessid, protocol_flags: { NOCOLOR: true } }], false);
      expect(a.protocol_flags).to.deep.equal({ ENCODING: "utf-8", SCREENREADER: false, INPUTDEBUG: false, RAW: false, NOCOLOR: true, LOCALECHO: false, ANSI: true });
      expect(h.handler.all()).to.deep.equal([a, b]);
      expect(b.closeReasons).to.deep.equal([]);
    });

    it("applies game state (login, puppet, server_data) but never portal-owned keys", () => {
      const h = noThrottle();
      const a = h.connect();
      h.handler.server_session_sync([{
        sessid: a.sessid, logged_in: true, uid: 5, uname: "Bob", puid: 17, cmd_total: 9,
        server_data: { cmdset: "Account" }, protocol_key: "evil", address: "6.6.6.6",
      } as never], false);
      expect(a.logged_in).to.equal(true);
      expect([a.uid, a.uname, a.puid, a.cmd_total]).to.deep.equal([5, "Bob", 17, 9]);
      expect(a.server_data).to.deep.equal({ cmdset: "Account" });
      expect(a.protocol_key).to.equal("test");
      expect(a.address).to.equal("127.0.0.1");
      expect(h.handler.get(a.sessid)).to.equal(a);
    });

    it("with clean, disconnects (with no reason text) every session the game does not know", () => {
      const h = noThrottle();
      const a = h.connect();
      const b = h.connect();
      const c = h.connect();
      h.channel.clear();
      h.handler.server_session_sync([{ sessid: a.sessid }, { sessid: c.sessid }, { sessid: "portal:1:77" }], true);
      expect(h.handler.all()).to.deep.equal([a, c]);
      expect(b.closeReasons).to.deep.equal([undefined]);
      expect(b.texts).to.deep.equal([]);
      expect(b.state).to.equal("closed");
      expect(a.state).to.not.equal("closed");
      expect(h.channel.sent).to.deep.equal([]);
    });

    it("skips an entry with a wrongly typed field, logs PORTAL_ERR_LINK_MESSAGE naming it, and applies the others", () => {
      const h = noThrottle();
      const a = h.connect();
      const b = h.connect();
      h.handler.server_session_sync([
        { sessid: a.sessid, logged_in: "yes", uid: 3 } as never,
        { sessid: b.sessid, uid: 4, logged_in: true },
      ], true);
      expect(a.uid).to.equal(null);
      expect(a.logged_in).to.equal(false);
      expect(b.uid).to.equal(4);
      expect(h.handler.all()).to.deep.equal([a, b]);
      const entry = h.logger.entries.find((e) => e.fields.code === ErrorCodes.LINK_MESSAGE);
      expect(entry?.fields).to.deep.include({ sessid: a.sessid, key: "logged_in" });
    });

    it("does not throw on entries whose keys collide with Object.prototype names", () => {
      const h = noThrottle();
      const a = h.connect();
      const entries = JSON.parse(`[{"sessid":"${a.sessid}","__proto__":1,"hasOwnProperty":2,"constructor":3,"uid":8}]`) as never[];
      h.handler.server_session_sync(entries, false);
      expect(a.uid).to.equal(8);
    });
  });

  describe("count_loggedin", () => {
    it("counts logged-in registered sessions, or all of them when asked; queued ones never", () => {
      const h = makeHarness();
      const a = h.connect();
      h.connect(); // queued
      expect(h.handler.count_loggedin()).to.equal(0);
      expect(h.handler.count_loggedin(true)).to.equal(1);
      h.handler.server_logged_in(a.sessid, 1);
      expect(h.handler.count_loggedin()).to.equal(1);
      h.clock.advance(500);
      expect(h.handler.count_loggedin(true)).to.equal(2);
      expect(h.handler.count_loggedin()).to.equal(1);
    });
  });

  describe("sessions_from_csessid", () => {
    it("returns every session (logged in or not) with that csessid, and none for an empty one", () => {
      const h = noThrottle();
      const a = h.connect();
      const b = h.connect();
      const c = h.connect();
      const d = h.connect();
      a.csessid = "web-1";
      b.csessid = "web-2";
      c.csessid = "web-1";
      c.logged_in = true;
      d.csessid = "";
      expect(h.handler.sessions_from_csessid("web-1")).to.deep.equal([a, c]);
      expect(h.handler.sessions_from_csessid("web-2")).to.deep.equal([b]);
      expect(h.handler.sessions_from_csessid("web-3")).to.deep.equal([]);
      expect(h.handler.sessions_from_csessid("")).to.deep.equal([]);
    });
  });

  describe("announce_all", () => {
    it("sends the text to every registered session, not to queued ones", () => {
      const h = makeHarness();
      const a = h.connect();
      const queued = h.connect();
      h.handler.announce_all("Server restarted.");
      expect(a.sent).to.deep.equal([{ name: "text", args: ["Server restarted."], kwargs: { options: {} } }]);
      expect(queued.texts).to.deep.equal(["Portico DoS protection is active. You are queued to connect in 0.5 seconds ..."]);
    });
  });

  describe("data_in", () => {
    it("forwards accepted input to the game and stamps cmd_last", () => {
      const h = noThrottle();
      const s = h.connect();
      h.channel.clear();
      h.clock.advance(2500);
      s.input("look");
      s.oob("Core.Hello", [{ client: "x" }], { k: 1 });
      expect(h.channel.sent).to.deep.equal([
        { op: "data-in", sessid: s.sessid, seq: 1, cmds: [["text", ["look"], {}]] },
        { op: "data-in", sessid: s.sessid, seq: 2, cmds: [["Core.Hello", [{ client: "x" }], { k: 1 }]] },
      ]);
      expect(s.cmd_last).to.equal((START + 2500) / 1000);
      expect(s.cmd_last_visible).to.equal(START / 1000);
    });

    it("forwards several tuples of one call as one message", () => {
      const h = noThrottle();
      const s = h.connect();
      h.channel.clear();
      h.handler.data_in(s, [["text", ["a"], {}], ["text", ["b"], {}]]);
      expect(h.channel.sent).to.deep.equal([{ op: "data-in", sessid: s.sessid, seq: 1, cmds: [["text", ["a"], {}], ["text", ["b"], {}]] }]);
    });

    it("does not stamp cmd_last for rejected input", () => {
      const h = noThrottle({ limits: { maxCharLimit: 3 } });
      const s = h.connect();
      h.clock.advance(1000);
      s.input("toolong");
      expect(s.cmd_last).to.equal(START / 1000);
      expect(s.texts).to.deep.equal(["You entered a string that was too long. Please break it up into multiple parts."]);
    });

    it("ignores input from a closed session", () => {
      const h = noThrottle();
      const s = h.connect();
      s.drop();
      h.channel.clear();
      h.handler.data_in(s, [["text", ["look"], {}]]);
      expect(h.channel.sent).to.deep.equal([]);
      expect(h.handler.pendingInputs).to.equal(0);
    });

    it("holds input of a queued session, says once that it waits in the queue, and sends it right after the session is announced", () => {
      const h = makeHarness();
      h.connect();
      const s = h.connect();
      s.input("north");
      s.input("look");
      expect(h.handler.pendingInputs).to.equal(2);
      expect(s.texts).to.deep.equal([
        "Portico DoS protection is active. You are queued to connect in 0.5 seconds ...",
        "You are still waiting in the connection queue; what you type will be delivered once you are let in.",
      ]);
      h.channel.clear();
      h.clock.advance(500);
      expect(h.channel.sent).to.deep.equal([
        { op: "session-connect", session: s.getSyncData(), gen: 2 },
        { op: "data-in", sessid: s.sessid, seq: 1, cmds: [["text", ["north"], {}], ["text", ["look"], {}]] },
      ]);
      expect(h.handler.pendingInputs).to.equal(0);
    });

    it("while the game is away holds input per session, says 'restarting' once, and flushes on reconnect", () => {
      const h = noThrottle();
      const a = h.connect();
      const b = h.connect();
      h.channel.connected = false;
      h.handler.onGameDisconnected();
      a.input("say hi");
      a.input("look");
      b.oob("Core.Ping");
      expect(a.texts).to.deep.equal([RESTARTING]);
      expect(b.texts).to.deep.equal([RESTARTING]);
      expect(h.handler.pendingInputs).to.equal(3);
      h.channel.clear();
      h.channel.connected = true;
      h.handler.onGameConnected(1, START / 1000);
      expect(h.channel.sent.map((m) => m.op)).to.deep.equal(["portal-sync", "portal-sync-sessions", "portal-sync-end", "data-in", "data-in"]);
      expect(h.channel.sent.slice(3)).to.deep.equal([
        { op: "data-in", sessid: a.sessid, seq: 1, cmds: [["text", ["say hi"], {}], ["text", ["look"], {}]] },
        { op: "data-in", sessid: b.sessid, seq: 1, cmds: [["Core.Ping", [], {}]] },
      ]);
      expect(h.handler.pendingInputs).to.equal(0);
      // the notice is given again on the next absence
      h.channel.connected = false;
      a.input("again");
      expect(a.texts).to.deep.equal([RESTARTING, RESTARTING]);
    });

    it("does not hold keep-alives (idle) while the game is away, but forwards them while it is linked", () => {
      const h = noThrottle();
      const s = h.connect();
      h.channel.connected = false;
      h.handler.onGameDisconnected();
      for (let i = 0; i < 20; i++) s.oob("idle");
      expect(h.handler.pendingInputs).to.equal(0);
      expect(s.texts, "a keep-alive alone gets no restarting notice").to.deep.equal([]);
      s.input("look");
      expect(h.handler.pendingInputs).to.equal(1);
      h.channel.connected = true;
      h.handler.onGameConnected(1, 0);
      h.channel.clear();
      s.oob("idle");
      expect(h.channel.ofOp("data-in").map((m) => m.cmds[0]![0])).to.deep.equal(["idle"]);
    });

    it("refuses an input too large for any link frame (it could never reach the game): the char-limit notice, nothing kept", () => {
      const h = noThrottle({ link: { maxFrameBytes: 4096, maxServerDataBytes: 1024 } });
      const s = h.connect();
      h.channel.clear();
      s.input("x".repeat(2000));
      s.input("small");
      expect(s.texts).to.deep.equal([DEFAULT_CONFIG.messages.charLimit]);
      expect(h.logger.codes()).to.include(ErrorCodes.INPUT_TOO_LONG);
      expect(h.channel.ofOp("data-in")).to.deep.equal([{ op: "data-in", sessid: s.sessid, seq: 1, cmds: [["text", ["small"], {}]] }]);
    });

    it("sends held input larger than a frame as several data-in with consecutive sequence numbers", () => {
      const h = noThrottle({ link: { maxFrameBytes: 16 * 1024, maxServerDataBytes: 4096 } });
      const s = h.connect();
      h.channel.connected = false;
      h.handler.onGameDisconnected();
      const lines = Array.from({ length: 12 }, (_, i) => `${i + 1} ${"y".repeat(1000)}`);
      for (const l of lines) s.input(l);
      h.channel.clear();
      h.channel.connected = true;
      h.handler.onGameConnected(1, 0);
      const parts = h.channel.ofOp("data-in");
      expect(parts.length).to.be.greaterThan(1);
      let next = 1;
      for (const p of parts) {
        expect(p.seq).to.equal(next);
        expect(JSON.stringify(p).length).to.be.at.most(4096 + 1200);
        next += p.cmds.length;
      }
      expect(parts.flatMap((p) => p.cmds.map((c) => c[1][0]))).to.deep.equal(lines);
    });

    it("bounds held input by limits.pendingInputMax and tells the player each line not kept", () => {
      const h = noThrottle({ limits: { pendingInputMax: 2 } });
      const s = h.connect();
      h.channel.connected = false;
      s.input("one");
      s.input("two");
      s.input("three");
      s.oob("Char.Vitals");
      expect(s.texts).to.deep.equal([
        RESTARTING,
        "The game has not taken your earlier input yet and your input buffer is full; this line was not kept: three",
        "The game has not taken your earlier input yet and your input buffer is full; this line was not kept: Char.Vitals",
      ]);
      expect(h.logger.codes().filter((c) => c === ErrorCodes.INPUT_QUEUE_FULL)).to.have.length(2);
      expect(h.handler.pendingInputs).to.equal(2);
      h.channel.connected = true;
      h.handler.onGameConnected(1, 0);
      expect(h.channel.cmdsFor(s.sessid)).to.deep.equal([["text", ["one"], {}], ["text", ["two"], {}]]);
    });
  });

  describe("data_out", () => {
    it("dispatches to the session's send_<name> methods (prompt last, empty text dropped, options present)", () => {
      const h = noThrottle();
      const s = h.connect();
      h.handler.data_out(s.sessid, [["prompt", ["> "], {}], ["text", [""], {}], ["text", ["You see a room."], { options: { raw: true } }], ["Custom", [1], {}]]);
      expect(s.sent).to.deep.equal([
        { name: "text", args: ["You see a room."], kwargs: { options: { raw: true } } },
        { name: "default:Custom", args: [1], kwargs: { options: {} } },
        { name: "prompt", args: ["> "], kwargs: { options: {} } },
      ]);
    });

    it("drops output for an unknown session with a debug PORTAL_ERR_UNKNOWN_SESSION entry", () => {
      const h = noThrottle();
      h.handler.data_out("portal:1:404", [["text", ["hi"], {}]]);
      expect(h.logger.entries).to.deep.equal([
        { level: "debug", fields: { code: "PORTAL_ERR_UNKNOWN_SESSION", sessid: "portal:1:404" }, msg: "output for an unknown session dropped" },
      ]);
    });

    it("skips malformed instructions, logs their indexes with PORTAL_ERR_BAD_OUTPUT and delivers the rest", () => {
      const h = noThrottle();
      const s = h.connect();
      h.handler.data_out(s.sessid, [["text", ["a"], {}], "junk", ["text", "b", {}], ["text", ["c"], {}], ["", [], {}]]);
      expect(s.texts).to.deep.equal(["a", "c"]);
      const entry = h.logger.entries.find((e) => e.fields.code === ErrorCodes.BAD_OUTPUT);
      expect(entry?.level).to.equal("warn");
      expect(entry?.fields.indexes).to.deep.equal([1, 2, 4]);
    });
  });

  describe("restart modes (onGameConnected / onGameDisconnected / onGameStopRequested)", () => {
    const cycle = (h: ReturnType<typeof makeHarness>, stop?: "reload" | "reset" | "shutdown") => {
      if (stop) h.handler.onGameStopRequested(stop);
      h.channel.connected = false;
      h.handler.onGameDisconnected();
      h.channel.connected = true;
      h.channel.clear();
      h.handler.onGameConnected(3, 1_700_000_000);
      return h.channel.ofOp("portal-sync")[0]!.mode;
    };

    it("reports cold on the first connect after the portal starts", () => {
      const h = noThrottle();
      expect(h.handler.restartMode).to.equal("cold");
      h.handler.onGameConnected(1, 1);
      expect(h.channel.ofOp("portal-sync")[0]!.mode).to.equal("cold");
    });

    it("reports reload, reset, cold (after a game shutdown) and crash (no stop request)", () => {
      const h = noThrottle();
      h.handler.onGameConnected(3, 1_700_000_000);
      expect(cycle(h, "reload")).to.equal("reload");
      expect(cycle(h, "reset")).to.equal("reset");
      expect(cycle(h, "shutdown")).to.equal("cold");
      expect(cycle(h)).to.equal("crash");
      expect(h.handler.restartMode).to.equal("crash");
    });

    it("forgets a stop request once the game has gone (the next drop without one is a crash)", () => {
      const h = noThrottle();
      expect(cycle(h, "reload")).to.equal("reload");
      expect(cycle(h)).to.equal("crash");
    });

    it("forgets a stop request when a new game connects before the old one dropped", () => {
      const h = noThrottle();
      h.handler.onGameStopRequested("reload");
      h.handler.onGameConnected(1, 1);
      h.channel.connected = false;
      h.handler.onGameDisconnected();
      expect(h.handler.restartMode).to.equal("crash");
    });

    it("hands every session to the game in the portal-sync, naming those it has never seen as fresh", () => {
      const h = noThrottle({ portalId: "west", run: 4 });
      const old = h.connect();
      old.logged_in = true;
      old.puid = 12;
      h.channel.connected = false;
      h.handler.onGameStopRequested("reload");
      h.handler.onGameDisconnected();
      const fresh = h.connect("10.1.1.1");
      expect(fresh.announced).to.equal(false);
      h.channel.connected = true;
      h.channel.clear();
      h.handler.onGameConnected(4, 1_700_000_123.5);
      expect(h.channel.sent).to.deep.equal([
        {
          op: "portal-sync",
          version: 2,
          mode: "reload",
          portal_id: "west",
          portal_run: 4,
          portal_start_time: 1_700_000_123.5,
          gen: 2,
          total: 2,
          limits: { max_frame_bytes: 16 * 1024 * 1024, max_server_data_bytes: 1024 * 1024 },
        },
        { op: "portal-sync-sessions", sessions: [{ ...old.getSyncData(), input_seq: 1 }, { ...fresh.getSyncData(), input_seq: 1 }], fresh: [fresh.sessid] },
        { op: "portal-sync-end", gen: 2 },
      ]);
      expect(fresh.announced).to.equal(true);
      // a later drop of the now announced session is reported
      h.channel.clear();
      fresh.drop();
      expect(h.channel.sent).to.deep.equal([{ op: "session-disconnect", sessid: fresh.sessid }]);
    });

    it("leaves out sessions that closed while the game was away", () => {
      const h = noThrottle();
      const a = h.connect();
      const b = h.connect();
      h.channel.connected = false;
      h.handler.onGameDisconnected();
      a.drop();
      h.channel.connected = true;
      h.handler.onGameConnected(1, 1);
      const sync = h.channel.lastSync();
      expect(sync!.sessions.map((s) => s.sessid)).to.deep.equal([b.sessid]);
      expect(sync!.fresh).to.deep.equal([]);
      expect(sync!.header.mode).to.equal("crash");
    });

    it("delivers connections made before any game connected once one does (H05)", () => {
      const h = makeHarness({ gameConnected: false });
      const a = h.connect();
      const b = h.connect();
      h.clock.advance(500);
      expect(h.handler.all()).to.deep.equal([a, b]);
      h.channel.connected = true;
      h.handler.onGameConnected(1, 1);
      const sync = h.channel.lastSync();
      expect(sync!.fresh).to.deep.equal([a.sessid, b.sessid]);
      expect(sync!.header.mode).to.equal("cold");
    });
  });

  describe("stop", () => {
    it("empties the connection queue; queued sessions are never announced", () => {
      const h = makeHarness();
      h.connect();
      h.connect();
      h.connect();
      expect(h.handler.queuedConnections).to.equal(2);
      h.handler.stop();
      expect(h.handler.queuedConnections).to.equal(0);
      expect(h.clock.pendingTimers).to.equal(0);
      h.clock.advance(10_000);
      expect(h.channel.ofOp("session-connect")).to.have.length(1);
    });
  });
});
