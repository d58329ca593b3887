/**
 * Single-pass tokenizer for the colour markup (spec §4.1.11, links §4.1.7).
 *
 * Rules worth knowing:
 * - `||` is a literal `|`. A `|` followed by anything that is not a known code stays literal (`|q` ⇒ `|q`,
 *   a trailing `|` ⇒ `|`).
 * - `|-` ⇒ tab, `|>` ⇒ four spaces, `|_` ⇒ one space are folded into the surrounding text token.
 * - Links: `|lc<cmd>|lt<label>|le` and `|lu<url>|lt<label>|le`. The target is taken verbatim (only `||` is
 *   unescaped) up to the first `|lt`; if a `|le` or the end of the markup comes first, the `|lc`/`|lu` is literal
 *   text. The label is ordinary markup. A label without `|le` ends at the end of the markup. Links do not nest:
 *   inside a label `|lc`, `|lu` and `|lt` are literal; outside a label `|lt` and `|le` are literal.
 */
import type { MarkupToken } from "./markup-tokens.js";

/** Letter ⇒ basic ANSI colour number (0 black .. 7 white). */
const COLOUR_LETTERS: Readonly<Record<string, number>> = { x: 0, r: 1, g: 2, y: 3, b: 4, m: 5, c: 6, w: 7 };

/** Bright backgrounds `|[r`.. are rewritten to these xterm cube coordinates (R, G, B digits 0-5). */
const BRIGHT_BG_CUBE: Readonly<Record<string, readonly [number, number, number]>> = {
  r: [5, 0, 0], g: [0, 5, 0], y: [5, 5, 0], b: [0, 0, 5], m: [5, 0, 5], c: [0, 5, 5], w: [5, 5, 5], x: [2, 2, 2],
};

/** Plain-text expansions of the whitespace codes. */
const WHITESPACE_CODES: Readonly<Record<string, string>> = { "-": "\t", ">": "    ", _: " " };

/** xterm index of the cube colour with digits r, g, b (each 0..5). */
export function cubeIndex(r: number, g: number, b: number): number {
  return 16 + 36 * r + 6 * g + b;
}

/**
 * xterm index of greyscale letter `a`..`z` as §4.1.11 defines it: `a` ⇒ 16 (cube black), `z` ⇒ 231 (cube white),
 * `b`..`y` ⇒ 134 + char code, i.e. the 24-step grey ramp 232..255.
 */
export function greyIndex(letter: string): number {
  if (letter === "a") return 16;
  if (letter === "z") return 231;
  return 134 + letter.charCodeAt(0);
}

/** Result of matching one code at a `|`: a token, literal text, or a link start with its resume point. */
interface CodeMatch {
  readonly length: number;
  readonly token?: MarkupToken;
  readonly text?: string;
}

function isCubeDigit(ch: string | undefined): boolean {
  return ch !== undefined && ch >= "0" && ch <= "5";
}

function isLowerLetter(ch: string | undefined): ch is string {
  return ch !== undefined && ch.length === 1 && ch >= "a" && ch <= "z";
}

function readHex(s: string, at: number, count: number): number | undefined {
  const slice = s.slice(at, at + count);
  return slice.length === count && /^[0-9a-fA-F]+$/.test(slice) ? parseInt(slice, 16) : undefined;
}

/** `#RRGGBB` or `#RGB` starting at `at` (which points just after the `#`). */
function matchHex(s: string, at: number, background: boolean, prefix: number): CodeMatch | undefined {
  const six = readHex(s, at, 6);
  if (six !== undefined) {
    return { length: prefix + 6, token: { kind: "rgb", background, r: six >> 16, g: (six >> 8) & 0xff, b: six & 0xff } };
  }
  const three = readHex(s, at, 3);
  if (three === undefined) return undefined;
  const expand = (nibble: number): number => nibble * 17;
  return {
    length: prefix + 3,
    token: { kind: "rgb", background, r: expand(three >> 8), g: expand((three >> 4) & 0xf), b: expand(three & 0xf) },
  };
}

/** The xterm forms shared by foreground and background: `RGB` digits and `=letter` greys. */
function matchXterm(s: string, at: number, background: boolean, prefix: number): CodeMatch | undefined {
  const c0 = s[at];
  if (isCubeDigit(c0) && isCubeDigit(s[at + 1]) && isCubeDigit(s[at + 2])) {
    const index = cubeIndex(Number(c0), Number(s[at + 1]), Number(s[at + 2]));
    return { length: prefix + 3, token: { kind: "xterm", background, index } };
  }
  const letter = s[at + 1];
  if (c0 === "=" && isLowerLetter(letter)) {
    return { length: prefix + 2, token: { kind: "xterm", background, index: greyIndex(letter) } };
  }
  if (c0 === "#") return matchHex(s, at + 1, background, prefix + 1);
  return undefined;
}

