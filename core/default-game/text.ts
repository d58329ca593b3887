/** Text helpers: cleaning player input and escaping it for the colour markup. */

/** ESC-introduced sequences (CSI, OSC, string commands, two-byte escapes) and the 8-bit CSI. */
const ESCAPES = /\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[PX^_][^\x1b]*(?:\x1b\\)?|[ -/]*[0-~])?|\x9b(?:[0-?]*[ -/]*[@-~])?/g;
/**
 * C0 controls, DEL, the C1 range, and the invisible formatting characters that change how the rest of
 * a line is shown: the bidi embeddings/overrides/isolates (U+202A–202E, U+2066–2069) and marks (U+200E,
 * U+200F, U+061C), which can make text read in another order than it was typed.
 */
const CONTROLS = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
/** LINE SEPARATOR and PARAGRAPH SEPARATOR: some clients start a new line at them, so they become spaces. */
const SEPARATORS = /[\u2028\u2029]/g;
const HAS_CONTROL = /[\x00-\x1f\x7f-\x9f]/;

/** True when `text` holds any control character (including ESC, TAB, CR, LF). */
export function hasControlChars(text: string): boolean {
  return HAS_CONTROL.test(text);
}

/**
 * Player text made safe to show others: terminal escapes removed, tabs and line/paragraph separators
 * become spaces, other controls and bidi controls dropped, trimmed. The one place the game cleans
 * text that goes from one player to another (say, pose, channels, kick/ban reasons, bridged IRC lines).
 */
export function cleanText(text: string): string {
  return text.replace(ESCAPES, "").replace(/\t/g, " ").replace(SEPARATORS, " ").replace(CONTROLS, "").trim();
}

/** Escapes colour markup: every `|` becomes `||`, so player text is shown literally. */
export function escapeMarkup(text: string): string {
  return text.replace(/\|/g, "||");
}

/** cleanText + escapeMarkup: what every piece of player-supplied text goes through before output. */
export function safeText(text: string): string {
  return escapeMarkup(cleanText(text));
}

/**
 * What every system line starts with (announcements, shutdown and reload notices, "X has connected",
 * "X has left", a channel's "X has joined"): `*** `. No line another player causes can start with it,
 * colour or not: lines from players start with the speaker's name (names start with a letter) or with
 * `[channel] ` followed by a name, and bridged lines (IRC, RSS) have leading `*` removed
 * (`unmarked`). Channel notices carry it after the channel tag: `[ooc] *** Bob has joined the channel.`
 */
export const SYSTEM_PREFIX = "*** ";

/** A system line: `*** ` + text (the prefix is plain: it comes before any colour code the text starts with). */
export function systemLine(text: string): string {
  return SYSTEM_PREFIX + text;
}

/** `*` and the asterisks that look like it (fullwidth, operator, low, heavy, Arabic five-pointed star, small). */
const LEADING_STARS = /^[\s*\uff0a\u2217\u204e\u2731\u066d\ufe61]+/;

/** Text from outside the game (a bridged IRC or RSS line) that must not pass for a system line: leading asterisks and spaces removed. */
export function unmarked(text: string): string {
  return text.replace(LEADING_STARS, "");
}

/** `1h 3m`, `42s`: a short idle/uptime figure. */
export function shortDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

/** Normalises an address for ban matching: IPv4-mapped IPv6 (`::ffff:1.2.3.4`) becomes `1.2.3.4`, lower-cased. */
export function normalizeAddress(address: string | null | undefined): string {
  const a = (address ?? "").trim().toLowerCase();
  return a.startsWith("::ffff:") && a.includes(".") ? a.slice(7) : a;
}
