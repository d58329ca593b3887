/**
 * Plain-text forms of markup: `stripMarkup` for plain consumers, `screenReaderText` for the SCREENREADER flag
 * (§3.2, §4.1.10, T08/T16).
 */
import { stripTerminalEscapes } from "./control-chars.js";
import type { MarkupToken } from "./markup-tokens.js";
import { tokenizeMarkup } from "./markup-tokenizer.js";

/**
 * Decoration removed for screen readers (SCREENREADER_REGEX_STRIP): table corners/rules like `+---`, `+~`,
 * a `+` at the end of a line, and runs of two or more `-`, `~` or `=`.
 */
export const SCREENREADER_STRIP = /\+-+|\+$|\+~|--+|~~+|==+/g;

/** Plain text of already-tokenized markup. */
export function stripTokens(tokens: readonly MarkupToken[]): string {
  let out = "";
  for (const token of tokens) {
    if (token.kind === "text") out += stripTerminalEscapes(token.text);
    else if (token.kind === "newline") out += "\n";
  }
  return out;
}

/**
 * Remove all markup: styles and colours disappear, `||` ⇒ `|`, `|/` ⇒ LF, `|-` ⇒ TAB, `|>` ⇒ four spaces,
 * `|_` ⇒ space, links ⇒ their label, unknown codes stay literal. Raw escape sequences (ESC[…) in the text are
 * removed too, so the result never contains ESC.
 */
export function stripMarkup(markup: string): string {
  return stripTokens(tokenizeMarkup(markup));
}

/** Apply the screen-reader decoration filter to plain text, line by line (line breaks are kept). */
export function stripScreenReaderDecoration(plain: string): string {
  return plain
    .split(/(\r\n|\n|\r)/)
    .map((part, index) => (index % 2 === 1 ? part : part.replace(SCREENREADER_STRIP, "")))
    .join("");
}

/** Text for a screen reader: markup stripped, then the decoration filter applied to each line. */
export function screenReaderText(markup: string): string {
  return stripScreenReaderDecoration(stripMarkup(markup));
}
