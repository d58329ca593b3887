import { waitFor } from "./wait-for.js";

/** Counts of the process's live handles (sockets, servers, timers that keep it alive…) by type. */
export function openHandles(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const type of process.getActiveResourcesInfo()) counts.set(type, (counts.get(type) ?? 0) + 1);
  return counts;
}

/** Types with more live handles now than in `before`, e.g. `TCPSocketWrap +1`; empty when none. */
export function newHandles(before: ReadonlyMap<string, number>): string[] {
  const out: string[] = [];
  for (const [type, n] of openHandles()) {
    const extra = n - (before.get(type) ?? 0);
    if (extra > 0) out.push(`${type} +${extra}`);
  }
  return out;
}

/** Waits (bounded) until the process has no more live handles of any type than in `before`; throws naming the extra ones. */
export async function expectNoNewHandles(before: ReadonlyMap<string, number>, timeoutMs = 2000): Promise<void> {
  await waitFor(() => newHandles(before).length === 0, timeoutMs, () => `no handles left open (extra: ${newHandles(before).join(", ")})`);
}
