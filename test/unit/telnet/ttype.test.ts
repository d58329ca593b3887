import { expect } from "chai";
import { MTTS_BITS, TtypeOption, capabilitiesFromName } from "../../../plugins/telnet/options/ttype.js";
import { recordingContext } from "./option-fixture.js";

const IS = (s: string) => Buffer.concat([Buffer.from([0]), Buffer.from(s, "latin1")]);

describe("TTYPE / MTTS", () => {
  describe("client-name rules (T07 table)", () => {
    const table: [string, boolean, boolean][] = [
      // name, xterm256, truecolor
      ["XTERM", true, false],
      ["XTERM-256COLOR", true, false],
      ["SCREEN-256COLOR", true, false],
      ["ATLANTIS", true, false],
      ["CMUD", true, false],
      ["KILDCLIENT", true, false],
      ["MUDLET", true, false],
      ["MUSHCLIENT", true, false],
      ["PUTTY", true, false],
      ["BEIP", true, false],
      ["POTATO", true, false],
      ["TINYFUGUE", true, false],
      ["MUDLET 1.1", true, false],
      ["MUDLET 4.17.2", true, false],
      ["MUDLET 1.0", false, false],
      ["XTERM-TRUECOLOR", true, true],
      ["FOO-TRUECOLOR", true, true],
      ["AXMUD", true, true],
      ["TINTIN", true, true],
      ["ANSI", false, false],
      ["VT100", false, false],
      ["UNKNOWN", false, false],
      ["DUMB", false, false],
      ["MUSHCLIENTX", false, false],
    ];
    for (const [name, xterm256, truecolor] of table) {
      it(`${name} ⇒ xterm256 ${xterm256}, truecolor ${truecolor}`, () => {
        expect(capabilitiesFromName(name)).to.deep.equal({ xterm256, truecolor });
      });
    }
  });

  it("has the MTTS bit table", () => {
    expect(Object.fromEntries(MTTS_BITS.map(([bit, flag]) => [flag, bit]))).to.deep.equal({
      ANSI: 1, VT100: 2, "UTF-8": 4, XTERM256: 8, MOUSE_TRACKING: 16, OSC_COLOR_PALETTE: 32, SCREENREADER: 64, PROXY: 128,
      TRUECOLOR: 256, MNES: 512, MSLP: 1024, SSL: 2048,
    });
  });

  describe("three-step cycle", () => {
    function start() {
      const ctx = recordingContext();
      const opt = new TtypeOption(ctx);
      opt.offer();
      return { ctx, opt };
    }

    it("MUDLET / XTERM / MTTS 137 ⇒ CLIENTNAME, TERM, XTERM256, PROXY, ANSI, TTYPE (spec example)", () => {
      const { ctx, opt } = start();
      expect(ctx.written).to.deep.equal(["DO 24"]);
      opt.handleWill();
      expect(ctx.subnegotiations.map((s) => [s.code, [...s.payload]])).to.deep.equal([[24, [1]]]);
      expect(opt.holdsHandshake).to.equal(true);
      opt.subnegotiation(IS("Mudlet"));
      expect(ctx.flags.CLIENTNAME).to.equal("MUDLET");
      opt.subnegotiation(IS("xterm"));
      expect(ctx.flags.TERM).to.equal("xterm");
      expect(ctx.done).to.deep.equal([]);
      opt.subnegotiation(IS("MTTS 137"));
      expect(ctx.subnegotiations).to.have.length(3);
      expect(ctx.flags).to.include({ CLIENTNAME: "MUDLET", TERM: "xterm", XTERM256: true, PROXY: true, ANSI: true, TTYPE: true });
      expect(ctx.flags.SCREENREADER).to.equal(undefined);
      expect(ctx.done).to.deep.equal([24]);
      expect(opt.holdsHandshake).to.equal(false);
      // The option's enabling marks flags changed (a late agreement resyncs the game), and the cycle's end marks them
      // again before the handshake part ends, so a handshake ended by TTYPE resyncs once (the session debounces).
      expect(ctx.calls).to.deep.equal(["flagsChanged", "flagsChanged", "handshakeDone 24"]);
      // Late answers change nothing.
      opt.subnegotiation(IS("MTTS 64"));
      expect(ctx.flags.SCREENREADER).to.equal(undefined);
      expect(ctx.done).to.deep.equal([24]);
    });

    it("a repeated answer ends the cycle early", () => {
      const { ctx, opt } = start();
      opt.handleWill();
      opt.subnegotiation(IS("ANSI"));
      opt.subnegotiation(IS("ANSI"));
      expect(ctx.done).to.deep.equal([24]);
      expect(ctx.flags).to.include({ CLIENTNAME: "ANSI", ANSI: true, XTERM256: false, TRUECOLOR: false, TTYPE: true });
      expect(ctx.subnegotiations).to.have.length(2);
    });

    it("MTTS 64 sets SCREENREADER; 256 sets TRUECOLOR", () => {
      const { ctx, opt } = start();
      opt.handleWill();
      for (const s of ["SOMECLIENT", "VT100", "MTTS 321"]) opt.subnegotiation(IS(s));
      expect(ctx.flags).to.include({ SCREENREADER: true, TRUECOLOR: true, ANSI: true, TTYPE: true });
    });

    it("WONT TTYPE ⇒ TTYPE false and the handshake part is done", () => {
      const { ctx, opt } = start();
      opt.handleWont();
      expect(ctx.flags.TTYPE).to.equal(false);
      expect(ctx.done).to.deep.equal([24]);
    });

    it("an empty or junk answer is UNKNOWN and never throws", () => {
      const { ctx, opt } = start();
      opt.handleWill();
      opt.subnegotiation(Buffer.from([0]));
      expect(ctx.flags.CLIENTNAME).to.equal("UNKNOWN");
      opt.subnegotiation(Buffer.alloc(0));
      opt.subnegotiation(Buffer.from([1, 2, 3]));
      opt.subnegotiation(Buffer.concat([Buffer.from([0]), Buffer.alloc(5000, 0x41)]));
      expect(String(ctx.flags.TERM).length).to.be.at.most(64);
    });

    it("a MUDLET name after a refused SGA keeps GA for prompts only (T05)", () => {
      const ctx = recordingContext({}, { NOGOAHEAD: false, NOPROMPTGOAHEAD: false });
      const opt = new TtypeOption(ctx);
      opt.offer();
      opt.handleWill();
      opt.subnegotiation(IS("MUDLET"));
      expect(ctx.flags).to.include({ NOGOAHEAD: true, NOPROMPTGOAHEAD: false });
    });
  });
});
