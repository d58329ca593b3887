/**
 * Markup ⇒ mIRC-formatted text for the IRC bot.
 *
 * - `|h`/`|H` ⇒ `\x02` toggles, `|i|I` ⇒ `\x1D`, `|u|U` ⇒ `\x1F`, `|s|S` ⇒ `\x1E`, `|*` ⇒ `\x16`; `|n` turns
 *   everything off (`\x0F` when a colour was set, otherwise the individual toggles).
 *   `|^` (blink) has no IRC form and is dropped.
 * - Colours become `\x03FF` / `\x03FF,BB` with two-digit mIRC numbers: every colour is reduced to the 16 basic
 *   colours (xterm/hex via the nearest match) and mapped through ANSI16_TO_MIRC. Bright markup colours
 *   (`|r`) use the bright mIRC colour (4); dark ones (`|R`) the dark one (5); `|!R` follows the bold state.
 *   A background without a foreground uses 99 (default) as the foreground.
 * - Formatting is emitted lazily, just before the text it applies to, and only when it changes, so no dangling
 *   codes are left at the end. Toggled attributes are switched off with their own toggle; dropping a colour
 *   (mIRC has no "default colour" that every client honours) is done with `\x0F`, after which the attributes
 *   still wanted are re-applied.
 * - `|/`, CR and LF become a space, TAB (`|-`) four spaces; links are reduced to their label; every other control
 *   character and escape sequence in the game's text is removed. The output never contains CR, LF or NUL.
 */
import { rgbToXterm, xtermToAnsi16Index } from "./colour-convert.js";
import { stripControls } from "./control-chars.js";
import {
  ANSI16_TO_MIRC, IRC_COLOUR, IRC_DEFAULT_COLOUR, IRC_RESET, IRC_TOGGLES, ircColourNumber, type IrcToggle,
} from "./irc-codes.js";
import type { MarkupToken } from "./markup-tokens.js";
import { tokenizeMarkup } from "./markup-tokenizer.js";

interface IrcState {
  fg: number | undefined;
  bg: number | undefined;
  bold: boolean;
  italic: boolean;
  underline: boolean;
  strike: boolean;
  reverse: boolean;
}

const TOGGLE_NAMES = Object.keys(IRC_TOGGLES) as IrcToggle[];

const plainState = (): IrcState => ({
  fg: undefined, bg: undefined, bold: false, italic: false, underline: false, strike: false, reverse: false,
});

function colourToMirc(token: Extract<MarkupToken, { kind: "fg16" | "bg16" | "xterm" | "rgb" }>, bold: boolean): number {
  switch (token.kind) {
    case "fg16": {
      const bright = token.brightness === "keep" ? bold : token.brightness === "bright";
      return ANSI16_TO_MIRC[token.colour + (bright ? 8 : 0)]!;
    }
    case "bg16": return ANSI16_TO_MIRC[token.colour]!;
    case "xterm": return ANSI16_TO_MIRC[xtermToAnsi16Index(token.index)]!;
    case "rgb": return ANSI16_TO_MIRC[xtermToAnsi16Index(rgbToXterm(token.r, token.g, token.b))]!;
  }
}

function applyToken(state: IrcState, token: MarkupToken): IrcState {
  switch (token.kind) {
    case "reset": return plainState();
    case "bold": return { ...state, bold: token.on };
    case "decoration": return { ...state, [token.decoration]: token.on };
    case "inverse": return { ...state, reverse: true };
    case "fg16": return { ...state, fg: colourToMirc(token, state.bold) };
    case "bg16": return { ...state, bg: colourToMirc(token, state.bold) };
    case "xterm": case "rgb":
      return { ...state, [token.background ? "bg" : "fg"]: colourToMirc(token, state.bold) };
    default: return state;
  }
}

/** The codes that turn `emitted` into `wanted`, given the text that will follow them. */
function transition(emitted: IrcState, wanted: IrcState, nextText: string): { codes: string; state: IrcState } {
  let codes = "";
  let from = emitted;
  const colourRemoved = (from.fg !== undefined && wanted.fg === undefined) || (from.bg !== undefined && wanted.bg === undefined);
  if (colourRemoved) {
    codes += IRC_RESET;
    from = plainState();
  }
  for (const name of TOGGLE_NAMES) {
    if (from[name] !== wanted[name]) codes += IRC_TOGGLES[name];
  }
  if (from.fg !== wanted.fg || from.bg !== wanted.bg) {
    const fg = ircColourNumber(wanted.fg ?? IRC_DEFAULT_COLOUR);
    // Include the background when it changed, or when the text starts with "," (it would be read as one).
    const needBg = from.bg !== wanted.bg || nextText.startsWith(",");
    codes += IRC_COLOUR + fg + (needBg ? "," + ircColourNumber(wanted.bg ?? IRC_DEFAULT_COLOUR) : "");
  }
  return { codes, state: { ...wanted } };
}

/** Game text ⇒ IRC-safe text: controls removed, line breaks to spaces, tabs to four spaces. */
function ircText(text: string): string {
  return stripControls(text).replace(/\r\n|\r|\n/g, " ").replace(/\t/g, "    ");
}

/** Render already-tokenized markup to mIRC-formatted text. */
export function renderIrcTokens(tokens: readonly MarkupToken[]): string {
  let out = "";
  let wanted = plainState();
  let emitted = plainState();
  for (const token of tokens) {
    if (token.kind === "text" || token.kind === "newline") {
      const text = token.kind === "text" ? ircText(token.text) : " ";
      if (text === "") continue;
      const step = transition(emitted, wanted, text);
      out += step.codes + text;
      emitted = step.state;
    } else {
      wanted = applyToken(wanted, token);
    }
  }
  return out;
}

/** Render markup to a single line of mIRC-formatted text (no CR, LF or NUL). */
export function renderIrc(markup: string): string {
  return renderIrcTokens(tokenizeMarkup(markup));
}
