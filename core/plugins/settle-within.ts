/**
 * Waits for `work` at most `ms` milliseconds: true when it resolved in time, false on timeout
 * (the work goes on unobserved; a later rejection is swallowed). A rejection in time is rethrown.
 */
export async function settleWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  work.catch(() => undefined);
  try {
    return await Promise.race([work.then(() => true as const), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
