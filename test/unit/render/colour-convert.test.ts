import { expect } from "chai";
import {
  hexToXterm, parseHexColour, rgbToAnsi16, rgbToHex, rgbToXterm, xtermToAnsi16, xtermToAnsi16Index, xtermToRgb,
} from "../../../core/render/colour-convert.js";

describe("colour-convert", () => {
  describe("xtermToRgb", () => {
    const table: ReadonlyArray<readonly [number, readonly number[]]> = [
      [0, [0, 0, 0]], [9, [255, 0, 0]], [15, [255, 255, 255]], [16, [0, 0, 0]], [17, [0, 0, 95]],
      [196, [255, 0, 0]], [102, [135, 135, 135]], [231, [255, 255, 255]], [232, [8, 8, 8]], [255, [238, 238, 238]],
    ];
    for (const [index, rgb] of table) it(`${index}`, () => expect(xtermToRgb(index)).to.deep.equal(rgb));
    it("clamps out-of-range input", () => {
      expect(xtermToRgb(-5)).to.deep.equal([0, 0, 0]);
      expect(xtermToRgb(999)).to.deep.equal([238, 238, 238]);
    });
  });

  describe("hex ⇒ xterm256 nearest", () => {
    const table: ReadonlyArray<readonly [string, number]> = [
      ["#000000", 16], ["#ffffff", 231], ["#ff0000", 196], ["#00ff00", 46], ["#0000ff", 21], ["#f00", 196],
      ["#808080", 244], ["#080808", 232], ["#eeeeee", 255], ["#767676", 243], ["#5f87af", 67], ["#ff8000", 208],
      ["#abcdef", 153], ["#121212", 233], ["#5f5f5f", 59], ["#606060", 59],
    ];
    for (const [hex, index] of table) it(`${hex} ⇒ ${index}`, () => expect(hexToXterm(hex)).to.equal(index));
    it("every cube and ramp colour maps to itself", () => {
      for (let i = 16; i < 256; i++) {
        const [r, g, b] = xtermToRgb(i);
        const back = rgbToXterm(r, g, b);
        // 16 ≡ black and 231 ≡ white in the cube; the ramp never duplicates a cube grey
        expect(xtermToRgb(back)).to.deep.equal([r, g, b]);
      }
    });
    it("rejects non-hex strings", () => {
      expect(hexToXterm("#12")).to.equal(undefined);
      expect(hexToXterm("zzzzzz")).to.equal(undefined);
      expect(parseHexColour("ABC")).to.deep.equal([0xaa, 0xbb, 0xcc]);
    });
  });

  describe("xterm256 ⇒ ansi16 nearest", () => {
    const table: ReadonlyArray<readonly [number, number]> = [
      [3, 3], [12, 12], [16, 0], [196, 9], [124, 1], [46, 10], [28, 2], [21, 12], [19, 4], [226, 11], [201, 13],
      [51, 14], [231, 15], [145, 7], [102, 8], [232, 0], [243, 8], [255, 15], [208, 11],
    ];
    for (const [index, ansi] of table) it(`${index} ⇒ ${ansi}`, () => expect(xtermToAnsi16Index(index)).to.equal(ansi));
    it("splits into colour and brightness", () => {
      expect(xtermToAnsi16(196)).to.deep.equal({ colour: 1, bright: true });
      expect(xtermToAnsi16(124)).to.deep.equal({ colour: 1, bright: false });
      expect(rgbToAnsi16(255, 0, 0)).to.deep.equal({ colour: 1, bright: true });
    });
  });

  it("rgbToHex", () => {
    expect(rgbToHex([255, 0, 10])).to.equal("#ff000a");
    expect(rgbToHex([300, -2, 1.6])).to.equal("#ff0002");
  });
});
