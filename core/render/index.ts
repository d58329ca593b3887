/** Public surface of the shared colour-markup renderer. */
export type { MarkupToken, Decoration, Brightness, TokenKind, ColourToken } from "./markup-tokens.js";
export { tokenizeMarkup, cubeIndex, greyIndex } from "./markup-tokenizer.js";
export {
  ANSI16_PALETTE, CUBE_LEVELS, xtermToRgb, rgbToXterm, hexToXterm, parseHexColour, rgbToAnsi16Index,
  xtermToAnsi16Index, xtermToAnsi16, rgbToAnsi16, rgbToHex, type Rgb, type Ansi16,
} from "./colour-convert.js";
export { ESC, ANSI_RESET } from "./ansi-sequences.js";
export {
  renderAnsi, renderAnsiLine, renderAnsiTokens, configureAnsiCache, clearAnsiCache, ansiCacheStats,
  ANSI_NEWLINE, DEFAULT_ANSI_CACHE_ENTRIES, DEFAULT_ANSI_CACHE_MAX_MARKUP_LENGTH,
  type ColourDepth, type AnsiRenderOptions, type AnsiCacheConfig,
} from "./ansi-renderer.js";
export { MXP_TEMP_SECURE, mxpEscape } from "./mxp.js";
export { renderHtml, renderHtmlTokens, MARKUP_HTML_CSS, type HtmlRenderOptions } from "./html-renderer.js";
export { escapeHtml, safeLinkUrl, HTML_LINK_SCHEMES } from "./html-escape.js";
export { renderIrc, renderIrcTokens } from "./irc-renderer.js";
export { ircToMarkup } from "./irc-to-markup.js";
export { ANSI16_TO_MIRC, MIRC_TO_ANSI16 } from "./irc-codes.js";
export {
  stripMarkup, stripTokens, screenReaderText, stripScreenReaderDecoration, SCREENREADER_STRIP,
} from "./strip.js";
export { stripTerminalEscapes, stripControls } from "./control-chars.js";
export { colourDepthFor, flagValue, type OutputResolution } from "./colour-depth.js";
export { LruCache } from "./lru-cache.js";
