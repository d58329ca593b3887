import type { Rng } from "../prng.js";

/**
 * Generic mutators shared by the fuzz targets (test/torture/fuzz-*.test.ts): bytes (flip, insert a
 * special byte, delete, duplicate a run, truncate), random chunking, text and JSON values.
 */

/** 1-6 random edits of `input`; inserted bytes are drawn from `specials` (the format's delimiters) or anything. */
export function mutateBytes(rng: Rng, input: Buffer, specials: readonly number[] = [0, 10, 13, 0xff]): Buffer {
  let b = Buffer.from(input);
  const n = rng.range(1, 6);
  for (let k = 0; k < n && b.length > 0; k++) {
    const at = rng.int(b.length);
    switch (rng.int(6)) {
      case 0: b[at] = rng.int(256); break;
      case 1: b = Buffer.concat([b.subarray(0, at), Buffer.from([rng.chance(0.85) ? rng.pick(specials) : rng.int(256)]), b.subarray(at)]); break;
      case 2: b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + rng.range(1, 16)))]); break;
      case 3: b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + rng.range(1, 64)), b.subarray(at)]); break;
      case 4: b = b.subarray(0, at); break;
      default: b[at] = b[at]! ^ (1 << rng.int(8));
    }
  }
  return b;
}

/** `b` cut into random chunks: whole, single bytes (up to 4 KiB), up to 64 bytes, or up to 4 KiB each. */
export function splitChunks(rng: Rng, b: Buffer): Buffer[] {
  const style = rng.int(4);
  if (style === 0 || b.length === 0) return [b];
  if (style === 1 && b.length <= 4096) return [...b].map((x) => Buffer.from([x]));
  const max = style === 2 ? 64 : 4096;
  const out: Buffer[] = [];
  for (let i = 0; i < b.length;) {
    const n = rng.range(1, max);
    out.push(b.subarray(i, i + n));
    i += n;
  }
  return out;
}

/** Strings that break naive handling: empty, huge, control characters, bidi overrides, lone surrogates, prototype keys, markup. */
export const NASTY_STRINGS: readonly string[] = [
  "", " ", "\u0000", "\r\n", "\n\n\n", "\t", "\x1b[2J\x1b[31m", "\x07", "\u202e\u2066rtl", "\u2028\u2029", "\ud800", "\udfff\ud800",
  "__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "|r|h|u|*", "||", "{servername}", "%s%n%x", "<script>x</script>",
  "&amp;&#0;&#x110000;&lt", "日本語", "😀".repeat(40), "é", "\uFEFF", "null", "true", "[]", "{}", "-0", "1e309", "NaN",
];

/** A random JSON-compatible value (depth-bounded), with a taste for edge cases. */
export function randomJson(rng: Rng, depth = 3): unknown {
  const k = rng.int(depth > 0 ? 12 : 8);
  switch (k) {
    case 0: return null;
    case 1: return rng.chance(0.5);
    case 2: return rng.pick([0, -1, 1, 2 ** 31, 2 ** 53, -(2 ** 53) - 2, 1.5, 1e308, -1e-308, Number.MAX_SAFE_INTEGER + 2]);
    case 3: return rng.int(1000);
    case 4: case 5: return rng.pick(NASTY_STRINGS);
    case 6: return randomText(rng, rng.int(40));
    case 7: return rng.chance(0.02) ? "x".repeat(rng.range(10_000, 200_000)) : randomText(rng, rng.int(8));
    case 8: case 9: return Array.from({ length: rng.int(5) }, () => randomJson(rng, depth - 1));
    default: {
      const o: Record<string, unknown> = {};
      // Own properties, as JSON.parse makes them ("__proto__" included, not a prototype).
      for (let i = rng.int(5); i > 0; i--) {
        const key = rng.chance(0.3) ? rng.pick(NASTY_STRINGS) : randomText(rng, rng.range(1, 8));
        Object.defineProperty(o, key, { value: randomJson(rng, depth - 1), enumerable: true, writable: true, configurable: true });
      }
      return o;
    }
  }
}

