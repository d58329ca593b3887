/** mIRC formatting codes and the mapping between the 16 basic colours and the mIRC 16-colour palette. */

export const IRC_BOLD = "\x02";
export const IRC_COLOUR = "\x03";
export const IRC_HEX_COLOUR = "\x04";
export const IRC_RESET = "\x0f";
export const IRC_MONOSPACE = "\x11";
export const IRC_REVERSE = "\x16";
export const IRC_ITALIC = "\x1d";
export const IRC_STRIKE = "\x1e";
export const IRC_UNDERLINE = "\x1f";
/** mIRC "default colour". */
export const IRC_DEFAULT_COLOUR = 99;

/** The toggled attributes shared by markup and mIRC, with their mIRC code. */
export const IRC_TOGGLES = {
  bold: IRC_BOLD,
  italic: IRC_ITALIC,
  underline: IRC_UNDERLINE,
  strike: IRC_STRIKE,
  reverse: IRC_REVERSE,
} as const;

export type IrcToggle = keyof typeof IRC_TOGGLES;

/**
 * 16-colour palette index (0..7 dark, 8..15 bright; see colour-convert.ts) ⇒ mIRC colour number.
 * mIRC: 0 white, 1 black, 2 navy, 3 green, 4 red, 5 maroon, 6 purple, 7 olive/orange, 8 yellow, 9 light green,
 * 10 teal, 11 cyan, 12 blue, 13 pink, 14 grey, 15 light grey.
 */
export const ANSI16_TO_MIRC: readonly number[] = [1, 5, 3, 7, 2, 6, 10, 15, 14, 4, 9, 8, 12, 13, 11, 0];

/** mIRC colour 0..15 ⇒ 16-colour palette index (the inverse of ANSI16_TO_MIRC). */
export const MIRC_TO_ANSI16: readonly number[] = Array.from({ length: 16 }, (_, mirc) => ANSI16_TO_MIRC.indexOf(mirc));

/** Two-digit form, so a following digit in the text can never extend the number. */
export function ircColourNumber(n: number): string {
  return String(n).padStart(2, "0");
}
