/** Text helpers: cleaning player input and escaping it for the colour markup. */

/** ESC-introduced sequences (CSI, OSC, string commands, two-byte escapes) and the 8-bit CSI. */
const ESCAPES = /\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[PX^_][^\x1b]*(?:\x1b\\)?|[ -/]*[0-~])?|\x9b(?:[0-?]*[ -/]*[@-~])?/g;
/** C0 controls, DEL and the C1 range. */
const CONTROLS = /[\x00-\x1f\x7f-\x9f]/g;
const HAS_CONTROL = /[\x00-\x1f\x7f-\x9f]/;

/** True when `text` holds any control character (including ESC, TAB, CR, LF). */
export function hasControlChars(text: string): boolean {
  return HAS_CONTROL.test(text);
}

/** Player text made safe to show: terminal escapes removed, tabs become spaces, other controls dropped, trimmed. */
export function cleanText(text: string): string {
  return text.replace(ESCAPES, "").replace(/\t/g, " ").replace(CONTROLS, "").trim();
}

/** Escapes colour markup: every `|` becomes `||`, so player text is shown literally. */
export function escapeMarkup(text: string): string {
  return text.replace(/\|/g, "||");
}

/** cleanText + escapeMarkup: what every piece of player-supplied text goes through before output. */
export function safeText(text: string): string {
  return escapeMarkup(cleanText(text));
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
