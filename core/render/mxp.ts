/**
 * MXP link output (spec §4.1.7). Only links are produced, always in "temp secure" mode: every tag, opening and
 * closing, is preceded by `ESC[4z` so a client left in locked mode (`ESC[7z`) still parses it.
 *
 *   command link:  ESC[4z<SEND HREF="cmd">labelESC[4z</SEND>
 *   url link:      ESC[4z<A HREF="url">labelESC[4z</A>
 *
 * Escaping: MXP uses HTML-like entities, so `&`, `<`, `>` and `"` become `&amp;`, `&lt;`, `&gt;`, `&quot;` in
 * the HREF attribute and in the label text. Control characters (CR, LF, ESC, …) are removed from the attribute,
 * because an MXP tag cannot span lines.
 */
import { stripTerminalEscapes } from "./control-chars.js";

export const MXP_TEMP_SECURE = "\x1b[4z";

const ENTITY: Readonly<Record<string, string>> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" };

/** Replace `& < > "` with MXP entities. */
export function mxpEscape(text: string): string {
  return text.replace(/[&<>"]/g, (ch) => ENTITY[ch]!);
}

/** Escape an attribute value and drop controls that would break the tag. */
export function mxpAttribute(value: string): string {
  return mxpEscape(stripTerminalEscapes(value).replace(/[\x00-\x1f\x7f]/g, ""));
}

export function mxpOpenLink(link: "command" | "url", target: string): string {
  const tag = link === "command" ? "SEND" : "A";
  return `${MXP_TEMP_SECURE}<${tag} HREF="${mxpAttribute(target)}">`;
}

export function mxpCloseLink(link: "command" | "url"): string {
  return `${MXP_TEMP_SECURE}</${link === "command" ? "SEND" : "A"}>`;
}
