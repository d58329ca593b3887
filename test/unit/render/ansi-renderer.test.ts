import { expect } from "chai";
import {
  ansiCacheStats, clearAnsiCache, configureAnsiCache, DEFAULT_ANSI_CACHE_ENTRIES, renderAnsi, renderAnsiLine,
  type ColourDepth,
} from "../../../core/render/ansi-renderer.js";
import { renderAnsiTokens } from "../../../core/render/ansi-renderer.js";
import { tokenizeMarkup } from "../../../core/render/markup-tokenizer.js";

/** The full path (tokenizer and renderer, no fast path) at depth none, as the oracle for plain text. */
const renderAnsiTokensPlain = (text: string) => renderAnsiTokens(tokenizeMarkup(text), { depth: "none" });

const E = "\x1b[";
const DEPTHS: readonly ColourDepth[] = ["truecolor", "xterm256", "ansi16", "none"];

/** [markup, truecolor, xterm256, ansi16, none]; a single string after the markup means "same at every colour depth". */
type Vector = readonly [string, string, string, string, string];

const same = (markup: string, coloured: string, none = ""): Vector => [markup, coloured, coloured, coloured, none];

const FORMAT_VECTORS: readonly Vector[] = [
  same("|n", `${E}0m`),
  same("|/", "\r\n", "\r\n"),
  same("|-", "\t", "\t"),
  same("|>", "    ", "    "),
  same("|_", " ", " "),
  same("|*", `${E}7m`),
  same("|^", `${E}5m`),
  same("|u", `${E}4m`),
  same("|U", `${E}24m`),
  same("|i", `${E}3m`),
  same("|I", `${E}23m`),
  same("|s", `${E}9m`),
  same("|S", `${E}29m`),
  same("|h", `${E}1m`),
  same("|H", `${E}22m`),
];

const LETTERS = ["x", "r", "g", "y", "b", "m", "c", "w"] as const;

const COLOUR16_VECTORS: readonly Vector[] = LETTERS.flatMap((letter, n) => {
  const upper = letter.toUpperCase();
  return [
    same(`|${letter}`, `${E}1m${E}3${n}m`),
    same(`|${upper}`, `${E}22m${E}3${n}m`),
    same(`|!${upper}`, `${E}3${n}m`),
    same(`|[${upper}`, `${E}4${n}m`),
  ];
});

/** Bright backgrounds are xterm tags: |[r ⇒ |[500 … |[x ⇒ |[222. At ansi16 they fall back to the basic background. */
const BRIGHT_BG_VECTORS: readonly Vector[] = [
  ["|[r", `${E}48;5;196m`, `${E}48;5;196m`, `${E}41m`, ""],
  ["|[g", `${E}48;5;46m`, `${E}48;5;46m`, `${E}42m`, ""],
  ["|[y", `${E}48;5;226m`, `${E}48;5;226m`, `${E}43m`, ""],
  ["|[b", `${E}48;5;21m`, `${E}48;5;21m`, `${E}44m`, ""],
  ["|[m", `${E}48;5;201m`, `${E}48;5;201m`, `${E}45m`, ""],
  ["|[c", `${E}48;5;51m`, `${E}48;5;51m`, `${E}46m`, ""],
  ["|[w", `${E}48;5;231m`, `${E}48;5;231m`, `${E}47m`, ""],
  ["|[x", `${E}48;5;102m`, `${E}48;5;102m`, `${E}40m`, ""],
];

