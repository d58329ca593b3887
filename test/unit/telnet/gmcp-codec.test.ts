import { expect } from "chai";
import { decodeGmcp, encodeGmcp, gameNameFromGmcp, gmcpName } from "../../../core/oob/gmcp-codec.js";

/** Splits `Name payload` and parses the payload, so vectors compare independent of JSON whitespace. */
function split(message: string): [string, unknown] {
  const at = message.indexOf(" ");
  if (at < 0) return [message, undefined];
  return [message.slice(0, at), JSON.parse(message.slice(at + 1))];
}

describe("GMCP codec", () => {
  describe("encode (O01)", () => {
    const vectors: [string, unknown[], Record<string, unknown>, string][] = [
      ["client_options", [], {}, "Core.Supports.Get"],
      ["get_value", ["hp"], {}, 'Char.Value.Get "hp"'],
      ["char_vitals", [], {}, "Char.Vitals"],
      ["ping", [], {}, "Core.Ping"],
      ["Ping", [], {}, "Core.Ping"],
      ["char_HP", [], {}, "Char.HP"],
      ["ping", ["test"], {}, 'Core.Ping "test"'],
      ["ping", ["a", "b"], {}, 'Core.Ping ["a", "b"]'],
      ["ping", [], { hp: 100 }, 'Core.Ping {"hp": 100}'],
      ["ping", ["a"], { hp: 100 }, 'Core.Ping ["a", {"hp": 100}]'],
      ["ping", ["a", "b"], { hp: 100 }, 'Core.Ping [["a", "b"], {"hp": 100}]'],
      ["logged_in", [], {}, "Logged.In"],
      ["get_inputfuncs", [], {}, "Core.Commands.Get"],
      ["repeat", [], {}, "Char.Repeat.Update"],
      ["monitor", [], {}, "Char.Monitor.Update"],
    ];
    for (const [name, args, kwargs, want] of vectors) {
      it(`${name} ${JSON.stringify(args)} ${JSON.stringify(kwargs)} ⇒ ${want}`, () => {
        expect(split(encodeGmcp(name, args, kwargs))).to.deep.equal(split(want));
      });
    }

    it("never sends the options kwarg", () => {
      expect(encodeGmcp("char_vitals", [], { options: {}, hp: 3 })).to.equal('Char.Vitals {"hp":3}');
      expect(encodeGmcp("char_vitals", [], { options: { x: 1 } })).to.equal("Char.Vitals");
    });

    it("keeps the game's case for dotted package names (Client.GUI stays Client.GUI)", () => {
      expect(gmcpName("Client.GUI")).to.equal("Client.GUI");
      expect(gmcpName("IRE.Rift.List")).to.equal("IRE.Rift.List");
      expect(gmcpName("room.info")).to.equal("room.info");
      expect(encodeGmcp("Client.GUI", ["v1", "http://x/gui.mpackage"], {})).to.equal('Client.GUI ["v1","http://x/gui.mpackage"]');
    });

    it("produces one JSON value a client can parse, also for awkward strings", () => {
      const [, payload] = split(encodeGmcp("comm_channel", ['say "hi"\n\u00ff'], {}));
      expect(payload).to.equal('say "hi"\n\u00ff');
    });
  });

  describe("decode (O02)", () => {
    const vectors: [string, [string, unknown[], Record<string, unknown>]][] = [
      ["Core.Supports.Get", ["client_options", [], {}]],
      ["Char.Vitals", ["char_vitals", [], {}]],
      ["Core.Ping", ["ping", [], {}]],
      ['Core.Ping "test"', ["ping", ["test"], {}]],
      ['Core.Ping ["a", "b"]', ["ping", ["a", "b"], {}]],
      ['Core.Ping {"hp": 100}', ["ping", [], { hp: 100 }]],
      ["Core.Ping hello world", ["ping", ["hello world"], {}]],
      ["Core.Ping 0", ["ping", [0], {}]],
      ["Core.Ping false", ["ping", [false], {}]],
      ["Core.Ping null", ["ping", [null], {}]],
      ['Core.Hello {"client":"Mudlet","version":"4.17"}', ["hello", [], { client: "Mudlet", version: "4.17" }]],
      ['Core.Supports.Set ["Char 1", "Room 1"]', ["supports_set", ["Char 1", "Room 1"], {}]],
      ["char.value.get", ["get_value", [], {}]],
      ["CORE.PING", ["ping", [], {}]],
      ["External.Discord.Hello", ["external_discord_hello", [], {}]],
      ['Char.Vitals {"": 1, "hp": 2}', ["char_vitals", [], { hp: 2 }]],
      ['Core.Ping [["a","b"],{"k":"v"}]', ["ping", [["a", "b"], { k: "v" }], {}]],
      ["Core.Ping\t{\"a\":1}", ["ping", [], { a: 1 }]],
    ];
    for (const [message, want] of vectors) {
      it(`${JSON.stringify(message)} ⇒ ${JSON.stringify(want)}`, () => {
        expect(decodeGmcp(message).tuple).to.deep.equal(want);
      });
    }

    it("keeps the package name as sent (for case-insensitive matching)", () => {
      expect(decodeGmcp('Core.Supports.Set ["Char 1"]').pkg).to.equal("Core.Supports.Set");
      expect(gameNameFromGmcp("Core.Supports.Get")).to.equal("client_options");
      expect(gameNameFromGmcp("CORE.SUPPORTS.GET")).to.equal("client_options");
    });

    it("never throws on malformed payloads", () => {
      for (const m of ["", " ", "{", "Core.Ping {", "Core.Ping [1,", ".", "..", "Core.", "\u0000\u0001", "Core.Ping \uFFFD\uFFFD", "x ".repeat(1000)]) {
        expect(() => decodeGmcp(m), JSON.stringify(m)).to.not.throw();
      }
    });
  });
});
