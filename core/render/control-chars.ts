/**
 * Removal of terminal escape sequences and control characters from text that must not carry them
 * (plain-text/screen-reader output, HTML, IRC in both directions).
 */

/**
 * ESC-introduced sequences: CSI (`ESC [ params intermediates final`), OSC (`ESC ] … BEL|ESC \`), the string
 * commands DCS/SOS/PM/APC (`ESC P|X|^|_ … ESC \`), any other `ESC <intermediates> <final>`, a lone ESC, and the
 * 8-bit CSI (U+009B, with its parameters when complete). Unterminated sequences are removed as far as they go.
 */
const ESCAPE_SEQUENCES =
  /\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[PX^_][^\x1b]*(?:\x1b\\)?|[ -/]*[0-~])?|\x9b(?:[0-?]*[ -/]*[@-~])?/g;

/** C0 controls except TAB, LF and CR, plus DEL and the C1 range. */
const CONTROLS_EXCEPT_WHITESPACE = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]/g;

/** Remove ANSI/VT escape sequences (and any lone ESC). */
export function stripTerminalEscapes(text: string): string {
  return text.includes("\x1b") || text.includes("\x9b") ? text.replace(ESCAPE_SEQUENCES, "") : text;
}

/** Remove escape sequences, then every control character other than TAB, LF and CR. */
export function stripControls(text: string): string {
  return stripTerminalEscapes(text).replace(CONTROLS_EXCEPT_WHITESPACE, "");
}
