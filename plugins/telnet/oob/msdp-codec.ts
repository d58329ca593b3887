import type { CommandTuple, Kwargs } from "../../../core/index.js";

export const MSDP_VAR = 1;
export const MSDP_VAL = 2;
export const MSDP_TABLE_OPEN = 3;
export const MSDP_TABLE_CLOSE = 4;
export const MSDP_ARRAY_OPEN = 5;
export const MSDP_ARRAY_CLOSE = 6;

const str = (v: unknown) => (typeof v === "string" ? v : typeof v === "object" && v !== null ? JSON.stringify(v) : String(v));
/** MSDP values may not contain its control bytes, IAC or NUL. */
const clean = (s: string) => s.replace(/[\x00-\x06\xff]/g, "");

/** Encodes one output instruction in MSDP form (the caller sends this string as UTF-8). */
export function encodeMsdp(name: string, args: readonly unknown[], kwargs: Kwargs): string {
  const { options: _options, ...kw } = kwargs;
  const V = String.fromCharCode(MSDP_VAR);
  const L = String.fromCharCode(MSDP_VAL);
  const n = clean(name);
  const keys = Object.keys(kw);
  if (args.length === 0 && keys.length === 0) return `${V}${n}${L}`;
  let out = "";
  if (args.length === 1 && keys.length === 0) return `${V}${n}${L}${clean(str(args[0]))}`;
  if (args.length > 0) {
    out += `${V}${n}${L}${String.fromCharCode(MSDP_ARRAY_OPEN)}`;
    for (const a of args) out += `${L}${clean(str(a))}`;
    out += String.fromCharCode(MSDP_ARRAY_CLOSE);
  }
  if (keys.length > 0) {
    out += `${V}${n}${L}${String.fromCharCode(MSDP_TABLE_OPEN)}`;
    for (const k of keys) out += `${V}${clean(k)}${L}${clean(str(kw[k]))}`;
    out += String.fromCharCode(MSDP_TABLE_CLOSE);
  }
  return out;
}

/** A Map: the variable name comes from the client, and must not find Object.prototype's members. */
const GENERIC: ReadonlyMap<string, string> = new Map([["LIST", "msdp_list"], ["REPORT", "msdp_report"], ["RESET", "msdp_reset"], ["SEND", "msdp_send"], ["UNREPORT", "msdp_unreport"]]);

/** Nesting deeper than this is read as plain text. */
const MAX_DEPTH = 8;

/** Reads a value at `i`: a plain string, an array or a table (nesting allowed); returns the value and the next index. */
function readValue(b: Buffer, i: number, depth = 0): [unknown, number] {
  if (depth >= MAX_DEPTH) return readText(b, i + 1);
  if (b[i] === MSDP_ARRAY_OPEN) {
    const items: unknown[] = [];
    i++;
    while (i < b.length && b[i] !== MSDP_ARRAY_CLOSE) {
      if (b[i] === MSDP_VAL) {
        const [v, next] = readValue(b, i + 1, depth + 1);
        items.push(v);
        i = next;
      } else i++;
    }
    return [items, i + 1];
  }
  if (b[i] === MSDP_TABLE_OPEN) {
    const table: Kwargs = {};
    i++;
    while (i < b.length && b[i] !== MSDP_TABLE_CLOSE) {
      if (b[i] === MSDP_VAR) {
        const [key, afterKey] = readText(b, i + 1);
        let value: unknown = "";
        let next = afterKey;
        if (b[afterKey] === MSDP_VAL) [value, next] = readValue(b, afterKey + 1, depth + 1);
        if (key !== "__proto__") table[key] = value;
        i = next;
      } else i++;
    }
    return [table, i + 1];
  }
  return readText(b, i);
}

function readText(b: Buffer, i: number): [string, number] {
  let end = i;
  while (end < b.length && b[end]! > MSDP_ARRAY_CLOSE) end++;
  return [b.toString("utf8", i, end), end];
}

/**
 * Decodes an MSDP subnegotiation into game input tuples, merged per variable name: array items
 * become args, a table becomes kwargs, a plain value is appended to args. LIST/REPORT/RESET/SEND/
 * UNREPORT (any case) become msdp_list, msdp_report, ...
 */
export function decodeMsdp(payload: Buffer): CommandTuple[] {
  const merged = new Map<string, CommandTuple>();
  let i = 0;
  while (i < payload.length) {
    if (payload[i] !== MSDP_VAR) {
      i++;
      continue;
    }
    const [name, afterName] = readText(payload, i + 1);
    i = afterName;
    const key = GENERIC.get(name.toUpperCase()) ?? name;
    let tuple = merged.get(key);
    if (!tuple) {
      tuple = [key, [], {}];
      merged.set(key, tuple);
    }
    while (payload[i] === MSDP_VAL) {
      const [value, next] = readValue(payload, i + 1);
      i = next;
      if (Array.isArray(value)) tuple[1].push(...value);
      else if (typeof value === "object" && value !== null) Object.assign(tuple[2], value);
      else if (value !== "") tuple[1].push(value);
    }
  }
  return [...merged.values()];
}
