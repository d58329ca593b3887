/**
 * Byte-accurate splitting of outgoing chat text for the IRC wire.
 *
 * An IRC line is at most 512 bytes including the trailing CRLF (or the server's ISUPPORT `LINELEN`). What counts
 * is the line the server *relays* to the other members of the channel, which carries our full prefix
 * (`:nick!user@host `) in front of `PRIVMSG <target> :<text>`. textBudget() works out how many UTF-8 bytes of
 * `<text>` fit; splitMessage()/splitWithPrefix() cut text into parts that fit, without ever losing a byte:
 * joining the parts gives back the original text exactly.
 */

/** Default IRC line length in bytes, CRLF included (RFC 1459/2812). */
export const DEFAULT_LINE_LENGTH = 512;
/** Assumed length of the user (ident) part of our hostmask when we do not know it. */
export const DEFAULT_USER_LENGTH = 10;
/** Assumed length of our host (or cloak) when we do not know it: the longest DNS label-ish host servers show. */
export const DEFAULT_HOST_LENGTH = 63;
/** textBudget() never answers less than this, so a pathological nick/target cannot make splitting degenerate. */
export const MIN_TEXT_BUDGET = 64;
/** splitWithPrefix() keeps at least this much room for text (or half the budget, if smaller) by truncating the prefix. */
export const MIN_PREFIXED_TEXT_BYTES = 64;
/** The smallest budget splitMessage() accepts: one code point needs up to 4 bytes. */
export const MIN_SPLIT_BUDGET = 4;

const CTCP_ACTION_OPEN = "\x01ACTION ";
const CTCP_CLOSE = "\x01";

/** UTF-8 length of a string (lone surrogates count as the 3-byte U+FFFD they are encoded as). */
export function utf8Bytes(s: string): number {
  return Buffer.byteLength(s, "utf8");
}

/** UTF-8 length of the code point whose UTF-16 value is `cp`. */
function cpBytes(cp: number): number {
  if (cp < 0x80) return 1;
  if (cp < 0x800) return 2;
  if (cp < 0x10000) return 3; // includes lone surrogates, encoded as U+FFFD
  return 4;
}

/**
 * Bytes the server puts in front of our line when relaying it: `:nick!user@host ` (the leading colon, the nick,
 * `!`, the user, `@`, the host and one space). Unknown user/host use generous defaults (10 and 63 characters).
 */
export function relayPrefixBytes(nick: string, user?: string, host?: string): number {
  const userBytes = user === undefined || user === "" ? DEFAULT_USER_LENGTH : utf8Bytes(user);
  const hostBytes = host === undefined || host === "" ? DEFAULT_HOST_LENGTH : utf8Bytes(host);
  return 1 + utf8Bytes(nick) + 1 + userBytes + 1 + hostBytes + 1;
}

export interface TextBudgetOptions {
  /** Maximum line length in bytes including CRLF: 512 by default, ISUPPORT `LINELEN` when the server offers it. */
  lineLength?: number;
  /** The channel or nick the PRIVMSG goes to. */
  target: string;
  /** Our current nick. */
  nick: string;
  /** Our user (ident) as the server shows it, if known (including any `~`). */
  user?: string;
  /** Our host or cloak as the server shows it, if known. */
  host?: string;
  /** True for a CTCP ACTION (`/me`), which wraps the text in `\x01ACTION ` … `\x01`. */
  action?: boolean;
}

/**
 * Maximum UTF-8 bytes of message text in `PRIVMSG <target> :<text>` so that the relayed line
 * (`:nick!user@host PRIVMSG <target> :<text>\r\n`) fits in the line length. Never below MIN_TEXT_BUDGET.
 */
export function textBudget(opts: TextBudgetOptions): number {
  const lineLength = opts.lineLength !== undefined && Number.isFinite(opts.lineLength) && opts.lineLength > 0
    ? Math.floor(opts.lineLength)
    : DEFAULT_LINE_LENGTH;
  const overhead =
    relayPrefixBytes(opts.nick, opts.user, opts.host) +
    utf8Bytes("PRIVMSG ") + utf8Bytes(opts.target) + utf8Bytes(" :") +
    (opts.action === true ? utf8Bytes(CTCP_ACTION_OPEN) + utf8Bytes(CTCP_CLOSE) : 0) +
    2; // CRLF
  return Math.max(MIN_TEXT_BUDGET, lineLength - overhead);
}

/**
 * Length (in UTF-16 code units) of the mIRC formatting sequence starting at `i`, or 0 if there is none:
 * `\x03[N[N][,N[N]]]` (colour), `\x04[RRGGBB[,RRGGBB]]` (hex colour) and the one-character toggles.
 * The comma only belongs to the sequence when digits follow it, as clients parse it.
 */
function formattingLength(s: string, i: number): number {
  const ch = s.charCodeAt(i);
  if (ch === 0x03) {
    const m = /^(?:\d{1,2}(?:,\d{1,2})?)?/.exec(s.slice(i + 1, i + 6));
    return 1 + (m === null ? 0 : m[0].length);
  }
  if (ch === 0x04) {
    const m = /^(?:[0-9a-fA-F]{6}(?:,[0-9a-fA-F]{6})?)?/.exec(s.slice(i + 1, i + 14));
    return 1 + (m === null ? 0 : m[0].length);
  }
  return ch === 0x02 || ch === 0x0f || ch === 0x11 || ch === 0x16 || ch === 0x1d || ch === 0x1e || ch === 0x1f ? 1 : 0;
}

/**
 * Moves a cut point `cut` in `s[start..]` back so that it is not inside a formatting sequence, and so that
 * formatting codes directly before the cut travel with the text they format. Never returns `start` or less
 * (answers `cut` unchanged when backing up would leave nothing).
 */
