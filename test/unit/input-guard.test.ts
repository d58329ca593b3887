import { expect } from "chai";
import { DEFAULT_CONFIG } from "../../core/config/portal-config.js";
import { ErrorCodes } from "../../core/errors/error-codes.js";
import type { CommandTuple } from "../../core/messages/command-tuple.js";
import { InputGuard } from "../../core/sessions/input-guard.js";
import { decodeInput, INVALID_ENCODING_MESSAGE } from "../../core/sessions/portal-session.js";
import { makeHarness, type HarnessOptions } from "./session-handler-fixture.js";

const RATE = "You entered commands too fast. Wait a moment and try again.";
const TOO_LONG = "You entered a string that was too long. Please break it up into multiple parts.";
const OOB_TOO_LARGE = "Your client sent an out-of-band message that was too large; it was ignored.";

const harness = (opts: HarnessOptions = {}) => makeHarness({ ...opts, limits: { maxConnectionRate: 0, ...opts.limits } });

function guard(limits: Partial<{ maxCharLimit: number; maxOobBytes: number; maxCommandRate: number }> = {}) {
  const { maxCharLimit, maxOobBytes, maxCommandRate } = DEFAULT_CONFIG.limits;
  return new InputGuard({ maxCharLimit, maxOobBytes, maxCommandRate, ...limits }, DEFAULT_CONFIG.messages);
}

const text = (t: string): CommandTuple => ["text", [t], {}];

