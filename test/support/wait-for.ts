/**
 * Polls `predicate` until it returns a truthy value (or a promise of one) and resolves with that
 * value; rejects once `timeoutMs` has passed. Every wait in the tests is bounded by it.
 */
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  timeoutMs = 2000,
  what = "condition",
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
      throw new Error(`waitFor: ${what} not met within ${timeoutMs} ms${suffix}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Resolves after `ms` milliseconds (for asserting that something does *not* happen). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
