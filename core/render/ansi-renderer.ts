/**
 * Markup ⇒ terminal text (telnet, and the ANSI websocket wire formats).
 *
 * Depths: "truecolor" emits hex colours as `ESC[38;2;r;g;bm`; "xterm256" turns them into the nearest xterm tag;
 * "ansi16" turns every xterm colour into the nearest of the 16 basic colours (bright ⇒ `ESC[1m`, dark ⇒ `ESC[22m`
 * before the colour, like `|r` / `|R`); "none" emits no SGR at all and also removes raw escape sequences that the
 * game embedded in its text. `|/` renders as CR LF. No line ending is appended (that is the transport's job).
 *
 * With `mxp: true` links become MXP tags (see mxp.ts); otherwise only the label is rendered. MXP is independent
 * of the colour depth. Text outside links is never entity-escaped (clients in locked mode show it verbatim).
 */
import { rgbToXterm, xtermToAnsi16 } from "./colour-convert.js";
import { stripTerminalEscapes } from "./control-chars.js";
import { LruCache } from "./lru-cache.js";
import type { MarkupToken } from "./markup-tokens.js";
import { tokenizeMarkup } from "./markup-tokenizer.js";
import { mxpCloseLink, mxpEscape, mxpOpenLink } from "./mxp.js";
import {
  ANSI_BLINK, ANSI_BOLD_OFF, ANSI_BOLD_ON, ANSI_INVERSE, ANSI_RESET,
  bg16Sequence, decorationSequence, fg16Sequence, truecolorSequence, xtermSequence,
} from "./ansi-sequences.js";

export type ColourDepth = "truecolor" | "xterm256" | "ansi16" | "none";

export interface AnsiRenderOptions {
  readonly depth: ColourDepth;
  /** Render links as MXP tags (default false: label only). */
  readonly mxp?: boolean;
}

/** What `|/` becomes in terminal output. */
export const ANSI_NEWLINE = "\r\n";

function xtermColour(index: number, background: boolean, depth: ColourDepth): string {
  if (depth !== "ansi16") return xtermSequence(index, background);
  const approx = xtermToAnsi16(index);
  return background ? bg16Sequence(approx.colour) : fg16Sequence(approx.colour, approx.bright);
}

/** The SGR output for one style token at a colour depth other than "none". */
function styleSequence(token: MarkupToken, depth: ColourDepth): string {
  switch (token.kind) {
    case "reset": return ANSI_RESET;
    case "bold": return token.on ? ANSI_BOLD_ON : ANSI_BOLD_OFF;
    case "decoration": return decorationSequence(token.decoration, token.on);
    case "inverse": return ANSI_INVERSE;
    case "blink": return ANSI_BLINK;
    case "fg16":
      return fg16Sequence(token.colour, token.brightness === "keep" ? undefined : token.brightness === "bright");
    case "bg16": return bg16Sequence(token.colour);
    case "xterm": return xtermColour(token.index, token.background, depth);
    case "rgb":
      return depth === "truecolor"
        ? truecolorSequence(token.r, token.g, token.b, token.background)
        : xtermColour(rgbToXterm(token.r, token.g, token.b), token.background, depth);
    default: return "";
  }
}

/** Render already-tokenized markup. */
export function renderAnsiTokens(tokens: readonly MarkupToken[], options: AnsiRenderOptions): string {
  const { depth } = options;
  const mxp = options.mxp === true;
  let out = "";
  let link: "command" | "url" | undefined;
  for (const token of tokens) {
    switch (token.kind) {
      case "text": {
        const text = depth === "none" ? stripTerminalEscapes(token.text) : token.text;
        out += mxp && link !== undefined ? mxpEscape(text) : text;
        break;
      }
      case "newline":
        out += ANSI_NEWLINE;
        break;
      case "linkStart":
        link = token.link;
        if (mxp) out += mxpOpenLink(token.link, token.target);
        break;
      case "linkEnd":
        if (mxp && link !== undefined) out += mxpCloseLink(link);
        link = undefined;
        break;
      default:
        if (depth !== "none") out += styleSequence(token, depth);
    }
  }
  return out;
}

/** Default number of cached renderings (the reference parser's cache size). */
export const DEFAULT_ANSI_CACHE_ENTRIES = 10_000;
/** Markup longer than this is rendered but not cached, so the cache's memory stays bounded. */
export const DEFAULT_ANSI_CACHE_MAX_MARKUP_LENGTH = 4_096;

const cache = new LruCache<string, string>(DEFAULT_ANSI_CACHE_ENTRIES);
let maxCachedMarkupLength = DEFAULT_ANSI_CACHE_MAX_MARKUP_LENGTH;

export interface AnsiCacheConfig {
  /** Maximum number of cached renderings; 0 disables the cache. */
  readonly maxEntries?: number;
  /** Markup longer than this (UTF-16 units) is never cached. */
  readonly maxMarkupLength?: number;
}

/** Reconfigure the process-wide renderAnsi cache (shrinking evicts the oldest entries). */
export function configureAnsiCache(config: AnsiCacheConfig): void {
  if (config.maxEntries !== undefined) cache.resize(config.maxEntries);
  if (config.maxMarkupLength !== undefined) {
    if (!Number.isInteger(config.maxMarkupLength) || config.maxMarkupLength < 0) {
      throw new RangeError(`maxMarkupLength must be a non-negative integer, got ${String(config.maxMarkupLength)}`);
    }
    maxCachedMarkupLength = config.maxMarkupLength;
  }
}

export function clearAnsiCache(): void {
  cache.clear();
}

export function ansiCacheStats(): { entries: number; maxEntries: number; maxMarkupLength: number } {
  return { entries: cache.size, maxEntries: cache.maxEntries, maxMarkupLength: maxCachedMarkupLength };
}

/** Render markup to terminal text at a colour depth. Cached by (depth, mxp, markup) when it has any markup. */
export function renderAnsi(markup: string, options: AnsiRenderOptions): string {
  // Without a bar there is no markup: the text is its own rendering. Not cached, as such lines
  // (an echo, a chat line) rarely repeat and each would evict a useful entry.
  if (markup.indexOf("|") < 0) return options.depth === "none" ? stripTerminalEscapes(markup) : markup;
  const cacheable = markup.length <= maxCachedMarkupLength;
  const key = cacheable ? `${options.depth}\u0000${options.mxp === true ? 1 : 0}\u0000${markup}` : "";
  if (cacheable) {
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
  }
  const rendered = renderAnsiTokens(tokenizeMarkup(markup), options);
  if (cacheable) cache.set(key, rendered);
  return rendered;
}

/**
 * Render one output line the way telnet text is sent (§4.1.10): with colour on, the result always ends in
 * exactly one `ESC[0m` (a trailing `|n` is not doubled, and an empty line still yields `ESC[0m`); with depth
 * "none" nothing is appended. The CR LF is still the transport's job.
 */
export function renderAnsiLine(markup: string, options: AnsiRenderOptions): string {
  const rendered = renderAnsi(markup, options);
  if (options.depth === "none" || rendered.endsWith(ANSI_RESET)) return rendered;
  return rendered + ANSI_RESET;
}
