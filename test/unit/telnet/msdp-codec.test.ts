import { expect } from "chai";
import { decodeMsdp, encodeMsdp } from "../../../plugins/telnet/oob/msdp-codec.js";

const VAR = "\x01", VAL = "\x02", TO = "\x03", TC = "\x04", AO = "\x05", AC = "\x06";
const bytes = (s: string) => Buffer.from(s, "latin1");

describe("MSDP codec", () => {
  describe("encode (O04)", () => {
    it("no arguments ⇒ VAR name VAL", () => {
      expect(encodeMsdp("ROOM", [], {})).to.equal(`${VAR}ROOM${VAL}`);
    });
    it("one argument ⇒ VAR name VAL value", () => {
      expect(encodeMsdp("HEALTH", [100], {})).to.equal(`${VAR}HEALTH${VAL}100`);
    });
    it("several arguments ⇒ an array", () => {
      expect(encodeMsdp("EXITS", ["n", "s"], {})).to.equal(`${VAR}EXITS${VAL}${AO}${VAL}n${VAL}s${AC}`);
    });
    it("keyword arguments ⇒ a table", () => {
      expect(encodeMsdp("ROOM", [], { name: "Hall", vnum: 3 })).to.equal(`${VAR}ROOM${VAL}${TO}${VAR}name${VAL}Hall${VAR}vnum${VAL}3${TC}`);
    });
    it("arguments and keywords ⇒ the array form followed by the table form", () => {
      expect(encodeMsdp("X", ["a", "b"], { k: "v" })).to.equal(`${VAR}X${VAL}${AO}${VAL}a${VAL}b${AC}${VAR}X${VAL}${TO}${VAR}k${VAL}v${TC}`);
      expect(encodeMsdp("X", ["a"], { k: "v" })).to.equal(`${VAR}X${VAL}${AO}${VAL}a${AC}${VAR}X${VAL}${TO}${VAR}k${VAL}v${TC}`);
    });
    it("drops options and strips MSDP control bytes, NUL and 0xFF from names and values", () => {
      expect(encodeMsdp("N", ["a\x01b\x06c\xffd\x00e"], { options: { raw: true } })).to.equal(`${VAR}N${VAL}abcde`);
    });
    it("sends nested objects as JSON strings", () => {
      expect(encodeMsdp("N", [{ a: 1 }], {})).to.equal(`${VAR}N${VAL}{"a":1}`);
    });
  });

  describe("decode (O05)", () => {
    it("routes LIST / REPORT / RESET / SEND / UNREPORT (any case) to msdp_*", () => {
      expect(decodeMsdp(bytes(`${VAR}LIST${VAL}COMMANDS`))).to.deep.equal([["msdp_list", ["COMMANDS"], {}]]);
      expect(decodeMsdp(bytes(`${VAR}report${VAL}HEALTH`))).to.deep.equal([["msdp_report", ["HEALTH"], {}]]);
      expect(decodeMsdp(bytes(`${VAR}Reset${VAL}REPORTED_VARIABLES`))).to.deep.equal([["msdp_reset", ["REPORTED_VARIABLES"], {}]]);
      expect(decodeMsdp(bytes(`${VAR}SEND${VAL}${AO}${VAL}HEALTH${VAL}MANA${AC}`))).to.deep.equal([["msdp_send", ["HEALTH", "MANA"], {}]]);
      expect(decodeMsdp(bytes(`${VAR}UNREPORT${VAL}HEALTH`))).to.deep.equal([["msdp_unreport", ["HEALTH"], {}]]);
    });

    it("keeps other names' case and merges values per name", () => {
      expect(decodeMsdp(bytes(`${VAR}MyVar${VAL}a${VAR}MyVar${VAL}b${VAR}other${VAL}${TO}${VAR}k${VAL}v${TC}`))).to.deep.equal([
        ["MyVar", ["a", "b"], {}],
        ["other", [], { k: "v" }],
      ]);
      expect(decodeMsdp(bytes(`${VAR}X${VAL}${AO}${VAL}1${VAL}2${AC}${VAR}X${VAL}${TO}${VAR}k${VAL}v${TC}`))).to.deep.equal([["X", ["1", "2"], { k: "v" }]]);
    });

    it("a name without a value has no arguments", () => {
      expect(decodeMsdp(bytes(`${VAR}PING`))).to.deep.equal([["PING", [], {}]]);
      expect(decodeMsdp(bytes(`${VAR}PING${VAL}`))).to.deep.equal([["PING", [], {}]]);
    });

    it("several values after one VAR are all arguments", () => {
      expect(decodeMsdp(bytes(`${VAR}REPORT${VAL}HEALTH${VAL}MANA`))).to.deep.equal([["msdp_report", ["HEALTH", "MANA"], {}]]);
    });

    it("decodes nested arrays and tables", () => {
      const nested = `${VAR}ROOM${VAL}${TO}${VAR}EXITS${VAL}${TO}${VAR}n${VAL}1${VAR}s${VAL}2${TC}${VAR}TAGS${VAL}${AO}${VAL}a${VAL}${AO}${VAL}b${VAL}c${AC}${AC}${TC}`;
      expect(decodeMsdp(bytes(nested))).to.deep.equal([["ROOM", [], { EXITS: { n: "1", s: "2" }, TAGS: ["a", ["b", "c"]] }]]);
      const arrays = `${VAR}X${VAL}${AO}${VAL}${AO}${VAL}1${VAL}2${AC}${VAL}${TO}${VAR}k${VAL}v${TC}${AC}`;
      expect(decodeMsdp(bytes(arrays))).to.deep.equal([["X", [["1", "2"], { k: "v" }], {}]]);
    });

    it("decodes UTF-8 values", () => {
      expect(decodeMsdp(Buffer.concat([bytes(`${VAR}SAY${VAL}`), Buffer.from("café", "utf8")]))).to.deep.equal([["SAY", ["café"], {}]]);
    });

    it("ignores bytes before the first VAR and never throws on malformed input", () => {
      expect(decodeMsdp(bytes(`junk${VAL}${VAR}A${VAL}1`))).to.deep.equal([["A", ["1"], {}]]);
      const cases = [
        "", VAR, VAL, TO, AO, TC, AC, `${VAR}${VAL}`, `${VAR}A${VAL}${AO}`, `${VAR}A${VAL}${TO}${VAR}`, `${VAR}A${VAL}${TO}${VAR}k${VAL}`,
        `${VAR}A${VAL}${AO.repeat(50)}`, `${VAR}A${VAL}${TO.repeat(50)}`, `${VAR}A${VAL}${(AO + VAL).repeat(200)}x`,
        `${VAR}A${VAL}${(TO + VAR + "k" + VAL).repeat(200)}x`, `${AC}${TC}${VAR}A${AC}${TC}`,
      ];
      for (const c of cases) expect(() => decodeMsdp(bytes(c)), JSON.stringify(c)).to.not.throw();
      let seed = 7;
      const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
      for (let round = 0; round < 2000; round++) {
        const len = Math.floor(rand() * 64);
        const buf = Buffer.alloc(len);
        for (let i = 0; i < len; i++) buf[i] = rand() < 0.6 ? 1 + Math.floor(rand() * 6) : Math.floor(rand() * 256);
        const out = decodeMsdp(buf);
        expect(out).to.be.an("array");
        for (const t of out) {
          expect(t).to.have.length(3);
          expect(t[1]).to.be.an("array");
          expect(t[2]).to.be.an("object");
        }
      }
    });

    it("encode then decode round-trips simple values", () => {
      expect(decodeMsdp(bytes(encodeMsdp("HEALTH", ["100"], {})))).to.deep.equal([["HEALTH", ["100"], {}]]);
      expect(decodeMsdp(bytes(encodeMsdp("EXITS", ["n", "s"], {})))).to.deep.equal([["EXITS", ["n", "s"], {}]]);
      expect(decodeMsdp(bytes(encodeMsdp("ROOM", [], { name: "Hall" })))).to.deep.equal([["ROOM", [], { name: "Hall" }]]);
    });
  });
});
