/**
 * Token model for Portico's colour markup. The game writes markup once; every renderer (ANSI, HTML, mIRC,
 * plain text) walks the same token list produced by `tokenizeMarkup`.
 *
 * Colours are kept in the form the markup named them, so each renderer can decide how to approximate them:
 * - `fg16` / `bg16`: one of the 8 basic ANSI colours (0 black, 1 red, 2 green, 3 yellow, 4 blue, 5 magenta,
 *   6 cyan, 7 white).
 * - `xterm`: an xterm-256 palette index (16..255), from `|RGB`, `|=a`..`|=z` and the bright backgrounds `|[r`...
 * - `rgb`: a 24-bit colour from `|#RRGGBB` / `|#RGB`.
 */

/** Decorations with separate on/off codes (`|u`/`|U`, `|i`/`|I`, `|s`/`|S`). */
export type Decoration = "underline" | "italic" | "strike";

/** How a 16-colour foreground code changes the bold ("bright") attribute. */
export type Brightness = "bright" | "dark" | "keep";

export type MarkupToken =
  /** Literal text (already unescaped: `||` has become `|`; `|-`, `|>`, `|_` have become tab/spaces). */
  | { readonly kind: "text"; readonly text: string }
  /** `|/`: a line break. */
  | { readonly kind: "newline" }
  /** `|n`: reset every attribute. */
  | { readonly kind: "reset" }
  /** `|h` (on) / `|H` (off). */
  | { readonly kind: "bold"; readonly on: boolean }
  /** `|u|U`, `|i|I`, `|s|S`. */
  | { readonly kind: "decoration"; readonly decoration: Decoration; readonly on: boolean }
  /** `|*`: inverse video on (only `|n` turns it off). */
  | { readonly kind: "inverse" }
  /** `|^`: blink on (only `|n` turns it off). */
  | { readonly kind: "blink" }
  /** `|r`.. (bright), `|R`.. (dark), `|!R`.. (colour only). */
  | { readonly kind: "fg16"; readonly colour: number; readonly brightness: Brightness }
  /** `|[R`..`|[X`. */
  | { readonly kind: "bg16"; readonly colour: number }
  /** `|RGB`, `|[RGB`, `|=a`, `|[=a`, and the bright backgrounds `|[r`.. (rewritten to `|[500`..). */
  | { readonly kind: "xterm"; readonly background: boolean; readonly index: number }
  /** `|#RRGGBB`, `|#RGB`, `|[#RRGGBB`, `|[#RGB`. */
  | { readonly kind: "rgb"; readonly background: boolean; readonly r: number; readonly g: number; readonly b: number }
  /** `|lc<cmd>|lt` (link = "command") or `|lu<url>|lt` (link = "url"); the label tokens follow. */
  | { readonly kind: "linkStart"; readonly link: "command" | "url"; readonly target: string }
  /** `|le`, or the implicit end of an unterminated label at the end of the markup. */
  | { readonly kind: "linkEnd" };

export type TokenKind = MarkupToken["kind"];

/** A colour-bearing token (foreground or background). */
export type ColourToken = Extract<MarkupToken, { kind: "fg16" | "bg16" | "xterm" | "rgb" }>;
