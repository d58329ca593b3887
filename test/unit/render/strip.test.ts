import { expect } from "chai";
import { screenReaderText, stripMarkup, stripScreenReaderDecoration } from "../../../core/render/strip.js";

describe("stripMarkup", () => {
  const cases: ReadonlyArray<readonly [string, string]> = [
    ["plain", "plain"],
    ["|rred|n |[Bbg |500x|[=a|#ff0000|[#abc|h|H|u|U|i|I|s|S|*|^|!Rend", "red bg xend"],
    ["a|/b|-c|>d|_e", "a\nb\tc    d e"],
    ["a||b ||r", "a|b |r"],
    ["|q |", "|q |"],
    ["|lclook|lt|rLook|n here|le!", "Look here!"],
    ["|luhttps://x.example|ltsite|le", "site"],
    ["|lcfoo", "|lcfoo"],
    ["|lcfoo|ltbar", "bar"],
    ["raw \x1b[1;31mred\x1b[0m \x1b]0;title\x07done", "raw red done"],
  ];
  for (const [markup, plain] of cases) {
    it(JSON.stringify(markup), () => expect(stripMarkup(markup)).to.equal(plain));
  }
});

describe("screenReaderText (T08, T16)", () => {
  const cases: ReadonlyArray<readonly [string, string]> = [
    ["+----+", ""],
    ["+~~~~+", ""],
    ["| a  |", "| a  |"],
    ["|rRed|n +---+", "Red "],
    ["Name ==== Value", "Name  Value"],
    ["a - b", "a - b"],
    ["--help", "help"],
    ["a+b", "a+b"],
    ["x+|/y+\nz+", "x\ny\nz"],
    ["+--+--+|/| a | b |+\r\n+~~+~~+", "\n| a | b |\r\n~~"], // the regex is applied as specified: "+~" eats one "~" of each pair
    ["~ one ~ == two", "~ one ~  two"],
  ];
  for (const [markup, text] of cases) {
    it(JSON.stringify(markup), () => expect(screenReaderText(markup)).to.equal(text));
  }
  it("the filter works on plain text line by line", () => {
    expect(stripScreenReaderDecoration("a+\r\nb+\rc+")).to.equal("a\r\nb\rc");
  });
});
