import { expect } from "chai";
import { CONNECT_SYNC_KEYS, defaultProtocolFlags, findBadSyncKey, SYNC_KEYS } from "../../core/sessions/session-data.js";
import { CORE } from "../../core/sessions/portal-session.js";
import { RecordingSession } from "../../core/testing/index.js";

const NOW = 1_700_000_123_456;

const BASE_FLAGS = { ENCODING: "utf-8", SCREENREADER: false, INPUTDEBUG: false, RAW: false, NOCOLOR: false, LOCALECHO: false };

function fresh(): RecordingSession {
  const s = new RecordingSession("192.0.2.7", "telnet");
  s[CORE].sessid = "portal:3:9";
  s.conn_time = s.cmd_last = s.cmd_last_visible = NOW / 1000;
  return s;
}

describe("session data (S01)", () => {
  it("a new session has the base flags and Evennia's initial values", () => {
    const s = fresh();
    expect(s.protocol_flags).to.deep.equal(BASE_FLAGS);
    expect(defaultProtocolFlags()).to.deep.equal(BASE_FLAGS);
    expect(defaultProtocolFlags()).to.not.equal(defaultProtocolFlags());
    expect([s.conn_time, s.cmd_last, s.cmd_last_visible]).to.deep.equal([NOW / 1000, NOW / 1000, NOW / 1000]);
    expect([s.uid, s.uname, s.puid, s.csessid, s.logged_in, s.cmd_total]).to.deep.equal([null, null, null, null, false, 0]);
    expect(s.server_data).to.deep.equal({});
  });

  it("getSyncData carries exactly the sync keys with their values", () => {
    const s = fresh();
    const data = s.getSyncData();
    expect(Object.keys(data).sort()).to.deep.equal([
      "address", "cmd_last", "cmd_last_visible", "cmd_total", "conn_time", "csessid", "logged_in",
      "protocol_flags", "protocol_key", "puid", "server_data", "sessid", "uid", "uname",
    ]);
    expect([...SYNC_KEYS].sort()).to.deep.equal(Object.keys(data).sort());
    expect(data).to.deep.equal({
      sessid: "portal:3:9", csessid: null, protocol_key: "telnet", address: "192.0.2.7", uid: null, uname: null,
      logged_in: false, puid: null, conn_time: NOW / 1000, cmd_last: NOW / 1000, cmd_last_visible: NOW / 1000,
      cmd_total: 0, protocol_flags: BASE_FLAGS, server_data: {},
    });
  });

  it("getSyncData does not leak portal-internal state", () => {
    const s = fresh();
    s[CORE].announced = true;
    const data = s.getSyncData() as unknown as Record<string, unknown>;
    expect(data).to.not.have.any.keys("announced", "sent", "closeReasons", "port", "isClosed");
  });

  it("getSyncData copies protocol_flags and server_data", () => {
    const s = fresh();
    s.server_data.x = 1;
    const data = s.getSyncData();
    data.protocol_flags.NOCOLOR = true;
    data.server_data.x = 2;
    expect(s.protocol_flags.NOCOLOR).to.equal(false);
    expect(s.server_data.x).to.equal(1);
  });

  it("getConnectSyncData carries exactly protocol_key, address, sessid, csessid, conn_time, protocol_flags, server_data", () => {
    const s = fresh();
    s.logged_in = true;
    s.uid = 3;
    s.protocol_flags.SCREENWIDTH = { 0: 100 };
    const data = s.getConnectSyncData();
    expect(Object.keys(data).sort()).to.deep.equal(["address", "conn_time", "csessid", "protocol_flags", "protocol_key", "server_data", "sessid"]);
    expect([...CONNECT_SYNC_KEYS].sort()).to.deep.equal(Object.keys(data).sort());
    expect(data).to.deep.equal({
      protocol_key: "telnet", address: "192.0.2.7", sessid: "portal:3:9", csessid: null, conn_time: NOW / 1000,
      protocol_flags: { ...BASE_FLAGS, SCREENWIDTH: { 0: 100 } }, server_data: {},
    });
  });

  describe("loadSyncData", () => {
    it("merges protocol_flags, never replacing or deleting flags", () => {
      const s = fresh();
      s.protocol_flags.TTYPE = true;
      s.loadSyncData({ protocol_flags: { NOCOLOR: true, XTERM256: true } });
      expect(s.protocol_flags).to.deep.equal({ ...BASE_FLAGS, NOCOLOR: true, TTYPE: true, XTERM256: true });
    });

    it("ignores sessid, protocol_key and address", () => {
      const s = fresh();
      s.loadSyncData({ sessid: "other:1:1", protocol_key: "websocket", address: "10.9.9.9" });
      expect([s.sessid, s.protocol_key, s.address]).to.deep.equal(["portal:3:9", "telnet", "192.0.2.7"]);
    });

    it("sets the game-owned keys and ignores unknown ones", () => {
      const s = fresh();
      s.loadSyncData({
        logged_in: true, uid: 12, uname: "Carol", puid: 99, csessid: "abc", conn_time: 5, cmd_last: 6, cmd_last_visible: 7,
        cmd_total: 8, server_data: { k: "v" }, announced: true, sent: "x", close: 1,
      } as never);
      expect(s.getSyncData()).to.deep.equal({
        sessid: "portal:3:9", csessid: "abc", protocol_key: "telnet", address: "192.0.2.7", uid: 12, uname: "Carol",
        logged_in: true, puid: 99, conn_time: 5, cmd_last: 6, cmd_last_visible: 7, cmd_total: 8,
        protocol_flags: BASE_FLAGS, server_data: { k: "v" },
      });
      expect(s.announced).to.equal(false);
      expect(s.sent).to.deep.equal([]);
      expect(typeof s.close).to.equal("function");
    });

    it("round-trips: a session's sync data loaded into another gives the same game-owned state", () => {
      const a = fresh();
      a.loadSyncData({ logged_in: true, uid: 1, puid: 2, protocol_flags: { ANSI: true }, server_data: { room: 4 } });
      const b = new RecordingSession("198.51.100.1", "websocket");
      b.loadSyncData(a.getSyncData());
      expect([b.logged_in, b.uid, b.puid, b.server_data, b.protocol_flags.ANSI]).to.deep.equal([true, 1, 2, { room: 4 }, true]);
      expect([b.protocol_key, b.address]).to.deep.equal(["websocket", "198.51.100.1"]);
    });
  });

  describe("findBadSyncKey", () => {
    it("names the first wrongly typed game-writable key", () => {
      expect(findBadSyncKey({ uid: 1, logged_in: true, protocol_flags: {} })).to.equal(undefined);
      expect(findBadSyncKey({ uid: 1, logged_in: "yes" })).to.equal("logged_in");
      expect(findBadSyncKey({ protocol_flags: [] })).to.equal("protocol_flags");
      expect(findBadSyncKey({ server_data: null })).to.equal("server_data");
      expect(findBadSyncKey({ cmd_total: Number.NaN })).to.equal("cmd_total");
      expect(findBadSyncKey({ uid: { id: 1 } })).to.equal("uid");
      expect(findBadSyncKey({ uname: 5 })).to.equal("uname");
    });

    it("accepts null ids and string or finite number uids", () => {
      expect(findBadSyncKey({ uid: null, puid: "p", csessid: null, uname: null })).to.equal(undefined);
      expect(findBadSyncKey({ uid: Number.POSITIVE_INFINITY })).to.equal("uid");
    });

    it("ignores unknown keys, including ones named like Object.prototype members", () => {
      expect(findBadSyncKey({ whatever: Symbol("x") })).to.equal(undefined);
      expect(findBadSyncKey(JSON.parse('{"__proto__": 1, "hasOwnProperty": 2, "toString": 3, "constructor": 4}'))).to.equal(undefined);
    });
  });
});
