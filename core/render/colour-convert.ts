/**
 * Pure colour conversions used by every renderer.
 *
 * Palettes:
 * - The 16 basic colours use the common xterm "system" values (index 0..15 below). Index `c` (0..7) is the dark
 *   form of ANSI colour `30 + c`; `c + 8` is its bright (bold) form.
 * - xterm 16..231 is the 6×6×6 cube with channel levels 0, 95, 135, 175, 215, 255; 232..255 is the grey ramp
 *   8, 18, .., 238.
 * "Nearest" always means the smallest squared Euclidean distance in RGB; ties go to the lower index.
 */

export type Rgb = readonly [number, number, number];

/** A 16-colour approximation: basic colour 0..7 plus whether it is the bright (bold) variant. */
export interface Ansi16 {
  readonly colour: number;
  readonly bright: boolean;
}

export const CUBE_LEVELS: readonly number[] = [0, 95, 135, 175, 215, 255];

/** RGB values of the 16 basic colours (0..7 dark, 8..15 bright). */
export const ANSI16_PALETTE: readonly Rgb[] = [
  [0, 0, 0], [128, 0, 0], [0, 128, 0], [128, 128, 0], [0, 0, 128], [128, 0, 128], [0, 128, 128], [192, 192, 192],
  [128, 128, 128], [255, 0, 0], [0, 255, 0], [255, 255, 0], [0, 0, 255], [255, 0, 255], [0, 255, 255], [255, 255, 255],
];

function clampByte(value: number): number {
  return Number.isFinite(value) ? Math.min(255, Math.max(0, Math.round(value))) : 0;
}

function distance(a: Rgb, b: Rgb): number {
  const dr = a[0] - b[0];
  const dg = a[1] - b[1];
  const db = a[2] - b[2];
  return dr * dr + dg * dg + db * db;
}

/** RGB value of an xterm-256 palette index (out-of-range indices are clamped to 0..255). */
export function xtermToRgb(index: number): Rgb {
  const i = Math.min(255, Math.max(0, Math.trunc(Number.isFinite(index) ? index : 0)));
  if (i < 16) return ANSI16_PALETTE[i]!;
  if (i >= 232) {
    const v = 8 + 10 * (i - 232);
    return [v, v, v];
  }
  const n = i - 16;
  return [CUBE_LEVELS[Math.floor(n / 36)]!, CUBE_LEVELS[Math.floor(n / 6) % 6]!, CUBE_LEVELS[n % 6]!];
}

function nearestLevel(value: number): number {
  let best = 0;
  for (let i = 1; i < CUBE_LEVELS.length; i++) {
    if (Math.abs(CUBE_LEVELS[i]! - value) < Math.abs(CUBE_LEVELS[best]! - value)) best = i;
  }
  return best;
}

/**
 * Nearest xterm-256 colour in 16..255 (the cube and the grey ramp: the colours a `|RGB` or `|=x` tag can name).
 * Distance is separable per channel, so the nearest cube point is the per-channel nearest level; the nearest
 * ramp grey is the ramp step nearest the channel mean. The cube wins ties.
 */
export function rgbToXterm(r: number, g: number, b: number): number {
  const rgb: Rgb = [clampByte(r), clampByte(g), clampByte(b)];
  const cube = 16 + 36 * nearestLevel(rgb[0]) + 6 * nearestLevel(rgb[1]) + nearestLevel(rgb[2]);
  const mean = (rgb[0] + rgb[1] + rgb[2]) / 3;
  const grey = 232 + Math.min(23, Math.max(0, Math.round((mean - 8) / 10)));
  return distance(xtermToRgb(grey), rgb) < distance(xtermToRgb(cube), rgb) ? grey : cube;
}

/** Parse `#RRGGBB`, `#RGB` (the `#` is optional, case-insensitive). */
export function parseHexColour(hex: string): Rgb | undefined {
  const m = /^#?([0-9a-f]{6}|[0-9a-f]{3})$/i.exec(hex);
  if (m === null) return undefined;
  const digits = m[1]!.length === 3 ? [...m[1]!].map((d) => d + d).join("") : m[1]!;
  const value = parseInt(digits, 16);
  return [value >> 16, (value >> 8) & 0xff, value & 0xff];
}

/** Nearest xterm-256 index (16..255) for a hex colour; undefined when the string is not a hex colour. */
export function hexToXterm(hex: string): number | undefined {
  const rgb = parseHexColour(hex);
  return rgb === undefined ? undefined : rgbToXterm(rgb[0], rgb[1], rgb[2]);
}

/** Nearest of the 16 basic colours to an RGB value, as a palette index 0..15. */
export function rgbToAnsi16Index(r: number, g: number, b: number): number {
  const rgb: Rgb = [clampByte(r), clampByte(g), clampByte(b)];
  let best = 0;
  let bestDistance = Infinity;
  ANSI16_PALETTE.forEach((entry, index) => {
    const d = distance(entry, rgb);
    if (d < bestDistance) {
      best = index;
      bestDistance = d;
    }
  });
  return best;
}

const XTERM_TO_ANSI16: readonly number[] = Array.from({ length: 256 }, (_, index) =>
  index < 16 ? index : rgbToAnsi16Index(...xtermToRgb(index)),
);

/** Nearest 16-colour palette index (0..15) for an xterm-256 index; 0..15 map to themselves. */
export function xtermToAnsi16Index(index: number): number {
  return XTERM_TO_ANSI16[Math.min(255, Math.max(0, Math.trunc(Number.isFinite(index) ? index : 0)))]!;
}

/** Nearest 16-colour approximation of an xterm-256 index, split into basic colour and brightness. */
export function xtermToAnsi16(index: number): Ansi16 {
  const i = xtermToAnsi16Index(index);
  return { colour: i & 7, bright: i >= 8 };
}

/** Hex colour ⇒ 16 colours the way §4.1.11 prescribes: first the nearest xterm tag, then its nearest 16-colour. */
export function rgbToAnsi16(r: number, g: number, b: number): Ansi16 {
  return xtermToAnsi16(rgbToXterm(r, g, b));
}

/** `#rrggbb` (lower case) for an RGB triple. */
export function rgbToHex(rgb: Rgb): string {
  return "#" + rgb.map((c) => clampByte(c).toString(16).padStart(2, "0")).join("");
}
