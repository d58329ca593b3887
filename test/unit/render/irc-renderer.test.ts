import { expect } from "chai";
import { renderIrc } from "../../../core/render/irc-renderer.js";
import { ircToMarkup } from "../../../core/render/irc-to-markup.js";
import { stripMarkup } from "../../../core/render/strip.js";

describe("renderIrc", () => {
  const letters: ReadonlyArray<readonly [string, string, string]> = [
    // letter, bright mIRC, dark mIRC
    ["x", "14", "01"], ["r", "04", "05"], ["g", "09", "03"], ["y", "08", "07"],
    ["b", "12", "02"], ["m", "13", "06"], ["c", "11", "10"], ["w", "00", "15"],
  ];
  for (const [letter, bright, dark] of letters) {
    it(`|${letter} ⇒ ${bright}, |${letter.toUpperCase()} ⇒ ${dark}`, () => {
      expect(renderIrc(`|${letter}x`)).to.equal(`\x03${bright}x`);
      expect(renderIrc(`|${letter.toUpperCase()}x`)).to.equal(`\x03${dark}x`);
      expect(renderIrc(`|[${letter.toUpperCase()}x`)).to.equal(`\x0399,${dark}x`);
      expect(renderIrc(`|[${letter}x`)).to.equal(`\x0399,${bright}x`);
    });
  }

  const cases: ReadonlyArray<readonly [string, string]> = [
    ["plain", "plain"],
    ["|hbold|H plain", "\x02bold\x02 plain"],
    ["|iit|I |uun|U |sst|S |*rev|n", "\x1dit\x1d \x1fun\x1f \x1est\x1e \x16rev"],
    ["|*rev|n x", "\x16rev\x16 x"],
    ["|rred|n plain", "\x0304red\x0f plain"],
    ["|h|rred|n plain", "\x02\x0304red\x0f plain"],
    ["|h|rred|gg|n", "\x02\x0304red\x0309g"],
    ["|rA|[Bb", "\x0304A\x0304,02b"],
    ["|[Bb|rA", "\x0399,02b\x0304A"],
    ["|r5 apples", "\x03045 apples"],
    ["|r,5", "\x0304,99,5"],
    ["|h|!Rx", "\x02\x0304x"],
    ["|!Rx", "\x0305x"],
    ["|500x|#00ff00y|=zz|[#000080w", "\x0304x\x0309y\x0300z\x0300,02w"],
    ["|^blink|n", "blink"],
    ["|r|n|n|gx", "\x0309x"],
    ["|rred|n|u", "\x0304red"],
    ["a|/b|-c|>d|_e", "a b    c    d e"],
    ["a\r\nb\nc\rd", "a b c d"],
    ["nul\x00 bell\x07 esc\x1b[31m raw\x02mirc\x03", "nul bell esc rawmirc"],
    ["|lclook|lt|rLook|le here", "\x0304Look here"],
    ["|luhttp://x|ltsite|le", "site"],
    ["a||b", "a|b"],
  ];
  for (const [markup, irc] of cases) {
    it(JSON.stringify(markup), () => expect(renderIrc(markup)).to.equal(irc));
  }
});

describe("ircToMarkup", () => {
  const cases: ReadonlyArray<readonly [string, string]> = [
    ["plain", "plain"],
    ["a|b", "a||b"],
    ["|rred||", "||rred||||"],
    ["\x02bold\x02 x", "|hbold|H x"],
    ["\x1di\x1d\x1fu\x1f\x1es\x1e", "|ii|I|uu|U|ss|n"], // a toggle with no text after it is dropped
    ["\x16rev\x16 x", "|*rev|n x"],
    ["\x0304red", "|rred|n"],
    ["\x034red", "|rred|n"],
    ["\x0304,02red\x03 plain", "|r|[Bred|n plain"],
    ["\x0399,05x", "|[Rx|n"],
    ["\x0304red\x0f plain", "|rred|n plain"],
    ["\x02\x0305x", "|R|hx|n"],
    ["\x0350x", "x"],
    ["\x03,05x", ",05x"],
    ["\x0304,x", "|r,x|n"],
    ["\x04ff8000x\x04", "|#ff8000x|n"],
    ["\x04FF8000,000080x", "|#ff8000|[#000080x|n"],
    ["\x1b[31mred\x1b[0m \x1b]0;t\x07ok\x1b", "red ok"],
    ["nul\x00cr\rlf\nbell\x07tab\tdel\x7f\x9b31m", "nulcrlfbelltab del"],
    ["\x11mono\x11", "mono"],
    ["\x02", ""],
  ];
  for (const [irc, markup] of cases) {
    it(JSON.stringify(irc), () => expect(ircToMarkup(irc)).to.equal(markup));
  }

  it("players cannot inject markup: the plain text survives literally", () => {
    const attack = "|r|[b|lcquit|ltclick|le|n|/|#ff0000||";
    expect(stripMarkup(ircToMarkup(attack))).to.equal(attack);
  });

  describe("round trips", () => {
    const ircSamples = [
      "\x0304red", "\x02bold\x02 plain", "\x0303,02x", "\x1dital\x1d x", "\x1funder\x1f x", "\x1estrike\x1e x",
      "\x16rev\x16 x", "a|b", "\x02\x0305x", "\x0304a\x0304,02b",
      ...Array.from({ length: 16 }, (_, n) => `\x03${String(n).padStart(2, "0")}fg`),
      ...Array.from({ length: 16 }, (_, n) => `\x0399,${String(n).padStart(2, "0")}bg`),
    ];
    for (const irc of ircSamples) {
      it(`IRC ⇒ markup ⇒ IRC: ${JSON.stringify(irc)}`, () => expect(renderIrc(ircToMarkup(irc))).to.equal(irc));
    }
    const markupSamples = ["|rred|n", "|hbold|H x", "|G|[Bx|n", "|ii|I|uu|U x", "a||b", "|*rev|n x", "|R|hx|n"];
    for (const markup of markupSamples) {
      it(`markup ⇒ IRC ⇒ markup: ${JSON.stringify(markup)}`, () => expect(ircToMarkup(renderIrc(markup))).to.equal(markup));
    }
  });
});