/** `n` random characters: mostly printable ASCII, some controls, Latin-1, BMP and astral characters. */
export function randomText(rng: Rng, n: number): string {
  let s = "";
  for (let i = 0; i < n; i++) {
    const r = rng.int(20);
    s += r < 14 ? String.fromCharCode(32 + rng.int(95))
      : r < 16 ? String.fromCharCode(rng.int(32))
        : r < 18 ? String.fromCharCode(128 + rng.int(128))
          : r < 19 ? String.fromCharCode(0x100 + rng.int(0xd700))
            : String.fromCodePoint(0x10000 + rng.int(0x10000));
  }
  return s;
}

/** A structurally mutated copy of `value`: a node replaced, removed, retyped, duplicated or deeply nested. */
export function mutateJson(rng: Rng, value: unknown, rounds = rng.range(1, 3)): unknown {
  // A JSON round trip (not structuredClone, which would turn an own "__proto__" key into a prototype).
  let v = JSON.parse(JSON.stringify(value) ?? "null") as unknown;
  for (let i = 0; i < rounds; i++) v = mutateNode(rng, v, 0);
  return v;
}

function mutateNode(rng: Rng, v: unknown, depth: number): unknown {
  const descend = depth < 6 && rng.chance(0.6);
  if (descend && Array.isArray(v) && v.length > 0) {
    const i = rng.int(v.length);
    v[i] = mutateNode(rng, v[i], depth + 1);
    return v;
  }
  if (descend && typeof v === "object" && v !== null) {
    const keys = Object.keys(v);
    if (keys.length > 0) {
      const key = rng.pick(keys);
      Object.defineProperty(v, key, { value: mutateNode(rng, (v as Record<string, unknown>)[key], depth + 1), enumerable: true, writable: true, configurable: true });
      return v;
    }
  }
  switch (rng.int(9)) {
    case 0: return randomJson(rng, 2);
    case 1: return undefined; // the key disappears (JSON.stringify drops it; in an array it becomes null)
    case 2: return typeof v === "string" ? v + randomText(rng, rng.range(1, 10)) : JSON.stringify(v) ?? "undefined";
    case 3: return typeof v === "number" ? rng.pick([-v, v + 1, v * 1e6, -1, 0.5, 2 ** 53]) : rng.int(10);
    case 4: return Array.isArray(v) ? [...v, ...v] : [v];
    case 5: return { value: v, __proto__x: 1, ["__proto__"]: { polluted: true } };
    case 6: {
      let deep: unknown = v;
      for (let d = rng.range(10, rng.chance(0.1) ? 2000 : 60); d > 0; d--) deep = rng.chance(0.5) ? [deep] : { a: deep };
      return deep;
    }
    case 7: return Array.isArray(v) ? v.slice(0, rng.int(v.length + 1)) : null;
    default: return typeof v === "string" ? rng.pick(NASTY_STRINGS) : v;
  }
}

/** Text-level edits of serialized JSON (or any text): cut, bracket or quote inserted, a run duplicated, characters swapped. */
export function mutateText(rng: Rng, s: string): string {
  let t = s;
  for (let n = rng.range(1, 4); n > 0; n--) {
    const at = rng.int(t.length + 1);
    switch (rng.int(6)) {
      case 0: t = t.slice(0, at); break;
      case 1: t = t.slice(0, at) + rng.pick(["{", "}", "[", "]", '"', ",", ":", "\\", "\\u", "\u0000", "\ud800", " ", "null"]) + t.slice(at); break;
      case 2: t = t.slice(0, at) + t.slice(at + rng.range(1, 8)); break;
      case 3: t = t.slice(0, at) + t.slice(at, at + rng.range(1, 30)) + t.slice(at); break;
      case 4: t = t.slice(0, at) + randomText(rng, rng.range(1, 6)) + t.slice(at); break;
      default: t = t.slice(0, at) + t.slice(at + 1, at + 2) + t.slice(at, at + 1) + t.slice(at + 2);
    }
  }
  return t;
}
