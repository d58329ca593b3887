/** HTML escaping for text and double-quoted attribute values, plus the link URL allow-list. */
import { stripControls } from "./control-chars.js";

const HTML_ENTITY: Readonly<Record<string, string>> = {
  "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;",
};

/** Escape `& < > " '`. Safe both in element content and in double- or single-quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => HTML_ENTITY[ch]!);
}

/** Escape an attribute value after removing every control character (including CR, LF and TAB). */
export function escapeHtmlAttribute(value: string): string {
  return escapeHtml(stripControls(value).replace(/[\t\r\n]/g, " "));
}

/** Schemes a game may link to from the web client. */
export const HTML_LINK_SCHEMES: readonly string[] = ["http:", "https:", "telnet:", "mailto:"];

/** The normalised absolute URL if `target` parses and uses an allowed scheme, else undefined. */
export function safeLinkUrl(target: string): string | undefined {
  const trimmed = stripControls(target).trim();
  if (trimmed === "") return undefined;
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    return undefined;
  }
  return HTML_LINK_SCHEMES.includes(url.protocol) ? url.href : undefined;
}

/**
 * Escape a run of game text for HTML: controls and escape sequences removed, CR LF / CR / LF ⇒ `<br>`, TAB ⇒ four
 * `&nbsp;`, and in a run of N ≥ 2 spaces the first N-1 become `&nbsp;` (so alignment survives HTML whitespace
 * collapsing while the line can still wrap after the run).
 */
export function htmlText(text: string): string {
  return escapeHtml(stripControls(text))
    .replace(/\r\n|\r|\n/g, "<br>")
    .replace(/\t/g, "&nbsp;&nbsp;&nbsp;&nbsp;")
    .replace(/ {2,}/g, (run) => "&nbsp;".repeat(run.length - 1) + " ");
}
