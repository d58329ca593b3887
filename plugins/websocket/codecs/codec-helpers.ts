import {
  colourDepthFor, escapeHtml, renderAnsiLine, renderHtml, screenReaderText, type CommandTuple, type Kwargs, type ProtocolFlags,
} from "../../../core/index.js";
import { ignored, input, type Decoded } from "./codec.js";

const UTF8 = new TextDecoder("utf-8", { fatal: true });

/** The frame's bytes as UTF-8, or undefined when they are not valid UTF-8. */
export function utf8(data: Buffer): string | undefined {
  try {
    return UTF8.decode(data);
  } catch {
    return undefined;
  }
}

/** Nesting depth of JSON text (brackets outside strings), stopping early past `limit`. */
export function jsonDepth(text: string, limit: number): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max && (max = depth) > limit) return max;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

/** Parses JSON after checking its depth; `{ ok: false, why }` for invalid or too deep input. */
export function parseJson(text: string, maxDepth: number): { ok: true; value: unknown } | { ok: false; why: string } {
  if (jsonDepth(text, maxDepth) > maxDepth) return { ok: false, why: `JSON nested deeper than ${maxDepth}` };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false, why: "not valid JSON" };
  }
}

/** A plain JSON object (not an array, not null). */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Kwargs without `options` (the portal's rendering options never go to the client). */
export function withoutOptions(kwargs: Kwargs): Kwargs {
  if (!("options" in kwargs)) return kwargs;
  const { options: _options, ...rest } = kwargs;
  return rest;
}

/** Every non-empty line of a terminal-style frame as one `text` input. */
export function textLines(text: string): Decoded {
  const lines = text.split(/\r\n|\r|\n/).map((l) => l.trim()).filter((l) => l !== "");
  return lines.length === 0 ? ignored("empty text") : input(...lines.map((l): CommandTuple => ["text", [l], {}]));
}

const optionsOf = (kwargs: Kwargs): Record<string, unknown> => (isPlainObject(kwargs.options) ? kwargs.options : {});

/** Game markup as escaped HTML for the web client (colours inline), honouring raw, nocolor and screenreader. */
export function toHtml(text: string, kwargs: Kwargs, flags: ProtocolFlags): string {
  const r = colourDepthFor(flags, optionsOf(kwargs));
  if (r.raw) return escapeHtml(text);
  if (r.screenreader) return escapeHtml(screenReaderText(text));
  return renderHtml(text, { nocolor: r.depth === "none" });
}

/** Game markup as ANSI for terminal-style formats (mudstandards.org), honouring the same switches. */
export function toAnsi(text: string, kwargs: Kwargs, flags: ProtocolFlags): string {
  const r = colourDepthFor(flags, optionsOf(kwargs));
  if (r.raw) return text;
  if (r.screenreader) return screenReaderText(text);
  return renderAnsiLine(text, { depth: r.depth, mxp: false });
}