const XTERM_VECTORS: readonly Vector[] = [
  ["|500", `${E}38;5;196m`, `${E}38;5;196m`, `${E}1m${E}31m`, ""],
  ["|300", `${E}38;5;124m`, `${E}38;5;124m`, `${E}22m${E}31m`, ""],
  ["|050", `${E}38;5;46m`, `${E}38;5;46m`, `${E}1m${E}32m`, ""],
  ["|003", `${E}38;5;19m`, `${E}38;5;19m`, `${E}22m${E}34m`, ""],
  ["|000", `${E}38;5;16m`, `${E}38;5;16m`, `${E}22m${E}30m`, ""],
  ["|555", `${E}38;5;231m`, `${E}38;5;231m`, `${E}1m${E}37m`, ""],
  ["|333", `${E}38;5;145m`, `${E}38;5;145m`, `${E}22m${E}37m`, ""],
  ["|[500", `${E}48;5;196m`, `${E}48;5;196m`, `${E}41m`, ""],
  ["|[012", `${E}48;5;24m`, `${E}48;5;24m`, `${E}46m`, ""], // (0,95,135) is nearest teal
  // greyscale: a ⇒ 16, z ⇒ 231, b..y ⇒ 134 + char code (232..255)
  ["|=a", `${E}38;5;16m`, `${E}38;5;16m`, `${E}22m${E}30m`, ""],
  ["|=b", `${E}38;5;232m`, `${E}38;5;232m`, `${E}22m${E}30m`, ""],
  ["|=m", `${E}38;5;243m`, `${E}38;5;243m`, `${E}1m${E}30m`, ""],
  ["|=y", `${E}38;5;255m`, `${E}38;5;255m`, `${E}1m${E}37m`, ""],
  ["|=z", `${E}38;5;231m`, `${E}38;5;231m`, `${E}1m${E}37m`, ""],
  ["|[=m", `${E}48;5;243m`, `${E}48;5;243m`, `${E}40m`, ""],
  ["|[=z", `${E}48;5;231m`, `${E}48;5;231m`, `${E}47m`, ""],
];

const TRUECOLOR_VECTORS: readonly Vector[] = [
  ["|#ff0000", `${E}38;2;255;0;0m`, `${E}38;5;196m`, `${E}1m${E}31m`, ""],
  ["|#f00", `${E}38;2;255;0;0m`, `${E}38;5;196m`, `${E}1m${E}31m`, ""],
  ["|#FF8000", `${E}38;2;255;128;0m`, `${E}38;5;208m`, `${E}1m${E}33m`, ""], // orange ⇒ 208 ⇒ bright yellow
  ["|#808080", `${E}38;2;128;128;128m`, `${E}38;5;244m`, `${E}1m${E}30m`, ""],
  ["|#ABCDEF", `${E}38;2;171;205;239m`, `${E}38;5;153m`, `${E}22m${E}37m`, ""],
  ["|[#0000ff", `${E}48;2;0;0;255m`, `${E}48;5;21m`, `${E}44m`, ""],
  ["|[#0f0", `${E}48;2;0;255;0m`, `${E}48;5;46m`, `${E}42m`, ""],
];

function runVectors(title: string, vectors: readonly Vector[]): void {
  describe(title, () => {
    for (const [markup, ...expected] of vectors) {
      DEPTHS.forEach((depth, i) => {
        it(`${JSON.stringify(markup)} at ${depth}`, () => {
          expect(renderAnsi(`${markup}x`, { depth })).to.equal(`${expected[i]!}x`);
        });
      });
    }
  });
}

