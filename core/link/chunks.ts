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

/**
 * Packs serialized messages into the batches of one frame each (`[a,b,...]`): about `batchMaxBytes`
 * each, and, as lengths are counted in UTF-16 units, at most a third of the frame cap, which keeps
 * any batch of several under the cap in bytes. A message alone in its batch may be larger.
 */
export function frameBatches(jsons: readonly string[], batchMaxBytes: number, maxFrameBytes: number): string[][] {
  const limit = Math.min(batchMaxBytes, Math.floor(maxFrameBytes / 3));
  return chunkBySize(jsons, (json) => json.length + 1, limit - 2);
}

/** Whether a serialized message fits a frame of `maxFrameBytes` (with its brackets); exact bytes counted only near the limit. */
export function fitsFrame(json: string, maxFrameBytes: number): boolean {
  return json.length * 3 + 2 <= maxFrameBytes || Buffer.byteLength(json) + 2 <= maxFrameBytes;
}
