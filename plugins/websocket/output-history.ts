import type { CommandTuple } from "../../core/index.js";

interface Entry {
  seq: number;
  tuple: CommandTuple;
  bytes: number;
}

/**
 * A session's recent output, numbered, bounded by count and bytes (oldest dropped first), so a tab
 * that resumes gets what it missed: what was sent after the last frame it saw, and what was produced
 * while it was away.
 */
export class OutputHistory {
  private readonly entries: Entry[] = [];
  private bytes = 0;
  /** Number of the newest output (0: none yet). */
  seq = 0;

  constructor(private readonly maxMessages: number, private readonly maxBytes: number) {}

  /** Records one output instruction; returns its number. */
  record(tuple: CommandTuple): number {
    this.seq += 1;
    const bytes = estimateBytes(tuple);
    if (this.maxMessages > 0 && bytes <= this.maxBytes) {
      this.entries.push({ seq: this.seq, tuple, bytes });
      this.bytes += bytes;
      while (this.entries.length > this.maxMessages || this.bytes > this.maxBytes) this.bytes -= this.entries.shift()!.bytes;
    }
    return this.seq;
  }

  /** Outputs numbered above `after`, and how many of those were no longer kept. */
  since(after: number): { tuples: CommandTuple[]; lost: number } {
    const kept = this.entries.filter((e) => e.seq > after);
    const wanted = Math.max(0, this.seq - after);
    return { tuples: kept.map((e) => e.tuple), lost: wanted - kept.length };
  }
}

function estimateBytes(tuple: CommandTuple): number {
  try {
    return JSON.stringify(tuple).length;
  } catch {
    return 1024;
  }
}
