import { expect } from "chai";
import { tokenizeMarkup, greyIndex, cubeIndex } from "../../../core/render/markup-tokenizer.js";
import type { MarkupToken } from "../../../core/render/markup-tokens.js";

const text = (t: string): MarkupToken => ({ kind: "text", text: t });

describe("tokenizeMarkup", () => {
  const cases: ReadonlyArray<readonly [string, MarkupToken[]]> = [
    ["", []],
    ["plain", [text("plain")]],
    ["a||b", [text("a|b")]],
    ["|-|>|_x", [text("\t     x")]],
    ["|/", [{ kind: "newline" }]],
    ["|n", [{ kind: "reset" }]],
    ["|h|H", [{ kind: "bold", on: true }, { kind: "bold", on: false }]],
    ["|u|I|s", [
      { kind: "decoration", decoration: "underline", on: true },
      { kind: "decoration", decoration: "italic", on: false },
      { kind: "decoration", decoration: "strike", on: true },
    ]],
    ["|*|^", [{ kind: "inverse" }, { kind: "blink" }]],
    ["|r|R|!R", [
      { kind: "fg16", colour: 1, brightness: "bright" },
      { kind: "fg16", colour: 1, brightness: "dark" },
      { kind: "fg16", colour: 1, brightness: "keep" },
    ]],
    ["|[X|[x", [{ kind: "bg16", colour: 0 }, { kind: "xterm", background: true, index: 102 }]],
    ["|123|[450", [{ kind: "xterm", background: false, index: 67 }, { kind: "xterm", background: true, index: 190 }]],
    ["|=a|[=b|=z", [
      { kind: "xterm", background: false, index: 16 },
      { kind: "xterm", background: true, index: 232 },
      { kind: "xterm", background: false, index: 231 },
    ]],
    ["|#0a0B0c|[#abc", [
      { kind: "rgb", background: false, r: 10, g: 11, b: 12 },
      { kind: "rgb", background: true, r: 0xaa, g: 0xbb, b: 0xcc },
    ]],
    ["|lcsay hi|ltSay|le", [
      { kind: "linkStart", link: "command", target: "say hi" }, text("Say"), { kind: "linkEnd" },
    ]],
    ["|luhttp://x|lt|rX|le", [
      { kind: "linkStart", link: "url", target: "http://x" },
      { kind: "fg16", colour: 1, brightness: "bright" }, text("X"), { kind: "linkEnd" },
    ]],
    ["|lua|r||b|lt|le", [{ kind: "linkStart", link: "url", target: "a|r|b" }, { kind: "linkEnd" }]],
    ["|lcx|lty", [{ kind: "linkStart", link: "command", target: "x" }, text("y"), { kind: "linkEnd" }]],
    ["|lcx", [text("|lcx")]],
    ["|q |", [text("|q |")]],
    ["|[|=|#|!", [text("|[|=|#|!")]],
  ];
  for (const [markup, tokens] of cases) {
    it(JSON.stringify(markup), () => {
      expect(tokenizeMarkup(markup)).to.deep.equal(tokens);
    });
  }

  it("merges adjacent text and keeps link tokens balanced", () => {
    const tokens = tokenizeMarkup("a||b|_c|lcq|ltd|lce|le|le|lt");
    expect(tokens).to.deep.equal([
      text("a|b c"), { kind: "linkStart", link: "command", target: "q" }, text("d|lce"), { kind: "linkEnd" }, text("|le|lt"),
    ]);
  });

  it("greyIndex follows the spec formula", () => {
    expect(greyIndex("a")).to.equal(16);
    expect(greyIndex("b")).to.equal(232);
    expect(greyIndex("y")).to.equal(255);
    expect(greyIndex("z")).to.equal(231);
    expect(cubeIndex(5, 5, 5)).to.equal(231);
  });
});
