/**
 * Markup ⇒ HTML for the websocket web client. Everything from the game is escaped; tags are produced only by
 * this renderer, and every element it opens is closed.
 *
 * Output vocabulary:
 * - Styled text: `<span class="…" style="…">`. Colours are inline: `color:#rrggbb`, `background-color:#rrggbb`.
 *   A 16-colour foreground is drawn bright while bold is on (`|r` ⇒ #ff0000, `|R` ⇒ #800000, `|h|!R` ⇒ #ff0000).
 *   Decorations are classes: `mu-bold`, `mu-underline`, `mu-italic`, `mu-strike`, `mu-blink`, `mu-inverse`
 *   (inverse also swaps any explicit colours inline). See MARKUP_HTML_CSS for a matching stylesheet.
 * - `|/` and raw line breaks ⇒ `<br>`.
 * - `|lu<url>|lt<label>|le` ⇒ `<a href="url" target="_blank" rel="noopener noreferrer">label</a>` when the URL
 *   is absolute http/https/telnet/mailto; any other URL renders the label as plain text.
 * - `|lc<cmd>|lt<label>|le` ⇒ `<span class="mxp-send" data-command="cmd">label</span>`.
 */
import { ANSI16_PALETTE, rgbToHex, xtermToRgb, type Rgb } from "./colour-convert.js";
import { escapeHtml, escapeHtmlAttribute, htmlText, safeLinkUrl } from "./html-escape.js";
import type { MarkupToken } from "./markup-tokens.js";
import { tokenizeMarkup } from "./markup-tokenizer.js";

export interface HtmlRenderOptions {
  /** Drop colours and decorations (line breaks and links stay). */
  readonly nocolor?: boolean;
}

/** A stylesheet matching the classes renderHtml emits (clients may use their own). */
export const MARKUP_HTML_CSS = [
  ".mu-bold { font-weight: bold; }",
  ".mu-italic { font-style: italic; }",
  ".mu-underline { text-decoration: underline; }",
  ".mu-strike { text-decoration: line-through; }",
  ".mu-underline.mu-strike { text-decoration: underline line-through; }",
  ".mu-blink { animation: mu-blink 1s steps(1) infinite; }",
  "@keyframes mu-blink { 50% { opacity: 0; } }",
  ".mu-inverse { color: var(--mu-background, #000000); background-color: var(--mu-foreground, #c0c0c0); }",
  ".mxp-send { cursor: pointer; text-decoration: underline; }",
].join("\n");

type Colour = { readonly basic: number } | { readonly rgb: Rgb };

interface Style {
  fg?: Colour;
  bg?: Colour;
  bold: boolean;
  underline: boolean;
  italic: boolean;
  strike: boolean;
  inverse: boolean;
  blink: boolean;
}

const plainStyle = (): Style => ({
  bold: false, underline: false, italic: false, strike: false, inverse: false, blink: false,
});

function applyToken(style: Style, token: MarkupToken): Style {
  switch (token.kind) {
    case "reset": return plainStyle();
    case "bold": return { ...style, bold: token.on };
    case "decoration": return { ...style, [token.decoration]: token.on };
    case "inverse": return { ...style, inverse: true };
    case "blink": return { ...style, blink: true };
    case "fg16": {
      const bold = token.brightness === "keep" ? style.bold : token.brightness === "bright";
      return { ...style, bold, fg: { basic: token.colour } };
    }
    case "bg16": return { ...style, bg: { basic: token.colour } };
    case "xterm": return { ...style, [token.background ? "bg" : "fg"]: { rgb: xtermToRgb(token.index) } };
    case "rgb": return { ...style, [token.background ? "bg" : "fg"]: { rgb: [token.r, token.g, token.b] } };
    default: return style;
  }
}

function colourHex(colour: Colour | undefined, bright: boolean): string | undefined {
  if (colour === undefined) return undefined;
  if ("rgb" in colour) return rgbToHex(colour.rgb);
  return rgbToHex(ANSI16_PALETTE[colour.basic + (bright ? 8 : 0)]!);
}

/** The opening tag for a style, or "" for the plain style. */
function openTag(style: Style): string {
  let fg = colourHex(style.fg, style.bold);
  let bg = colourHex(style.bg, false);
  if (style.inverse) [fg, bg] = [bg, fg];
  const classes = (["bold", "underline", "italic", "strike", "blink", "inverse"] as const)
    .filter((name) => style[name])
    .map((name) => `mu-${name}`);
  const css = [fg && `color:${fg}`, bg && `background-color:${bg}`].filter((part) => part).join(";");
  if (classes.length === 0 && css === "") return "";
  const classAttr = classes.length > 0 ? ` class="${classes.join(" ")}"` : "";
  const styleAttr = css !== "" ? ` style="${escapeHtml(css)}"` : "";
  return `<span${classAttr}${styleAttr}>`;
}

/** Render already-tokenized markup to HTML. */
export function renderHtmlTokens(tokens: readonly MarkupToken[], options: HtmlRenderOptions = {}): string {
  let out = "";
  let style = plainStyle();
  let openSpan = ""; // the tag of the currently open style span, "" when none is open
  const linkClosers: string[] = [];
  const closeSpan = (): void => {
    if (openSpan !== "") out += "</span>";
    openSpan = "";
  };
  for (const token of tokens) {
    switch (token.kind) {
      case "text":
      case "newline": {
        const html = token.kind === "text" ? htmlText(token.text) : "<br>";
        if (html === "") break;
        const wanted = options.nocolor === true ? "" : openTag(style);
        if (wanted !== openSpan) {
          closeSpan();
          out += wanted;
          openSpan = wanted;
        }
        out += html;
        break;
      }
      case "linkStart": {
        closeSpan();
        if (token.link === "command") {
          out += `<span class="mxp-send" data-command="${escapeHtmlAttribute(token.target)}">`;
          linkClosers.push("</span>");
        } else {
          const url = safeLinkUrl(token.target);
          if (url !== undefined) out += `<a href="${escapeHtml(url)}" target="_blank" rel="noopener noreferrer">`;
          linkClosers.push(url !== undefined ? "</a>" : "");
        }
        break;
      }
      case "linkEnd":
        closeSpan();
        out += linkClosers.pop() ?? "";
        break;
      default:
        style = applyToken(style, token);
    }
  }
  closeSpan();
  while (linkClosers.length > 0) out += linkClosers.pop();
  return out;
}

/** Render markup to HTML for the web client. */
export function renderHtml(markup: string, options: HtmlRenderOptions = {}): string {
  return renderHtmlTokens(tokenizeMarkup(markup), options);
}
