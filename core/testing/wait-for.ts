/**
 * Polls `predicate` until it returns a truthy value (or a promise of one) and resolves with that
 * value; rejects once `timeoutMs` has passed. Every wait in the tests is bounded by it. `what`
 * names the condition in the error; as a function it is asked only then (e.g. for the last output).
 */
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  timeoutMs = 2000,
  what: string | (() => string) = "condition",
  intervalMs = 5,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await predicate();
      if (value) return value as NonNullable<T>;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const suffix = lastError instanceof Error ? ` (last error: ${lastError.message})` : "";
      throw new Error(`waitFor: ${typeof what === "function" ? what() : what} not met within ${timeoutMs} ms${suffix}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * Resolves with the first of `lines` (at or after index `from`) that contains `match` (a string) or
 * matches it (a RegExp); `lines` may still be growing. Rejects after `timeoutMs`, showing the last lines.
 */
export async function waitForLine(lines: readonly string[], match: string | RegExp, timeoutMs: number, from = 0, intervalMs = 10): Promise<string> {
  const test = (l: string) => (typeof match === "string" ? l.includes(match) : match.test(l));
  const found = await waitFor(
    () => {
      for (let i = from; i < lines.length; i++) if (test(lines[i]!)) return { line: lines[i]! };
      return undefined;
    },
    timeoutMs,
    () => `a line matching ${String(match)} (last lines: ${JSON.stringify(lines.slice(-10))})`,
    intervalMs,
  );
  return found.line;
}

/** Resolves after `ms` milliseconds (for asserting that something does *not* happen). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
