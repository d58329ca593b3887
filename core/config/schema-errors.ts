import type * as z from "zod";
import { configErrorMap } from "./issue-text.js";

/** One config problem: the key path (`limits.maxCharLimit`, `listeners[0].config`, `(root)`) and what is wrong. */
export interface ConfigIssue {
  key: string;
  problem: string;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** Renders a zod path as a key path under `prefix`: `tls.certFile`, `listeners[0].config`, `msspTable["NAME X"]`. */
export function keyPath(path: readonly PropertyKey[], prefix = ""): string {
  let out = prefix;
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (typeof segment === "string" && IDENTIFIER.test(segment)) out += out === "" ? segment : `.${segment}`;
    else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out === "" ? "(root)" : out;
}

/**
 * One entry per problem, in zod's order. An unrecognized key is reported at its own path
 * (`limits.bogus: unknown key`), not at its parent as zod does.
 */
export function formatIssues(issues: readonly z.core.$ZodIssue[], prefix = ""): ConfigIssue[] {
  return issues.flatMap((issue) =>
    issue.code === "unrecognized_keys"
      ? issue.keys.map((k) => ({ key: keyPath([...issue.path, k], prefix), problem: "unknown key" }))
      : [{ key: keyPath(issue.path, prefix), problem: issue.message }],
  );
}

/**
 * Parses `raw` with `schema` (problems worded by the shared config error map); on failure calls
 * `fail` with the first problem's key path and text.
 */
export function parseWithSchema<S extends z.ZodType>(schema: S, raw: unknown, fail: (keyPath: string, problem: string) => never): z.output<S> {
  const result = schema.safeParse(raw, { error: configErrorMap });
  if (result.success) return result.data;
  const [first] = formatIssues(result.error.issues);
  return fail(first?.key ?? "(root)", first?.problem ?? "invalid value");
}
