/**
 * Output-option resolution for a session (§4.1.10). A per-message option wins over the session's protocol flag;
 * options use lower-case keys (`xterm256`, `truecolor`, `ansi`, `nocolor`, `raw`, `screenreader`, `mxp`), flags
 * upper-case ones (`XTERM256`, `TRUECOLOR`, `ANSI`, `NOCOLOR`, `RAW`, `SCREENREADER`, `MXP`, `TTYPE`).
 *
 *   xterm256  = option ?? (TTYPE ? XTERM256 : true)
 *   truecolor = option ?? (TTYPE ? TRUECOLOR : true)
 *   ansi      = option ?? (TTYPE ? ANSI : true)           until TTYPE completes, full colour is assumed
 *   nocolor   = option ?? (NOCOLOR || !(xterm256 || ansi))
 *   raw, screenreader, mxp = option ?? flag
 *
 * depth: "none" if nocolor or screenreader (a screen reader gets all markup stripped), else "truecolor" if
 * truecolor, else "xterm256" if xterm256, else "ansi16".
 */
import type { ColourDepth } from "./ansi-renderer.js";

export interface OutputResolution {
  readonly depth: ColourDepth;
  /** Send the markup untouched (no rendering at all). */
  readonly raw: boolean;
  /** Strip all markup and apply the screen-reader filter. */
  readonly screenreader: boolean;
  /** Render links as MXP tags. */
  readonly mxp: boolean;
}

/**
 * Interpret a flag or option value. Booleans as is; numbers: non-zero; strings: "true", "yes", "on", "1"
 * (case-insensitive) are true, everything else false; null/undefined: unset; anything else: JavaScript truthiness.
 */
export function flagValue(value: unknown): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "boolean") return value;
  if (typeof value === "number") return value !== 0 && !Number.isNaN(value);
  if (typeof value === "string") return ["true", "yes", "on", "1"].includes(value.trim().toLowerCase());
  return Boolean(value);
}

/** Resolve colour depth and rendering switches from a session's protocol flags and a message's options. */
export function colourDepthFor(flags: Record<string, unknown>, options: Record<string, unknown>): OutputResolution {
  const ttypeDone = flagValue(flags["TTYPE"]) === true;
  const capability = (option: string, flag: string): boolean =>
    flagValue(options[option]) ?? (ttypeDone ? flagValue(flags[flag]) ?? false : true);
  const xterm256 = capability("xterm256", "XTERM256");
  const truecolor = capability("truecolor", "TRUECOLOR");
  const ansi = capability("ansi", "ANSI");
  const nocolor = flagValue(options["nocolor"]) ?? (flagValue(flags["NOCOLOR"]) === true || !(xterm256 || ansi));
  const raw = flagValue(options["raw"]) ?? flagValue(flags["RAW"]) ?? false;
  const screenreader = flagValue(options["screenreader"]) ?? flagValue(flags["SCREENREADER"]) ?? false;
  const mxp = flagValue(options["mxp"]) ?? flagValue(flags["MXP"]) ?? false;
  let depth: ColourDepth;
  if (nocolor || screenreader) depth = "none";
  else if (truecolor) depth = "truecolor";
  else if (xterm256) depth = "xterm256";
  else depth = "ansi16";
  return { depth, raw, screenreader, mxp };
}
