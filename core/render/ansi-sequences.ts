/**
 * The exact escape sequences of §4.1.11, one function per markup element. Every SGR parameter is emitted as its
 * own `ESC[…m` sequence (e.g. `|r` ⇒ `ESC[1m` `ESC[31m`), matching the reference byte-for-byte.
 */
import type { Decoration } from "./markup-tokens.js";

export const ESC = "\x1b";
export const ANSI_RESET = "\x1b[0m";

export function sgr(parameters: string | number): string {
  return `${ESC}[${parameters}m`;
}

export const ANSI_BOLD_ON = sgr(1);
export const ANSI_BOLD_OFF = sgr(22);
export const ANSI_INVERSE = sgr(7);
export const ANSI_BLINK = sgr(5);

const DECORATION_CODES: Readonly<Record<Decoration, readonly [number, number]>> = {
  underline: [4, 24],
  italic: [3, 23],
  strike: [9, 29],
};

export function decorationSequence(decoration: Decoration, on: boolean): string {
  const [onCode, offCode] = DECORATION_CODES[decoration];
  return sgr(on ? onCode : offCode);
}

/** 16-colour foreground; `bright` true ⇒ `ESC[1m` first, false ⇒ `ESC[22m` first, undefined ⇒ colour only. */
export function fg16Sequence(colour: number, bright: boolean | undefined): string {
  const prefix = bright === undefined ? "" : bright ? ANSI_BOLD_ON : ANSI_BOLD_OFF;
  return prefix + sgr(30 + colour);
}

export function bg16Sequence(colour: number): string {
  return sgr(40 + colour);
}

export function xtermSequence(index: number, background: boolean): string {
  return sgr(`${background ? 48 : 38};5;${index}`);
}

export function truecolorSequence(r: number, g: number, b: number, background: boolean): string {
  return sgr(`${background ? 48 : 38};2;${r};${g};${b}`);
}
