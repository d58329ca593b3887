/**
 * Splits items into consecutive groups whose summed size stays within `budget`; an item larger than
 * the budget goes alone. Used to send session tables of any size as several link messages.
 */
export function chunkBySize<T>(items: readonly T[], sizeOf: (item: T) => number, budget: number): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let size = 0;
  for (const item of items) {
    const n = sizeOf(item);
    if (current.length > 0 && size + n > budget) {
      chunks.push(current);
      current = [];
      size = 0;
    }
    current.push(item);
    size += n;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** The budget for one chunk of a session table: well under a frame, so a chunk plus its envelope always fits. */
export function syncChunkBudget(maxFrameBytes: number, batchMaxBytes: number): number {
  return Math.max(1024, Math.min(batchMaxBytes, Math.floor(maxFrameBytes / 4)));
}
