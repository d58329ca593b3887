/**
 * Incoming IRC text ⇒ game markup, safe against injection:
 * - Every literal `|` becomes `||`, so nothing a player types on IRC can act as markup.
 * - ANSI/VT escape sequences (ESC[…), lone ESC, C1 controls and every C0 control that is not a mIRC formatting
 *   code are removed (TAB becomes a space).
 * - mIRC codes are translated: `\x02` ⇒ `|h`/`|H`, `\x1D` ⇒ `|i`/`|I`, `\x1F` ⇒ `|u`/`|U`, `\x1E` ⇒ `|s`/`|S`,
 *   `\x16` ⇒ `|*` (off via `|n` + re-applying the rest), `\x0F` ⇒ `|n`, `\x11` (monospace) dropped.
 *   `\x03FF[,BB]`: mIRC 0..15 ⇒ the matching 16-colour code (foreground `|w|X|B|G|r|R|M|Y|y|g|C|c|b|m|x|W`,
 *   background the `|[` form), 99 ⇒ default, 16..98 (the extended palette) are ignored; a bare `\x03` clears
 *   both colours. `\x04RRGGBB[,RRGGBB]` ⇒ `|#rrggbb` / `|[#rrggbb`; a bare `\x04` clears both colours.
 * - Markup is emitted only before text, and a trailing `|n` closes any formatting still open at the end so it
 *   cannot bleed into the game text that follows the relayed message.
 */
import { stripTerminalEscapes } from "./control-chars.js";
import {
  IRC_BOLD, IRC_COLOUR, IRC_DEFAULT_COLOUR, IRC_HEX_COLOUR, IRC_ITALIC, IRC_RESET, IRC_REVERSE, IRC_STRIKE,
  IRC_UNDERLINE, type IrcToggle,
} from "./irc-codes.js";

/** mIRC colour number 0..15 ⇒ markup letter (foreground `|<letter>`, background `|[<letter>`). */
const MIRC_LETTERS = ["w", "X", "B", "G", "r", "R", "M", "Y", "y", "g", "C", "c", "b", "m", "x", "W"];

/** A colour slot: a markup code suffix (e.g. "r" or "#ff8000"), or undefined for the default. */
type Slot = string | undefined;

interface MarkupState {
  fg: Slot;
  bg: Slot;
  bold: boolean;
  italic: boolean;
  underline: boolean;
  strike: boolean;
  reverse: boolean;
}

const plain = (): MarkupState => ({
  fg: undefined, bg: undefined, bold: false, italic: false, underline: false, strike: false, reverse: false,
});

const TOGGLE_CODES: ReadonlyArray<readonly [string, IrcToggle]> = [
  [IRC_BOLD, "bold"], [IRC_ITALIC, "italic"], [IRC_UNDERLINE, "underline"], [IRC_STRIKE, "strike"], [IRC_REVERSE, "reverse"],
];

const MARKUP_ON_OFF: Readonly<Record<Exclude<IrcToggle, "reverse">, readonly [string, string]>> = {
  bold: ["|h", "|H"], italic: ["|i", "|I"], underline: ["|u", "|U"], strike: ["|s", "|S"],
};

/** Parse a mIRC colour number to a slot change: a letter, undefined (default), or null (leave unchanged). */
function mircSlot(digits: string): Slot | null {
  const n = Number(digits);
  if (n === IRC_DEFAULT_COLOUR) return undefined;
  return n < MIRC_LETTERS.length ? MIRC_LETTERS[n] : null;
}

/** Markup that turns `from` into `to`. */
function markupFor(from: MarkupState, to: MarkupState): string {
  let out = "";
  let base = from;
  const lost = (from.fg !== undefined && to.fg === undefined) || (from.bg !== undefined && to.bg === undefined) || (from.reverse && !to.reverse);
  if (lost) {
    out += "|n";
    base = plain();
  }
  const fgChanged = to.fg !== base.fg && to.fg !== undefined;
  if (fgChanged) out += "|" + to.fg;
  if (to.bg !== base.bg && to.bg !== undefined) out += "|[" + to.bg;
  for (const name of Object.keys(MARKUP_ON_OFF) as Array<keyof typeof MARKUP_ON_OFF>) {
    // A 16-colour foreground code also sets or clears bold in markup, so bold is re-applied after one.
    const reapply = name === "bold" && fgChanged && to.bold;
    if (to[name] !== base[name] || reapply) out += MARKUP_ON_OFF[name][to[name] ? 0 : 1];
  }
  if (to.reverse && !base.reverse) out += "|*";
  return out;
}

function isPlain(s: MarkupState): boolean {
  return s.fg === undefined && s.bg === undefined && !s.bold && !s.italic && !s.underline && !s.strike && !s.reverse;
}

/** Convert one incoming IRC message to game markup. */
export function ircToMarkup(text: string): string {
  const input = stripTerminalEscapes(text);
  let out = "";
  let wanted = plain();
  let emitted = plain();
  let i = 0;
  while (i < input.length) {
    const ch = input[i]!;
    i++;
    const toggle = TOGGLE_CODES.find(([code]) => code === ch);
    if (toggle !== undefined) {
      const name = toggle[1];
      wanted = { ...wanted, [name]: !wanted[name] };
    } else if (ch === IRC_RESET) {
      wanted = plain();
    } else if (ch === IRC_COLOUR) {
      const m = /^(\d{1,2})(?:,(\d{1,2}))?/.exec(input.slice(i, i + 5));
      if (m === null) {
        wanted = { ...wanted, fg: undefined, bg: undefined };
      } else {
        i += m[0].length;
        const fg = mircSlot(m[1]!);
        const bg = m[2] === undefined ? null : mircSlot(m[2]);
        wanted = { ...wanted, fg: fg === null ? wanted.fg : fg, bg: bg === null ? wanted.bg : bg };
      }
    } else if (ch === IRC_HEX_COLOUR) {
      const m = /^([0-9a-f]{6})(?:,([0-9a-f]{6}))?/i.exec(input.slice(i, i + 13));
      if (m === null) {
        wanted = { ...wanted, fg: undefined, bg: undefined };
      } else {
        i += m[0].length;
        wanted = { ...wanted, fg: "#" + m[1]!.toLowerCase(), bg: m[2] === undefined ? wanted.bg : "#" + m[2].toLowerCase() };
      }
    } else if (ch === "\t") {
      out += markupFor(emitted, wanted) + " ";
      emitted = wanted;
    } else if (/[\x00-\x1f\x7f-\x9f]/.test(ch)) {
      // any other control character (including CR, LF, NUL and the mIRC monospace code) is dropped
    } else {
      out += markupFor(emitted, wanted) + (ch === "|" ? "||" : ch);
      emitted = wanted;
    }
  }
  return isPlain(emitted) ? out : out + "|n";
}
