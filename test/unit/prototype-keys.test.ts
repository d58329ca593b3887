import { expect } from "chai";
import { parseOptionSetting, SETTABLE } from "../../core/default-game/commands/options.js";
import { GameSession } from "../../core/game/game-session.js";
import { decodeGmcp, gameNameFromGmcp, gmcpName } from "../../core/index.js";
import { RecordingSession } from "../../core/testing/index.js";
import { decodeMsdp } from "../../plugins/telnet/oob/msdp-codec.js";
import { decodeEntities } from "../../plugins/rss/item-text.js";

/**
 * Issue 12 item 6: text from players and peers is looked up among own keys only, so names of
 * Object.prototype's members (`__proto__`, `constructor`, `toString`, `hasOwnProperty`...) are
 * unknown names, never the prototype's functions or the prototype itself.
 */
const PROTO_NAMES = ["__proto__", "constructor", "toString", "hasOwnProperty", "valueOf", "isPrototypeOf", "__defineGetter__"];

describe("prototype keys are never looked up", () => {
  it("options ENCODING=<a prototype member> is refused with the normal message", () => {
    for (const name of PROTO_NAMES) {
      expect(parseOptionSetting(`ENCODING=${name}`), name).to.deep.equal({ error: "ENCODING must be utf-8 or latin-1." });
      expect(parseOptionSetting(`ENCODING ${name}`), name).to.deep.equal({ error: "ENCODING must be utf-8 or latin-1." });
    }
    expect(parseOptionSetting("ENCODING=utf-8")).to.deep.equal({ flag: "ENCODING", value: "utf-8" });
  });

  it("options <a prototype member>=x names an unknown flag", () => {
    for (const name of PROTO_NAMES) {
      const r = parseOptionSetting(`${name}=on`);
      expect(r, name).to.have.property("error").that.matches(/^You cannot set .*\. Settable: SCREENWIDTH, SCREENHEIGHT, NOCOLOR, SCREENREADER, NOPKEEPALIVE, LOCALECHO, ENCODING\.$/);
    }
    expect(SETTABLE.has("__PROTO__")).to.equal(false);
  });

  it("GMCP: a package named like a prototype member becomes that plain command name", () => {
    expect(gameNameFromGmcp("constructor")).to.equal("constructor");
    expect(gameNameFromGmcp("__proto__")).to.equal("__proto__");
    expect(decodeGmcp("constructor {}").tuple).to.deep.equal(["constructor", [], {}]);
    expect(decodeGmcp('Constructor {"a": 1}').tuple).to.deep.equal(["constructor", [], { a: 1 }]);
    expect(typeof decodeGmcp("__proto__").tuple[0]).to.equal("string");
    expect(gmcpName("constructor")).to.equal("Core.Constructor");
    expect(gmcpName("toString")).to.equal("Core.ToString");
    // The mapped names still map.
    expect(gameNameFromGmcp("Core.Supports.Get")).to.equal("client_options");
    expect(gmcpName("get_inputfuncs")).to.equal("Core.Commands.Get");
  });

  it("MSDP: variables named like prototype members are plain variables; LIST still maps", () => {
    const VAR = "\x01", VAL = "\x02";
    const tuples = decodeMsdp(Buffer.from(`${VAR}constructor${VAL}x${VAR}__proto__${VAL}y${VAR}list${VAL}COMMANDS`, "latin1"));
    expect(tuples).to.deep.equal([["constructor", ["x"], {}], ["__proto__", ["y"], {}], ["msdp_list", ["COMMANDS"], {}]]);
  });

  it("RSS: an entity named like a prototype member stays as written", () => {
    expect(decodeEntities("&valueof; &tostring; &proto; &amp;")).to.equal("&valueof; &tostring; &proto; &");
  });

  it("a session-sync's protocol_flags with a __proto__ key changes no prototype (portal and SDK sides)", () => {
    const evil = JSON.parse('{"protocol_flags": {"__proto__": {"EVIL": true}, "NOCOLOR": true}}') as { protocol_flags: Record<string, unknown> };
    const portal = new RecordingSession("127.0.0.1", "test");
    portal.loadSyncData(evil);
    expect(Object.getPrototypeOf(portal.protocol_flags)).to.equal(Object.prototype);
    expect(portal.protocol_flags.EVIL).to.equal(undefined);
    expect(portal.protocol_flags.NOCOLOR).to.equal(true);
    const game = new GameSession({ sessid: "s1" });
    game.load(evil);
    expect(Object.getPrototypeOf(game.protocol_flags)).to.equal(Object.prototype);
    expect(game.protocol_flags.EVIL).to.equal(undefined);
    expect(game.protocol_flags.NOCOLOR).to.equal(true);
  });
});
