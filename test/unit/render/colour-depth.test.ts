import { expect } from "chai";
import { colourDepthFor, flagValue } from "../../../core/render/colour-depth.js";

describe("colourDepthFor (§4.1.10, T09, T16)", () => {
  const base = { raw: false, screenreader: false, mxp: false };
  const cases: ReadonlyArray<readonly [string, Record<string, unknown>, Record<string, unknown>, Record<string, unknown>]> = [
    ["no TTYPE yet ⇒ full colour", {}, {}, { depth: "truecolor" }],
    ["TTYPE false ⇒ flags ignored, full colour", { TTYPE: false, ANSI: false, XTERM256: false }, {}, { depth: "truecolor" }],
    ["TTYPE ANSI only ⇒ ansi16", { TTYPE: true, ANSI: true }, {}, { depth: "ansi16" }],
    ["TTYPE ANSI + XTERM256 ⇒ xterm256", { TTYPE: true, ANSI: true, XTERM256: true }, {}, { depth: "xterm256" }],
    ["TTYPE TRUECOLOR ⇒ truecolor", { TTYPE: true, ANSI: true, XTERM256: true, TRUECOLOR: true }, {}, { depth: "truecolor" }],
    ["TTYPE XTERM256 without ANSI ⇒ xterm256", { TTYPE: true, XTERM256: true }, {}, { depth: "xterm256" }],
    ["TTYPE with neither ANSI nor XTERM256 ⇒ none", { TTYPE: true }, {}, { depth: "none" }],
    ["TTYPE TRUECOLOR only ⇒ none (needs ansi or xterm256)", { TTYPE: true, TRUECOLOR: true }, {}, { depth: "none" }],
    ["NOCOLOR flag ⇒ none", { NOCOLOR: true }, {}, { depth: "none" }],
    ["nocolor option false beats NOCOLOR flag", { NOCOLOR: true }, { nocolor: false }, { depth: "truecolor" }],
    ["nocolor option true", { TTYPE: true, ANSI: true }, { nocolor: true }, { depth: "none" }],
    ["xterm256 option beats flag", { TTYPE: true, ANSI: true }, { xterm256: true }, { depth: "xterm256" }],
    ["truecolor option beats flag", { TTYPE: true, ANSI: true }, { truecolor: true }, { depth: "truecolor" }],
    ["options can downgrade before TTYPE", {}, { truecolor: false, xterm256: false }, { depth: "ansi16" }],
    ["ansi option false + xterm256 false ⇒ none", {}, { ansi: false, xterm256: false, truecolor: false }, { depth: "none" }],
    ["SCREENREADER flag ⇒ strip", { SCREENREADER: true }, {}, { depth: "none", screenreader: true }],
    ["screenreader option false beats flag", { SCREENREADER: true }, { screenreader: false }, { depth: "truecolor" }],
    ["RAW flag", { RAW: true }, {}, { depth: "truecolor", raw: true }],
    ["raw option false beats RAW flag", { RAW: true }, { raw: false }, { depth: "truecolor" }],
    ["MXP flag", { MXP: true }, {}, { depth: "truecolor", mxp: true }],
    ["mxp option false beats MXP flag", { MXP: true }, { mxp: false }, { depth: "truecolor" }],
    ["undefined/null options fall back to flags", { TTYPE: true, ANSI: true }, { xterm256: undefined, truecolor: null }, { depth: "ansi16" }],
    ["non-boolean values", { TTYPE: 1, ANSI: "true", XTERM256: "off", MXP: "yes" }, {}, { depth: "ansi16", mxp: true }],
  ];
  for (const [title, flags, options, expected] of cases) {
    it(title, () => expect(colourDepthFor(flags, options)).to.deep.equal({ ...base, ...expected }));
  }

  it("flagValue", () => {
    expect(flagValue(undefined)).to.equal(undefined);
    expect(flagValue(null)).to.equal(undefined);
    expect([true, 1, "TRUE", " on ", "1", "yes", {}].map(flagValue)).to.deep.equal([true, true, true, true, true, true, true]);
    expect([false, 0, Number.NaN, "false", "", "no", "0", "off"].map(flagValue)).to.deep.equal(Array(8).fill(false));
  });
});