function cutOutsideFormatting(s: string, start: number, cut: number): number {
  // Sequences are at most 14 code units long, so only the last few characters before the cut can matter.
  const from = Math.max(start, cut - 14);
  let result = cut;
  for (let i = from; i < cut; i++) {
    const len = formattingLength(s, i);
    if (len > 0 && i + len > cut) {
      result = i; // the cut falls inside this sequence: cut before it
      break;
    }
  }
  // Carry a run of codes that ends exactly at the cut over to the next part.
  let moved = true;
  while (moved) {
    moved = false;
    for (let i = Math.max(start, result - 14); i < result; i++) {
      const len = formattingLength(s, i);
      if (len > 0 && i + len === result) {
        result = i;
        moved = true;
        break;
      }
    }
  }
  return result > start ? result : cut;
}

const graphemes: Intl.Segmenter | undefined =
  typeof Intl !== "undefined" && typeof Intl.Segmenter === "function" ? new Intl.Segmenter(undefined, { granularity: "grapheme" }) : undefined;

/** The last grapheme-cluster boundary in `s` in (start, cut], or `cut` when there is none (a huge cluster). */
function graphemeCut(s: string, start: number, cut: number): number {
  if (graphemes === undefined || cut >= s.length) return cut;
  // Look at one more code point after the cut, which is all that decides whether `cut` is a boundary.
  const window = s.slice(start, Math.min(s.length, cut + 2));
  let best = 0;
  for (const seg of graphemes.segment(window)) {
    const end = seg.index + seg.segment.length;
    if (start + end <= cut) best = end;
    else break;
  }
  return best > 0 ? start + best : cut;
}

/** True when s[from..to) contains something other than spaces. */
function hasNonSpace(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (s.charCodeAt(i) !== 0x20) return true;
  return false;
}

/**
 * Split `text` into parts of at most `budgetBytes` UTF-8 bytes each, with `parts.join("") === text`.
 *
 * A part ends before the last run of spaces that fits (the spaces start the next part, since IRC servers strip
 * trailing spaces), as long as the part holds more than spaces. Otherwise (one long word) the cut is hard: at a grapheme-cluster boundary when
 * one fits, never inside a code point or surrogate pair, and moved back before a mIRC formatting sequence
 * (`\x03NN,NN`, `\x04RRGGBB`, toggles) that would otherwise be cut or left dangling at the end of the part.
 * Empty text gives no parts. Throws RangeError for a budget below 4 bytes (no code point would fit).
 */
export function splitMessage(text: string, budgetBytes: number): string[] {
  if (!Number.isFinite(budgetBytes) || budgetBytes < MIN_SPLIT_BUDGET) {
    throw new RangeError(`splitMessage: budget must be at least ${MIN_SPLIT_BUDGET} bytes, got ${budgetBytes}`);
  }
  const budget = Math.floor(budgetBytes);
  const parts: string[] = [];
  let start = 0;
  while (start < text.length) {
    // Take as many whole code points as fit.
    let end = start;
    let bytes = 0;
    let lastSpace = -1;
    while (end < text.length) {
      const cp = text.codePointAt(end)!;
      const size = cpBytes(cp);
      if (bytes + size > budget) break;
      bytes += size;
      if (cp === 0x20) lastSpace = end;
      end += cp > 0xffff ? 2 : 1;
    }
    let cut: number;
    if (end >= text.length) {
      cut = text.length;
    } else if (lastSpace >= 0 && hasNonSpace(text, start, lastSpace)) {
      // The spaces go to the start of the next part: servers strip trailing spaces, which would lose them.
      cut = lastSpace;
      while (cut > start && text.charCodeAt(cut - 1) === 0x20) cut--;
    } else {
      cut = cutOutsideFormatting(text, start, graphemeCut(text, start, end));
    }
    parts.push(text.slice(start, cut));
    start = cut;
  }
  return parts;
}

/** The longest prefix of `s` of at most `maxBytes` UTF-8 bytes, cut on a code point boundary outside formatting. */
function truncateBytes(s: string, maxBytes: number): string {
  let end = 0;
  let bytes = 0;
  while (end < s.length) {
    const cp = s.codePointAt(end)!;
    const size = cpBytes(cp);
    if (bytes + size > maxBytes) break;
    bytes += size;
    end += cp > 0xffff ? 2 : 1;
  }
  if (end >= s.length) return s;
  return end === 0 ? "" : s.slice(0, cutOutsideFormatting(s, 0, end));
}

/**
 * Like splitMessage, but every part starts with `prefix` (e.g. `[public] Alice: `) and is at most `budgetBytes`
 * bytes including it. If the prefix would leave less than MIN_PREFIXED_TEXT_BYTES (or half the budget, if that
 * is smaller) for the text, it is truncated on a code point boundary. Removing the (possibly truncated) prefix
 * from each part and joining gives back `text`. Empty text gives no parts.
 */
export function splitWithPrefix(prefix: string, text: string, budgetBytes: number): string[] {
  if (!Number.isFinite(budgetBytes) || budgetBytes < MIN_SPLIT_BUDGET) {
    throw new RangeError(`splitWithPrefix: budget must be at least ${MIN_SPLIT_BUDGET} bytes, got ${budgetBytes}`);
  }
  if (text === "") return [];
  const budget = Math.floor(budgetBytes);
  const minText = Math.max(MIN_SPLIT_BUDGET, Math.min(MIN_PREFIXED_TEXT_BYTES, Math.floor(budget / 2)));
  const head = utf8Bytes(prefix) > budget - minText ? truncateBytes(prefix, budget - minText) : prefix;
  return splitMessage(text, budget - utf8Bytes(head)).map((part) => head + part);
}