describe("renderAnsi", () => {
  runVectors("formatting codes", FORMAT_VECTORS);
  runVectors("16-colour codes", COLOUR16_VECTORS);
  runVectors("bright backgrounds", BRIGHT_BG_VECTORS);
  runVectors("xterm256 and greyscale", XTERM_VECTORS);
  runVectors("truecolor", TRUECOLOR_VECTORS);

  describe("T09 examples", () => {
    it("truecolor assumed: |#ff0000x ⇒ ESC[38;2;255;0;0mx", () => {
      expect(renderAnsi("|#ff0000x", { depth: "truecolor" })).to.equal("\x1b[38;2;255;0;0mx");
    });
    it("ANSI-only client: |500x ⇒ ESC[1mESC[31mx", () => {
      expect(renderAnsi("|500x", { depth: "ansi16" })).to.equal("\x1b[1m\x1b[31mx");
    });
  });

  describe("escapes, unknown codes and composition", () => {
    const cases: ReadonlyArray<readonly [string, string]> = [
      ["a||b", "a|b"],
      ["||r", "|r"],
      ["|||r", `|${E}1m${E}31m`],
      ["|||", "||"],
      ["|", "|"],
      ["end|", "end|"],
      ["|q|z|!r|!|[z|[|=A|=|#|#gg|56x|567|lx", "|q|z|!r|!|[z|[|=A|=|#|#gg|56x|567|lx"],
      ["|#12345g", `${E}38;2;17;34;51m45g`],
      ["|5005", `${E}38;5;196m5`],
      ["|r|[B|uX|n", `${E}1m${E}31m${E}44m${E}4mX${E}0m`],
      ["|h|!Gbold|Hplain", `${E}1m${E}32mbold${E}22mplain`],
      ["a|/b|/|/c", "a\r\nb\r\n\r\nc"],
      ["|le|lt stray", "|le|lt stray"],
      ["raw \x1b[31mkept", "raw \x1b[31mkept"],
    ];
    for (const [markup, expected] of cases) {
      it(`${JSON.stringify(markup)}`, () => {
        expect(renderAnsi(markup, { depth: "truecolor" })).to.equal(expected);
      });
    }
    it("depth none strips colour codes and raw escapes but keeps text and whitespace codes", () => {
      expect(renderAnsi("|r|[#123456|=c|*Hi|n|/\x1b[31mthere|_|-", { depth: "none" })).to.equal("Hi\r\nthere \t");
    });
    it("adjacent xterm codes downgrade independently at ansi16", () => {
      expect(renderAnsi("|500|[005|050x", { depth: "ansi16" })).to.equal(`${E}1m${E}31m${E}44m${E}1m${E}32mx`);
    });
  });

  describe("MXP links", () => {
    const cmd = "|lclook north|ltGo |rnorth|n|le!";
    it("command link with MXP on (every depth)", () => {
      for (const depth of DEPTHS) {
        const colour = depth === "none" ? "" : `${E}1m${E}31m`;
        const reset = depth === "none" ? "" : `${E}0m`;
        expect(renderAnsi(cmd, { depth, mxp: true })).to.equal(
          `\x1b[4z<SEND HREF="look north">Go ${colour}north${reset}\x1b[4z</SEND>!`,
        );
      }
    });
    it("command link with MXP off is just the label", () => {
      expect(renderAnsi(cmd, { depth: "none" })).to.equal("Go north!");
      expect(renderAnsi(cmd, { depth: "ansi16", mxp: false })).to.equal(`Go ${E}1m${E}31mnorth${E}0m!`);
    });
    it("url link with MXP on escapes & < > \" in attribute and label", () => {
      expect(renderAnsi('|luhttps://a.example/?x=1&y="2"<3>|lt<A & "B">|le', { depth: "none", mxp: true })).to.equal(
        '\x1b[4z<A HREF="https://a.example/?x=1&amp;y=&quot;2&quot;&lt;3&gt;">&lt;A &amp; &quot;B&quot;&gt;\x1b[4z</A>',
      );
    });
    it("url link with MXP off is just the label, unescaped", () => {
      expect(renderAnsi("|luhttps://x.example|lt<site>|le", { depth: "none" })).to.equal("<site>");
    });
    it("text outside links is not escaped even with MXP on", () => {
      expect(renderAnsi("a <b> & c", { depth: "truecolor", mxp: true })).to.equal("a <b> & c");
    });
    it("|| inside a target is a literal pipe; control characters are dropped from the attribute", () => {
      expect(renderAnsi("|lcsay a||b\r\n|ltx|le", { depth: "none", mxp: true })).to.equal(
        '\x1b[4z<SEND HREF="say a|b">x\x1b[4z</SEND>',
      );
    });
    it("an unterminated label is closed at the end of the markup", () => {
      expect(renderAnsi("|lcfoo|ltbar", { depth: "none", mxp: true })).to.equal('\x1b[4z<SEND HREF="foo">bar\x1b[4z</SEND>');
      expect(renderAnsi("|lcfoo|ltbar", { depth: "none" })).to.equal("bar");
    });
    it("a link start without |lt is literal text", () => {
      expect(renderAnsi("|lcfoo", { depth: "none", mxp: true })).to.equal("|lcfoo");
      expect(renderAnsi("|lcfoo|le|ltbar", { depth: "none", mxp: true })).to.equal("|lcfoo|le|ltbar");
      expect(renderAnsi("|lu", { depth: "none", mxp: true })).to.equal("|lu");
    });
    it("links do not nest", () => {
      expect(renderAnsi("|lca|lt|lcb|ltx|le|le", { depth: "none", mxp: true })).to.equal(
        '\x1b[4z<SEND HREF="a">|lcb|ltx\x1b[4z</SEND>|le',
      );
    });
    it("empty target and label", () => {
      expect(renderAnsi("|lc|lt|le", { depth: "none", mxp: true })).to.equal('\x1b[4z<SEND HREF="">\x1b[4z</SEND>');
    });
  });

  describe("renderAnsiLine (T14)", () => {
    it("appends exactly one ESC[0m when colour is on", () => {
      expect(renderAnsiLine("hi", { depth: "ansi16" })).to.equal(`hi${E}0m`);
      expect(renderAnsiLine("|rhi|n", { depth: "xterm256" })).to.equal(`${E}1m${E}31mhi${E}0m`);
      expect(renderAnsiLine("", { depth: "truecolor" })).to.equal(`${E}0m`);
      expect(renderAnsiLine("a|/b", { depth: "truecolor" })).to.equal(`a\r\nb${E}0m`);
    });
    it("appends nothing without colour, and never a line ending", () => {
      expect(renderAnsiLine("|rhi|n", { depth: "none" })).to.equal("hi");
      expect(renderAnsiLine("", { depth: "none" })).to.equal("");
    });
    it("a literal ||n at the end is text, not a reset", () => {
      expect(renderAnsiLine("a||n", { depth: "ansi16" })).to.equal(`a|n${E}0m`);
    });
  });

  describe("cache", () => {
    afterEach(() => {
      configureAnsiCache({ maxEntries: DEFAULT_ANSI_CACHE_ENTRIES, maxMarkupLength: 4096 });
      clearAnsiCache();
    });
    it("defaults to 10 000 entries and is keyed by depth and mxp", () => {
      clearAnsiCache();
      expect(ansiCacheStats().maxEntries).to.equal(10_000);
      const markup = "|lcx|lt|#ff0000y|le";
      const outputs = DEPTHS.flatMap((depth) => [false, true].map((mxp) => renderAnsi(markup, { depth, mxp })));
      expect(new Set(outputs).size).to.equal(8);
      expect(ansiCacheStats().entries).to.equal(8);
      // second pass is served from the cache and returns the same strings
      const again = DEPTHS.flatMap((depth) => [false, true].map((mxp) => renderAnsi(markup, { depth, mxp })));
      expect(again).to.deep.equal(outputs);
      expect(ansiCacheStats().entries).to.equal(8);
    });
    it("is bounded and configurable", () => {
      configureAnsiCache({ maxEntries: 3 });
      clearAnsiCache();
      for (let i = 0; i < 10; i++) renderAnsi(`|r${i}`, { depth: "ansi16" });
      expect(ansiCacheStats().entries).to.equal(3);
      configureAnsiCache({ maxEntries: 0 });
      expect(ansiCacheStats().entries).to.equal(0);
      expect(renderAnsi("|rz", { depth: "ansi16" })).to.equal(`${E}1m${E}31mz`);
      expect(ansiCacheStats().entries).to.equal(0);
    });
    it("does not cache very long markup", () => {
      configureAnsiCache({ maxMarkupLength: 10 });
      clearAnsiCache();
      renderAnsi("|r" + "x".repeat(20), { depth: "ansi16" });
      expect(ansiCacheStats().entries).to.equal(0);
      renderAnsi("|rshort", { depth: "ansi16" });
      expect(ansiCacheStats().entries).to.equal(1);
    });
    it("passes text without markup through uncached (one-off lines do not evict useful entries), escapes still stripped at depth none", () => {
      clearAnsiCache();
      renderAnsi("|rred", { depth: "ansi16" });
      for (let i = 0; i < 100; i++) expect(renderAnsi(`echo: hello ${i}`, { depth: "truecolor" })).to.equal(`echo: hello ${i}`);
      expect(renderAnsi(`plain ${E}31mx`, { depth: "none" })).to.equal(renderAnsiTokensPlain(`plain ${E}31mx`)).and.not.include("\x1b");
      expect(renderAnsiLine("plain", { depth: "ansi16" })).to.equal(`plain${E}0m`);
      expect(ansiCacheStats().entries).to.equal(1);
    });
    it("rejects invalid sizes", () => {
      expect(() => configureAnsiCache({ maxEntries: -1 })).to.throw(RangeError);
      expect(() => configureAnsiCache({ maxMarkupLength: 1.5 })).to.throw(RangeError);
    });
  });
});
