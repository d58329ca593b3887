/**
 * Text conversion and safety for the IRC bridge, in one place:
 * - game → IRC: markup becomes mIRC codes (core renderIrc) and nothing that could end or forge an IRC line
 *   (CR, LF, NUL, CTCP \x01, escape sequences) reaches the wire;
 * - IRC → game: mIRC codes become markup (core ircToMarkup), raw ANSI escapes and control codes are dropped and
 *   `|` is escaped, so nothing typed on IRC acts as markup;
 * - nicks: no-ping form for relayed game nicks, cleaned form for IRC nicks shown in the game;
 * - relay templates such as `[{channel}] {nick}: {text}`.
 */
import { ircToMarkup, renderIrc, stripTerminalEscapes } from "../../core/index.js";

/** Longest IRC nick (in code points) cleanNick() lets into the game. */
export const MAX_NICK_LENGTH = 50;

/** Zero-width space, used to break nick highlighting. */
export const ZWSP = "\u200b";

/** mIRC formatting codes allowed on the way out: bold, colour, reset, reverse, italic, underline, strike, monospace. */
const MIRC_CODES = new Set(["\x02", "\x03", "\x0f", "\x16", "\x1d", "\x1f", "\x1e", "\x11"]);

/** Every C0 control, DEL and the C1 range. */
const CONTROLS = /[\x00-\x1f\x7f-\x9f]/g;

/** One mIRC formatting sequence (colour with its numbers, hex colour with its values, or a toggle). */
const MIRC_SEQUENCE = /\x03(?:\d{1,2}(?:,\d{1,2})?)?|\x04(?:[0-9a-fA-F]{6}(?:,[0-9a-fA-F]{6})?)?|[\x02\x0f\x11\x16\x1d\x1e\x1f]/g;

/** The same, anchored at lastIndex. */
const MIRC_SEQUENCE_AT = new RegExp(MIRC_SEQUENCE.source, "y");

/** Invisible format characters (zero-width spaces/joiners, bidi overrides and isolates, BOM…). */
const FORMAT_CHARS = /\p{Cf}/gu;

/**
 * Text going to IRC: CR, LF (and TAB) become a space, NUL and every other control character except the mIRC
 * formatting codes (\x02 \x03 \x0F \x16 \x1D \x1F \x1E \x11) are removed, as are ESC sequences, DEL and C1
 * controls. In particular no CR/LF/NUL (line injection) and no \x01 (CTCP forging) can survive.
 */
export function sanitizeOutgoing(text: string): string {
  return stripTerminalEscapes(text)
    .replace(/\r\n|[\r\n\t]/g, " ")
    .replace(CONTROLS, (ch) => (MIRC_CODES.has(ch) ? ch : ""));
}

/**
 * The nick with a zero-width space after its first visible code point, so IRC users with the same nick are not
 * highlighted by relayed messages. Leading mIRC formatting codes are skipped so a colour code is not split.
 */
export function noPingNick(nick: string): string {
  let i = 0;
  for (;;) {
    MIRC_SEQUENCE_AT.lastIndex = i;
    const m = MIRC_SEQUENCE_AT.exec(nick);
    if (m === null || m[0] === "") break;
    i += m[0].length;
  }
  const cp = nick.codePointAt(i);
  if (cp === undefined) return nick;
  const end = i + (cp > 0xffff ? 2 : 1);
  return nick.slice(0, end) + ZWSP + nick.slice(end);
}

/**
 * Fill `{name}` placeholders (letters, digits, `_`) from `fields`, e.g. `{channel}`, `{nick}`, `{text}`,
 * `{ircchannel}`, `{user}`. Unknown placeholders stay as they are; values are inserted literally in one pass,
 * so a value containing `{text}` is not expanded again. Only the object's own keys count.
 */
export function formatTemplate(template: string, fields: Record<string, string>): string {
  return template.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (whole, name: string) =>
    Object.prototype.hasOwnProperty.call(fields, name) ? String(fields[name]) : whole);
}

/** Game markup → one line of mIRC-formatted text, safe for the IRC wire. */
export function gameToIrc(markup: string): string {
  return sanitizeOutgoing(renderIrc(markup));
}

/**
 * IRC message text → game markup: mIRC colours and styles become markup, raw ANSI escapes and control codes are
 * stripped and `|` is escaped, so nothing typed on IRC acts as markup. Formatting is closed at the end.
 */
export function ircToGame(text: string): string {
  return ircToMarkup(text);
}

/**
 * A nick from IRC made safe to show in the game, in markup or as plain text: escape sequences, mIRC formatting
 * (with colour numbers), control and invisible format characters removed, whitespace collapsed, capped at
 * MAX_NICK_LENGTH code points, and `|` (valid in IRC nicks but the game's markup character) replaced by the
 * look-alike `¦`, so the result means the same whether or not it is parsed as markup.
 */
export function cleanNick(nick: string): string {
  const plain = stripTerminalEscapes(nick)
    .replace(MIRC_SEQUENCE, "")
    .replace(CONTROLS, "")
    .replace(FORMAT_CHARS, "")
    .replace(/\s+/g, " ")
    .trim();
  const capped = Array.from(plain).slice(0, MAX_NICK_LENGTH).join("").trimEnd();
  return capped.replace(/\|/g, "\u00a6");
}
