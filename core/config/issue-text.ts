import type * as z from "zod";

// The one wording of config problems, as a zod error map passed to every config parse (portal and
// plugins), so a schema's own message (`.refine(..., "must contain {text}")`, `{ error: ... }`) still wins.

type RawIssue = z.core.$ZodRawIssue;

const KIND: Record<string, string> = {
  number: "a number",
  int: "a whole number",
  string: "a string",
  boolean: "true or false",
  object: "an object",
  record: "an object",
  array: "a list",
  tuple: "a list",
  null: "null",
};

/** A short rendering of a bad value: JSON for scalars, a word for containers. */
function showValue(value: unknown): string {
  if (value === undefined) return "nothing";
  if (typeof value === "number") return String(value);
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object" && value !== null) return "an object";
  if (typeof value === "string") return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  return typeof value === "bigint" ? `${value}` : JSON.stringify(value) ?? String(value);
}

function kind(expected: string): string {
  return KIND[expected] ?? expected;
}

interface Bound {
  value: number;
  inclusive: boolean;
}

/** The numeric bounds declared on the schema that owns a too_small/too_big issue (`.min()`, `.max()`, `.gt()`...). */
function boundsOf(schema: z.core.$ZodType | undefined): { min?: Bound; max?: Bound } {
  const out: { min?: Bound; max?: Bound } = {};
  for (const check of schema?._zod.def.checks ?? []) {
    const def = check._zod.def as { check: string; value?: unknown; inclusive?: boolean };
    if (typeof def.value !== "number") continue;
    if (def.check === "greater_than") out.min = { value: def.value, inclusive: def.inclusive ?? true };
    if (def.check === "less_than") out.max = { value: def.value, inclusive: def.inclusive ?? true };
  }
  return out;
}

function numberRange(issue: RawIssue): string {
  const { min, max } = boundsOf(issue.schema);
  const got = `got ${showValue(issue.input)}`;
  if (min?.inclusive && max?.inclusive) return `must be between ${min.value} and ${max.value}, ${got}`;
  const parts: string[] = [];
  if (min) parts.push(`${min.inclusive ? "at least" : "more than"} ${min.value}`);
  if (max) parts.push(`${max.inclusive ? "at most" : "less than"} ${max.value}`);
  if (parts.length === 0) {
    if (issue.code === "too_small") parts.push(`${issue.inclusive === false ? "more than" : "at least"} ${issue.minimum}`);
    if (issue.code === "too_big") parts.push(`${issue.inclusive === false ? "less than" : "at most"} ${issue.maximum}`);
  }
  return `must be ${parts.join(" and ")}, ${got}`;
}

function sizeText(issue: RawIssue & { code: "too_small" | "too_big" }): string {
  const unit = issue.origin === "string" ? "characters" : "entries";
  if (issue.code === "too_small") {
    if (Number(issue.minimum) <= 1) return "must not be empty";
    return `must have at least ${issue.minimum} ${unit}`;
  }
  return `must have at most ${issue.maximum} ${unit}`;
}

function unionText(issue: RawIssue & { code: "invalid_union" }): string {
  const expected = issue.errors.flatMap((branch) => branch.filter((i) => i.code === "invalid_type" && i.path.length === 0).map((i) => kind((i as { expected: string }).expected)));
  if (expected.length === issue.errors.length && expected.length > 0) return `expected ${[...new Set(expected)].join(" or ")}, got ${showValue(issue.input)}`;
  return `does not match any allowed form, got ${showValue(issue.input)}`;
}

/** The problem text of one issue, e.g. `expected a number, got "abc"` or `must be between 0 and 65535, got 70000`. */
export function issueText(issue: RawIssue): string {
  switch (issue.code) {
    case "invalid_type":
      if (issue.input === undefined) return `missing, expected ${kind(issue.expected)}`;
      if (issue.expected === "object" || issue.expected === "record") return `expected an object, got ${showValue(issue.input)}`;
      return `expected ${kind(issue.expected)}, got ${showValue(issue.input)}`;
    case "invalid_value":
      if (issue.values.length === 1) return `expected ${showValue(issue.values[0])}, got ${showValue(issue.input)}`;
      return `expected one of ${issue.values.join(", ")}, got ${showValue(issue.input)}`;
    case "too_small":
    case "too_big":
      return issue.origin === "number" || issue.origin === "int" ? numberRange(issue) : sizeText(issue);
    case "invalid_format":
      if (issue.format === "regex") return `invalid value ${showValue(issue.input)}`;
      return `expected ${issue.format}, got ${showValue(issue.input)}`;
    case "not_multiple_of":
      return `must be a multiple of ${issue.divisor}, got ${showValue(issue.input)}`;
    case "unrecognized_keys":
      return "unknown key";
    case "invalid_union":
      return unionText(issue);
    case "invalid_key":
      return `invalid key ${showValue(issue.input)}`;
    default:
      return `invalid value ${showValue(issue.input)}`;
  }
}

/** The error map passed to config parses. */
export const configErrorMap: z.core.$ZodErrorMap = (issue) => issueText(issue);
