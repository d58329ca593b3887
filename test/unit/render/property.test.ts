import { expect } from "chai";
import { renderAnsi, renderAnsiLine, type ColourDepth } from "../../../core/render/ansi-renderer.js";
import { renderHtml } from "../../../core/render/html-renderer.js";
import { renderIrc } from "../../../core/render/irc-renderer.js";
import { ircToMarkup } from "../../../core/render/irc-to-markup.js";
import { screenReaderText, stripMarkup } from "../../../core/render/strip.js";
import { prng } from "../../support/prng.js";

const pick = <T>(rand: () => number, items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;

const DEPTHS: readonly ColourDepth[] = ["truecolor", "xterm256", "ansi16", "none"];
const SGR = /\x1b\[[0-9;]*m/g;
const IRC_CODES = /\x03(\d{1,2}(,\d{1,2})?)?|[\x02\x0f\x16\x1d\x1e\x1f]/g;

/** Fragments that stress the tokenizer: partial codes, controls, escapes, surrogate pairs. */
const RAW_ALPHABET = [
  "|", "|", "|", "||", "|l", "|lc", "|lu", "|lt", "|le", "|[", "|#", "|=", "|!", "r", "R", "[", "#", "=", "!", "5", "0",
  "a", "f", "F", "z", "/", "-", ">", "_", "*", "^", "n", " ", "<", ">", "&", '"', "'", "\n", "\r", "\t", "\x00",
  "\x1b", "\x1b[31m", "\x1b]0;x\x07", "\x9b", "\x02", "\x03", "\x0304,02", "\x04", "\x7f", "é", "😀", "\ud800", "+", "~",
];

function randomRaw(rand: () => number): string {
  const length = Math.floor(rand() * 40);
  let s = "";
  for (let i = 0; i < length; i++) s += pick(rand, RAW_ALPHABET);
  return s;
}

const ALLOWED_TAG =
  /^<(?:span(?: class="[^"<>]*")?(?: style="[^"<>]*")?|span class="mxp-send" data-command="[^"<>]*"|a href="[^"<>]*" target="_blank" rel="noopener noreferrer"|\/span|\/a|br)>$/;

/** Every tag is one the renderer emits, tags balance, and no stray < or > reaches the output. */
function checkHtml(html: string): void {
  const stack: string[] = [];
  for (const tag of html.match(/<[^<>]*>/g) ?? []) {
    expect(tag).to.match(ALLOWED_TAG);
    if (tag === "<br>") continue;
    if (tag.startsWith("</")) expect(stack.pop()).to.equal(tag.slice(2, -1));
    else stack.push(tag.startsWith("<a ") ? "a" : "span");
  }
  expect(stack).to.deep.equal([]);
  expect(html.replace(/<[^<>]*>/g, "")).to.not.match(/[<>\x00-\x08\x0b-\x1f\x7f]/);
}

function checkIrc(irc: string): void {
  expect(irc).to.not.match(/[\r\n\x00\x1b\x9b]/);
  expect(irc.replace(/[\x02\x03\x0f\x16\x1d\x1e\x1f]/g, "")).to.not.match(/[\x00-\x1f\x7f-\x9f]/);
}

describe("property: random raw markup (2 000 strings)", () => {
  const rand = prng(0x5eed);
  const samples = Array.from({ length: 2000 }, () => randomRaw(rand));

  it("no renderer throws", () => {
    for (const s of samples) {
      for (const depth of DEPTHS) {
        renderAnsi(s, { depth });
        renderAnsi(s, { depth, mxp: true });
        renderAnsiLine(s, { depth, mxp: true });
      }
      renderHtml(s);
      renderHtml(s, { nocolor: true });
      renderIrc(s);
      ircToMarkup(s);
      screenReaderText(s);
    }
  });

  it("stripMarkup never contains ESC, and agrees with the colourless ANSI text", () => {
    for (const s of samples) {
      const plain = stripMarkup(s);
      expect(plain, JSON.stringify(s)).to.not.match(/[\x1b\x9b]/);
      // |/ is CR LF in ANSI and LF in plain text; compare with CRs removed
      expect(renderAnsi(s, { depth: "none" }).replace(/\r/g, ""), JSON.stringify(s)).to.equal(plain.replace(/\r/g, ""));
    }
  });

  it("HTML output is well formed and fully escaped", () => {
    for (const s of samples) {
      checkHtml(renderHtml(s));
      checkHtml(renderHtml(s, { nocolor: true }));
    }
  });

  it("IRC output never contains CR, LF, NUL, ESC or non-mIRC controls", () => {
    for (const s of samples) {
      checkIrc(renderIrc(s));
      checkIrc(renderIrc(ircToMarkup(s)));
    }
  });

  it("ircToMarkup output contains no control characters or escapes", () => {
    for (const s of samples) expect(ircToMarkup(s), JSON.stringify(s)).to.not.match(/[\x00-\x1f\x7f-\x9f]/);
  });
});

/** [markup, plain text it must strip to]. Codes strip to nothing; escapes and whitespace codes to their text. */
const STYLE_CODES = [
  "|n", "|h", "|H", "|u", "|U", "|i", "|I", "|s", "|S", "|*", "|^", "|r", "|G", "|!B", "|[M", "|[c", "|123",
  "|[450", "|=q", "|[=b", "|#a0b1c2", "|[#FFEEDD", "|#abc|n",
];
const TEXT_PIECES: ReadonlyArray<readonly [string, string]> = [
  ["a", "a"], ["Z", "Z"], [" ", " "], ["<", "<"], [">", ">"], ["&", "&"], ['"', '"'], ["'", "'"], ["é", "é"],
  ["😀", "😀"], ["5", "5"], ["#", "#"], ["[", "["], ["=", "="], ["!", "!"], ["x", "x"], ["+", "+"], ["-", "-"],
  ["||", "|"], ["|/", "\n"], ["|-", "\t"], ["|>", "    "], ["|_", " "],
];

function structured(rand: () => number, allowLinks: boolean): [string, string] {
  let markup = "";
  let plain = "";
  const count = Math.floor(rand() * 25);
  for (let i = 0; i < count; i++) {
    const roll = rand();
    if (roll < 0.35) {
      markup += pick(rand, STYLE_CODES);
    } else if (roll < 0.9 || !allowLinks) {
      const [m, p] = pick(rand, TEXT_PIECES);
      markup += m;
      plain += p;
    } else {
      const [label, labelPlain] = structured(rand, false);
      const target = Array.from({ length: Math.floor(rand() * 6) }, () => pick(rand, ["a", " ", "<", '"', "&", "||"])).join("");
      markup += `${pick(rand, ["|lc", "|lu"])}${target}|lt${label}|le`;
      plain += labelPlain;
    }
  }
  return [markup, plain];
}

describe("property: structured markup (1 000 strings) strips to exactly its text", () => {
  const rand = prng(0xc0105);
  const samples = Array.from({ length: 1000 }, () => structured(rand, true));

  it("stripMarkup leaves only the text (no codes survive except escaped pipes)", () => {
    for (const [markup, plain] of samples) expect(stripMarkup(markup), markup).to.equal(plain);
  });

  it("ANSI at every depth is the same text plus SGR sequences", () => {
    for (const [markup, plain] of samples) {
      const text = plain.replace(/\n/g, "\r\n");
      for (const depth of DEPTHS) expect(renderAnsi(markup, { depth }).replace(SGR, ""), markup).to.equal(text);
    }
  });

  it("IRC is the same text plus mIRC codes, and survives a round trip through ircToMarkup", () => {
    for (const [markup, plain] of samples) {
      const text = plain.replace(/\n/g, " ").replace(/\t/g, "    ");
      const irc = renderIrc(markup);
      expect(irc.replace(IRC_CODES, ""), markup).to.equal(text);
      expect(stripMarkup(ircToMarkup(irc)), markup).to.equal(text);
    }
  });

  it("HTML decodes back to the same text", () => {
    const decode = (html: string): string =>
      html.replace(/<br>/g, "\n").replace(/<[^<>]*>/g, "").replace(/&nbsp;/g, " ").replace(/&lt;/g, "<")
        .replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, "&");
    for (const [markup, plain] of samples) {
      expect(decode(renderHtml(markup)), markup).to.equal(plain.replace(/\t/g, "    "));
    }
  });
});

describe("property: IRC input cannot inject markup (1 000 messages)", () => {
  const rand = prng(0x1bc);
  const codes = [
    "\x02", "\x1d", "\x1f", "\x1e", "\x16", "\x0f", "\x11", "\x03", "\x0304", "\x034", "\x0304,02", "\x0399,5",
    "\x04", "\x04ff8000", "\x04ff8000,000000", "\x1b[31m", "\x1b[0m", "\x00", "\r\n", "\x07", "\x1b]0;t\x07",
  ];
  // text pieces never start with a digit, a comma or a hex letter, so they cannot extend a colour code
  const texts = ["|", "||", "|r", "|n|/", "|lcquit|ltY|le", "hello", " ", "<b>", "é", "😀", "|#ff0000", "x|/y", "|[R"];
  it("stripMarkup(ircToMarkup(msg)) is exactly the message's text", () => {
    for (let n = 0; n < 1000; n++) {
      let message = "";
      let text = "";
      const count = Math.floor(rand() * 20);
      for (let i = 0; i < count; i++) {
        if (rand() < 0.5) {
          message += pick(rand, codes);
        } else {
          const t = pick(rand, texts);
          message += t;
          text += t;
        }
      }
      const markup = ircToMarkup(message);
      expect(stripMarkup(markup), JSON.stringify(message)).to.equal(text);
      checkIrc(renderIrc(markup));
    }
  });
});
