import { expect } from "chai";
import { parsePortalMessage, parseRefusal } from "../../core/link/link-messages.js";

const session = { sessid: "p:1:1", protocol_key: "telnet", address: "127.0.0.1", logged_in: false, protocol_flags: {}, server_data: {} };

/** The field parsePortalMessage names for `raw`, or "ok". */
function verdict(raw: unknown): string {
  const r = parsePortalMessage(raw);
  return r.ok ? "ok" : r.code === "unknown-op" ? `unknown ${String(r.op)}` : String(r.field);
}

describe("parsePortalMessage: what a game accepts from a portal", () => {
  it("accepts the portal's messages as it sends them", () => {
    expect(verdict({ op: "portal-sync", version: 2, mode: "cold", portal_id: "p", portal_run: 1, portal_start_time: 0, gen: 1, total: 1, limits: { max_frame_bytes: 1024, max_server_data_bytes: 256 } })).to.equal("ok");
    expect(verdict({ op: "portal-sync-sessions", sessions: [{ ...session, input_seq: 1 }], fresh: ["p:1:1"] })).to.equal("ok");
    expect(verdict({ op: "session-connect", session, gen: 2 })).to.equal("ok");
    expect(verdict({ op: "data-in", sessid: "p:1:1", seq: 1, cmds: [["text", ["hi"], {}]] })).to.equal("ok");
    expect(verdict({ op: "reply", id: 1, ok: false, error: { code: "X", message: "y" } })).to.equal("ok");
    expect(verdict({ op: "cluster", id: 3 })).to.equal("ok");
  });

  it("names the first bad field of a malformed one (what would have thrown in the SDK, or corrupted its tables)", () => {
    expect(verdict({ op: "portal-sync", version: 2, mode: "sideways", portal_id: "p", portal_run: 1, gen: 1, limits: {} })).to.equal("mode");
    expect(verdict({ op: "portal-sync", version: 2, mode: "cold", portal_id: "p", portal_run: 1, gen: 1, limits: { max_frame_bytes: 0, max_server_data_bytes: 1 } })).to.equal("limits");
    expect(verdict({ op: "portal-sync-sessions", sessions: [{ ...session }], fresh: [] })).to.equal("sessions");
    expect(verdict({ op: "portal-sync-sessions", sessions: [{ ...session, input_seq: 1, protocol_flags: null }], fresh: [] })).to.equal("sessions");
    expect(verdict({ op: "session-connect", session: { ...session, sessid: 7 }, gen: 1 })).to.equal("session");
    expect(verdict({ op: "data-in", sessid: "p:1:1", seq: 0, cmds: [] })).to.equal("seq");
    expect(verdict({ op: "data-in", sessid: "p:1:1", seq: 1, cmds: "text" })).to.equal("cmds");
    expect(verdict({ op: "reply", id: 1, ok: false })).to.equal("error");
    expect(verdict({ op: "server-stop", mode: "now" })).to.equal("mode");
    expect(verdict({ op: "teleport" })).to.equal("unknown teleport");
    expect(verdict(["data-in"])).to.equal("op");
  });

  it("gives the coded error for a refusal", () => {
    const r = parsePortalMessage({ op: "data-in", sessid: "", seq: 1, cmds: [] });
    expect(r.ok).to.equal(false);
    if (!r.ok) expect(parseRefusal(r)).to.deep.equal({ code: "PORTAL_ERR_LINK_MESSAGE", message: 'bad field "sessid" in data-in' });
    const u = parsePortalMessage({ op: "nope" });
    if (!u.ok) expect(parseRefusal(u)).to.deep.equal({ code: "PORTAL_ERR_LINK_UNKNOWN_OP", message: 'unknown operation "nope"' });
  });
});