/** Codes starting `|[`: backgrounds. `at` points at the character after `[`. */
function matchBackground(s: string, at: number): CodeMatch | undefined {
  const ch = s[at];
  if (ch === undefined) return undefined;
  const lower = ch.toLowerCase();
  if (Object.hasOwn(COLOUR_LETTERS, lower)) {
    if (ch !== lower) return { length: 3, token: { kind: "bg16", colour: COLOUR_LETTERS[lower]! } };
    const [r, g, b] = BRIGHT_BG_CUBE[lower]!;
    return { length: 3, token: { kind: "xterm", background: true, index: cubeIndex(r, g, b) } };
  }
  return matchXterm(s, at, true, 2);
}

/** Match a non-link code at `bar` (the index of a `|`). */
function matchCode(s: string, bar: number): CodeMatch | undefined {
  const ch = s[bar + 1];
  if (ch === undefined) return undefined;
  switch (ch) {
    case "|": return { length: 2, text: "|" };
    case "n": return { length: 2, token: { kind: "reset" } };
    case "/": return { length: 2, token: { kind: "newline" } };
    case "*": return { length: 2, token: { kind: "inverse" } };
    case "^": return { length: 2, token: { kind: "blink" } };
    case "h": case "H": return { length: 2, token: { kind: "bold", on: ch === "h" } };
    case "u": case "U": return { length: 2, token: { kind: "decoration", decoration: "underline", on: ch === "u" } };
    case "i": case "I": return { length: 2, token: { kind: "decoration", decoration: "italic", on: ch === "i" } };
    case "s": case "S": return { length: 2, token: { kind: "decoration", decoration: "strike", on: ch === "s" } };
    case "[": return matchBackground(s, bar + 2);
    case "!": {
      const next = s[bar + 2];
      const colour = next !== undefined && next !== next.toLowerCase() ? COLOUR_LETTERS[next.toLowerCase()] : undefined;
      return colour === undefined ? undefined : { length: 3, token: { kind: "fg16", colour, brightness: "keep" } };
    }
  }
  const space = WHITESPACE_CODES[ch];
  if (space !== undefined) return { length: 2, text: space };
  const lower = ch.toLowerCase();
  const colour = COLOUR_LETTERS[lower];
  if (colour !== undefined) {
    return { length: 2, token: { kind: "fg16", colour, brightness: ch === lower ? "bright" : "dark" } };
  }
  return matchXterm(s, bar + 1, false, 1);
}

/**
 * Read a link target starting at `from` up to the next `|lt`. Returns the unescaped target and the index just
 * after `|lt`, or undefined when a `|le` or the end of the markup comes first.
 */
function readLinkTarget(s: string, from: number): { target: string; end: number } | undefined {
  let target = "";
  let at = from;
  for (;;) {
    const bar = s.indexOf("|", at);
    if (bar < 0) return undefined;
    const next = s[bar + 1];
    if (next === "|") {
      target += s.slice(at, bar) + "|";
      at = bar + 2;
    } else if (next === "l" && s[bar + 2] === "t") {
      return { target: target + s.slice(at, bar), end: bar + 3 };
    } else if (next === "l" && s[bar + 2] === "e") {
      return undefined;
    } else {
      target += s.slice(at, bar + 1);
      at = bar + 1;
    }
  }
}

/** Parse markup into tokens. Adjacent text is merged; link tokens are always balanced. Never throws. */
export function tokenizeMarkup(markup: string): MarkupToken[] {
  const out: MarkupToken[] = [];
  let text = "";
  let inLabel = false;
  const flush = (): void => {
    if (text !== "") out.push({ kind: "text", text });
    text = "";
  };
  let i = 0;
  while (i < markup.length) {
    const bar = markup.indexOf("|", i);
    if (bar < 0) {
      text += markup.slice(i);
      break;
    }
    text += markup.slice(i, bar);
    i = bar + 1; // default: the bar is literal
    if (markup[bar + 1] === "l") {
      const kind = markup[bar + 2];
      if (!inLabel && (kind === "c" || kind === "u")) {
        const link = readLinkTarget(markup, bar + 3);
        if (link !== undefined) {
          flush();
          out.push({ kind: "linkStart", link: kind === "c" ? "command" : "url", target: link.target });
          inLabel = true;
          i = link.end;
          continue;
        }
      } else if (inLabel && kind === "e") {
        flush();
        out.push({ kind: "linkEnd" });
        inLabel = false;
        i = bar + 3;
        continue;
      }
      text += "|";
      continue;
    }
    const match = matchCode(markup, bar);
    if (match === undefined) {
      text += "|";
      continue;
    }
    i = bar + match.length;
    if (match.text !== undefined) {
      text += match.text;
    } else if (match.token !== undefined) {
      flush();
      out.push(match.token);
    }
  }
  flush();
  if (inLabel) out.push({ kind: "linkEnd" });
  return out;
}