describe("input limits", () => {
  describe("H12: command rate in a one-second fixed window", () => {
    it("100 lines in 0.2 s: 80 forwarded, 20 warnings with the exact text", () => {
      const h = harness();
      const s = h.connect();
      for (let i = 0; i < 100; i += 1) {
        s.input(`cmd${i}`);
        h.clock.advance(2);
      }
      const forwarded = h.channel.cmdsFor(s.sessid);
      expect(forwarded).to.have.length(80);
      expect(forwarded.at(0)).to.deep.equal(["text", ["cmd0"], {}]);
      expect(forwarded.at(-1)).to.deep.equal(["text", ["cmd79"], {}]);
      expect(s.texts).to.deep.equal(Array(20).fill(RATE));
      expect(h.logger.codes().filter((c) => c === ErrorCodes.COMMAND_RATE)).to.have.length(20);
    });

    it("the window restarts with the first input more than 1 s after it began (not at exactly 1 s)", () => {
      const h = harness();
      const s = h.connect();
      for (let i = 0; i < 100; i += 1) {
        s.input(`cmd${i}`);
        h.clock.advance(2);
      }
      h.clock.advance(800); // exactly 1000 ms after the window began
      s.input("still-limited");
      expect(h.channel.cmdsFor(s.sessid)).to.have.length(80);
      expect(s.texts).to.have.length(21);
      h.clock.advance(1);
      s.input("next");
      expect(h.channel.cmdsFor(s.sessid)).to.have.length(81);
      expect(h.channel.cmdsFor(s.sessid).at(-1)).to.deep.equal(["text", ["next"], {}]);
      expect(s.texts).to.have.length(21);
    });

    it("rejected inputs still count: a client that keeps flooding stays limited inside the window", () => {
      const g = guard({ maxCommandRate: 2 });
      const s = {};
      const results = [0, 100, 200, 300].map((t) => g.check(s, [text("x")], t).accepted.length);
      expect(results).to.deep.equal([1, 1, 0, 0]);
      expect(g.check(s, [text("x")], 1001).accepted.length).to.equal(1);
    });

    it("tuples of one call are counted one by one", () => {
      const g = guard({ maxCommandRate: 3 });
      const r = g.check({}, [text("a"), text("b"), text("c"), text("d"), ["Core.Ping", [], {}]], 0);
      expect(r.accepted).to.deep.equal([text("a"), text("b"), text("c")]);
      expect(r.rejected).to.deep.equal([
        { code: "PORTAL_ERR_COMMAND_RATE", message: RATE, name: "text" },
        { code: "PORTAL_ERR_COMMAND_RATE", message: RATE, name: "Core.Ping" },
      ]);
    });
  });

  describe("H13: the limit is per session and counts out-of-band input", () => {
    it("two clients × 60 lines in one window: no warnings", () => {
      const h = harness();
      const a = h.connect();
      const b = h.connect();
      for (let i = 0; i < 60; i += 1) {
        a.input(`a${i}`);
        b.input(`b${i}`);
      }
      expect(h.channel.cmdsFor(a.sessid)).to.have.length(60);
      expect(h.channel.cmdsFor(b.sessid)).to.have.length(60);
      expect([...a.texts, ...b.texts]).to.deep.equal([]);
    });

    it("81 GMCP messages: one warning", () => {
      const h = harness();
      const s = h.connect();
      for (let i = 0; i < 81; i += 1) s.oob("Core.Ping", [i]);
      expect(h.channel.cmdsFor(s.sessid)).to.have.length(80);
      expect(s.texts).to.deep.equal([RATE]);
    });

    it("text and OOB share one budget", () => {
      const h = harness();
      const s = h.connect();
      for (let i = 0; i < 41; i += 1) s.input(`t${i}`);
      for (let i = 0; i < 40; i += 1) s.oob("Char.Vitals", [], { i });
      expect(h.channel.cmdsFor(s.sessid)).to.have.length(80);
      expect(s.texts).to.deep.equal([RATE]);
    });
  });

  describe("H14: 0 disables the limiters", () => {
    it("maxCommandRate 0: a burst of 500 lines is all forwarded", () => {
      const h = harness({ limits: { maxCommandRate: 0 } });
      const s = h.connect();
      for (let i = 0; i < 500; i += 1) s.input(`x${i}`);
      expect(h.channel.cmdsFor(s.sessid)).to.have.length(500);
      expect(s.texts).to.deep.equal([]);
    });

    it("maxCharLimit 0: a 100 000-character line is forwarded", () => {
      const h = harness({ limits: { maxCharLimit: 0 } });
      const s = h.connect();
      s.input("y".repeat(100_000));
      expect(h.channel.cmdsFor(s.sessid)).to.deep.equal([text("y".repeat(100_000))]);
      expect(s.texts).to.deep.equal([]);
    });
  });

  describe("H15: text longer than maxCharLimit characters", () => {
    it("accepts 6000 characters and rejects 6001 with the exact text", () => {
      const h = harness();
      const s = h.connect();
      s.input("a".repeat(6000));
      s.input("a".repeat(6001));
      expect(h.channel.cmdsFor(s.sessid)).to.deep.equal([text("a".repeat(6000))]);
      expect(s.texts).to.deep.equal([TOO_LONG]);
      const entry = h.logger.entries.find((e) => e.fields.code === ErrorCodes.INPUT_TOO_LONG);
      expect(entry?.fields).to.deep.include({ sessid: s.sessid, command: "text" });
    });

    it("counts characters, not bytes or UTF-16 units", () => {
      const h = harness();
      const s = h.connect();
      s.input("é".repeat(6000)); // 12 000 UTF-8 bytes
      s.input("😀".repeat(6000)); // 12 000 UTF-16 code units
      s.input("😀".repeat(6001));
      expect(h.channel.cmdsFor(s.sessid)).to.deep.equal([text("é".repeat(6000)), text("😀".repeat(6000))]);
      expect(s.texts).to.deep.equal([TOO_LONG]);
    });

    it("applies the same limit whatever the protocol (a websocket text of 7000 characters)", () => {
      const h = harness();
      const ws = h.connect("127.0.0.1", "websocket");
      h.handler.data_in(ws, [["text", ["w".repeat(7000)], { from: "webclient" }]]);
      expect(h.channel.cmdsFor(ws.sessid)).to.deep.equal([]);
      expect(ws.texts).to.deep.equal([TOO_LONG]);
    });

    it("a rejected line does not count toward the rate", () => {
      const h = harness({ limits: { maxCommandRate: 2 } });
      const s = h.connect();
      s.input("z".repeat(6001));
      s.input("one");
      s.input("two");
      s.input("three");
      expect(h.channel.cmdsFor(s.sessid)).to.deep.equal([text("one"), text("two")]);
      expect(s.texts).to.deep.equal([TOO_LONG, RATE]);
    });
  });

  describe("H16: out-of-band payloads are capped by maxOobBytes (JSON bytes)", () => {
    it("accepts a payload of exactly the cap and rejects one byte more", () => {
      const g = guard({ maxOobBytes: 64 });
      const base = JSON.stringify(["x", [""], {}]).length; // 13
      const exact: CommandTuple = ["x", ["p".repeat(64 - base)], {}];
      const over: CommandTuple = ["x", ["p".repeat(65 - base)], {}];
      expect(Buffer.byteLength(JSON.stringify(exact))).to.equal(64);
      const r = g.check({}, [exact, over], 0);
      expect(r.accepted).to.deep.equal([exact]);
      expect(r.rejected).to.deep.equal([{ code: "PORTAL_ERR_OOB_TOO_LARGE", message: OOB_TOO_LARGE, name: "x" }]);
    });

    it("measures bytes, not characters", () => {
      const g = guard({ maxOobBytes: 64 });
      const r = g.check({}, [["x", ["é".repeat(26)], {}]], 0); // 13 + 52 bytes, 39 characters
      expect(r.accepted).to.deep.equal([]);
    });

    it("rejects a 1 MB GMCP message with the default cap, and it does not count toward the rate", () => {
      const h = harness({ limits: { maxCommandRate: 1 } });
      const s = h.connect();
      s.oob("Client.Map", [{ data: "m".repeat(1024 * 1024) }]);
      s.oob("Core.Ping");
      expect(h.channel.cmdsFor(s.sessid)).to.deep.equal([["Core.Ping", [], {}]]);
      expect(s.texts).to.deep.equal([OOB_TOO_LARGE]);
      expect(h.logger.codes()).to.include("PORTAL_ERR_OOB_TOO_LARGE");
    });

    it("rejects a payload that cannot be measured as JSON", () => {
      const g = guard();
      const r = g.check({}, [["x", [10n], {}]], 0);
      expect(r.rejected.map((x) => x.code)).to.deep.equal(["PORTAL_ERR_OOB_TOO_LARGE"]);
    });

    it("caps what a text tuple carries besides its command text", () => {
      const g = guard({ maxOobBytes: 1024 });
      const bigKwargs: CommandTuple = ["text", ["look"], { blob: "k".repeat(2000) }];
      const bigArgs: CommandTuple = ["text", ["look", "a".repeat(2000)], {}];
      const nonString: CommandTuple = ["text", [{ nested: "n".repeat(2000) }], {}];
      const fine: CommandTuple = ["text", ["t".repeat(5000)], { options: {} }];
      const r = g.check({}, [bigKwargs, bigArgs, nonString, fine], 0);
      expect(r.accepted).to.deep.equal([fine]);
      expect(r.rejected.map((x) => x.code)).to.deep.equal(["PORTAL_ERR_OOB_TOO_LARGE", "PORTAL_ERR_OOB_TOO_LARGE", "PORTAL_ERR_OOB_TOO_LARGE"]);
    });
  });

  describe("H17: LOCALECHO", () => {
    it("echoes every accepted text input back to the sender, and not OOB or rejected input", () => {
      const h = harness({ limits: { maxCharLimit: 10 } });
      const s = h.connect();
      s.protocol_flags.LOCALECHO = true;
      s.input("look");
      s.oob("Core.Ping");
      s.input("x".repeat(11));
      expect(s.sent).to.deep.equal([
        { name: "text", args: ["look"], kwargs: { options: {} } },
        { name: "text", args: [TOO_LONG], kwargs: { options: {} } },
      ]);
      expect(h.channel.cmdsFor(s.sessid)).to.deep.equal([text("look"), ["Core.Ping", [], {}]]);
    });

    it("does not echo when LOCALECHO is off (the default)", () => {
      const h = harness();
      const s = h.connect();
      s.input("look");
      expect(s.sent).to.deep.equal([]);
    });
  });

  describe("H18: invalid bytes for the session encoding", () => {
    it("tells the player and forwards nothing for C3 28 with utf-8", () => {
      const h = harness();
      const s = h.connect();
      h.channel.clear();
      s.inputBytes(Buffer.from([0xc3, 0x28]));
      expect(s.texts).to.deep.equal(["Your client sent an incorrect UTF-8 sequence."]);
      expect(INVALID_ENCODING_MESSAGE).to.equal("Your client sent an incorrect UTF-8 sequence.");
      expect(h.channel.sent).to.deep.equal([]);
      expect(h.handler.pendingInputs).to.equal(0);
    });

    it("forwards valid UTF-8 decoded, and decodes with a latin-1 ENCODING flag", () => {
      const h = harness();
      const s = h.connect();
      s.inputBytes(Buffer.from("héllo", "utf8"));
      s.protocol_flags.ENCODING = "latin-1";
      s.inputBytes(Buffer.from([0x63, 0x61, 0x66, 0xe9]));
      expect(h.channel.cmdsFor(s.sessid)).to.deep.equal([text("héllo"), text("café")]);
      expect(s.texts).to.deep.equal([]);
    });

    it("decodeInput: utf-8 is strict, latin-1/iso-8859-1 take any byte, unknown names fall back to utf-8", () => {
      expect(decodeInput(Buffer.from([0xc3, 0x28]), "utf-8")).to.equal(undefined);
      expect(decodeInput(Buffer.from([0xc3, 0xa9]), "UTF-8")).to.equal("é");
      expect(decodeInput(Buffer.from([0xe9]), "ISO-8859-1")).to.equal("é");
      expect(decodeInput(Buffer.from([0xe9]), "latin1")).to.equal("é");
      expect(decodeInput(Buffer.from([0xe9]), "klingon")).to.equal(undefined);
    });
  });
});
