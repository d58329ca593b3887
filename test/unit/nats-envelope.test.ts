import { expect } from "chai";
import { badEnvelopeField, encodeEnvelope, epochGame, EPOCH_ID, type OutgoingEnvelope } from "../../core/link/nats/envelope.js";

const E = "mygame~1700000000000.3";

describe("NATS link envelope", () => {
  describe("badEnvelopeField", () => {
    it("accepts data frames, acks, resend requests and resets", () => {
      const valid: unknown[] = [
        { e: E, s: 1, m: [] },
        { e: E, s: 1, a: 0, m: [{ op: "data-in", sessid: "p:1:1", seq: 1, cmds: [] }] },
        { e: E, s: 9007199254740991, a: 12, m: [1, "x", null] },
        { e: E, a: 0 },
        { e: E, a: 41 },
        { e: E, a: 3, n: 4 },
        { e: E, n: 1 },
        { e: E, r: "unknown epoch" },
        { e: E, r: "x".repeat(200) },
        { e: E },
        { e: "g_a-m-E~0.0" },
        { e: `${"g".repeat(64)}~${"1".repeat(15)}.${"2".repeat(15)}`, a: 0 },
      ];
      for (const v of valid) expect(badEnvelopeField(v), JSON.stringify(v)).to.equal(undefined);
    });

    it("names the bad field of each malformed envelope", () => {
      const cases: [unknown, string][] = [
        [null, "(envelope)"],
        ["{}", "(envelope)"],
        [42, "(envelope)"],
        [[{ e: E }], "(envelope)"],
        [undefined, "(envelope)"],
        [{}, "e"],
        [{ e: 7 }, "e"],
        [{ e: "" }, "e"],
        [{ e: "nogame" }, "e"],
        [{ e: "game~1" }, "e"],
        [{ e: "ga me~1.1" }, "e"],
        [{ e: "game~1.1 " }, "e"],
        [{ e: "game~x.1" }, "e"],
        [{ e: `${"g".repeat(65)}~1.1` }, "e"],
        [{ e: `game~${"1".repeat(16)}.1` }, "e"],
        [{ e: E, s: 0, m: [] }, "s"],
        [{ e: E, s: -1, m: [] }, "s"],
        [{ e: E, s: 1.5, m: [] }, "s"],
        [{ e: E, s: "1", m: [] }, "s"],
        [{ e: E, s: 2 ** 53, m: [] }, "s"],
        [{ e: E, a: -1 }, "a"],
        [{ e: E, a: 0.5 }, "a"],
        [{ e: E, a: "3" }, "a"],
        [{ e: E, a: Number.NaN }, "a"],
        [{ e: E, n: 0 }, "n"],
        [{ e: E, n: -2 }, "n"],
        [{ e: E, n: 2.5 }, "n"],
        [{ e: E, r: 5 }, "r"],
        [{ e: E, r: "x".repeat(201) }, "r"],
        [{ e: E, m: [] }, "m"],
        [{ e: E, a: 1, m: [{ op: "x" }] }, "m"],
        [{ e: E, s: 1 }, "m"],
        [{ e: E, s: 1, m: "[]" }, "m"],
        [{ e: E, s: 1, m: { 0: 1 } }, "m"],
        [{ e: E, s: 1, m: null }, "m"],
      ];
      for (const [v, field] of cases) expect(badEnvelopeField(v), JSON.stringify(v) ?? String(v)).to.equal(field);
    });

    it("reports the first bad field when several are bad", () => {
      expect(badEnvelopeField({ e: "bad", s: 0, a: -1 })).to.equal("e");
      expect(badEnvelopeField({ e: E, s: 0, a: -1 })).to.equal("s");
      expect(badEnvelopeField({ e: E, a: -1, n: 0 })).to.equal("a");
    });
  });

  describe("encodeEnvelope", () => {
    it("gives JSON that parses back to the same envelope, with m spliced in as JSON", () => {
      const msgs = [{ op: "data-in", sessid: "p:1:1", seq: 3, cmds: [["text", ["héllo \"there\"\n"], {}]] }, { op: "ping" }];
      const env: OutgoingEnvelope = { e: E, s: 7, a: 5, m: JSON.stringify(msgs) };
      const wire = encodeEnvelope(env);
      const back = JSON.parse(wire) as Record<string, unknown>;
      expect(back).to.deep.equal({ e: E, s: 7, a: 5, m: msgs });
      expect(badEnvelopeField(back)).to.equal(undefined);
      // Spliced, not re-encoded as a string.
      expect(wire).to.contain(`"m":${JSON.stringify(msgs)}`);
      expect(back.m).to.be.an("array");
    });

    it("encodes an empty message array and envelopes without m", () => {
      expect(JSON.parse(encodeEnvelope({ e: E, s: 1, a: 0, m: "[]" }))).to.deep.equal({ e: E, s: 1, a: 0, m: [] });
      for (const env of [{ e: E, a: 3 }, { e: E, a: 2, n: 3 }, { e: E, r: "unknown epoch" }, { e: E }] as OutgoingEnvelope[]) {
        const wire = encodeEnvelope(env);
        expect(JSON.parse(wire)).to.deep.equal(env);
        expect(wire).not.to.contain('"m"');
        expect(badEnvelopeField(JSON.parse(wire))).to.equal(undefined);
      }
    });

    it("does not alter the envelope passed in", () => {
      const env: OutgoingEnvelope = { e: E, s: 2, a: 1, m: "[1]" };
      encodeEnvelope(env);
      expect(env).to.deep.equal({ e: E, s: 2, a: 1, m: "[1]" });
    });
  });

  describe("epoch ids", () => {
    it("epochGame gives the game part of an epoch id", () => {
      expect(epochGame(E)).to.equal("mygame");
      expect(EPOCH_ID.test(E)).to.equal(true);
    });
  });
});
