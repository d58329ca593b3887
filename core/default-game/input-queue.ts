/**
 * One queue of input per session: a session's lines run one after another (a slow login check
 * holds back the next line instead of racing it), different sessions run independently.
 * Each queue is bounded; a line beyond the bound is refused.
 */
export class SessionQueues {
  private readonly tails = new Map<string, { tail: Promise<void>; size: number }>();

  constructor(
    private readonly maxPerSession: number,
    private readonly onError: (sessid: string, err: unknown) => void,
  ) {}

  /** Queues `task` for `sessid`; false when that session already has `maxPerSession` lines waiting. */
  push(sessid: string, task: () => void | Promise<void>): boolean {
    const entry = this.tails.get(sessid) ?? { tail: Promise.resolve(), size: 0 };
    if (entry.size >= this.maxPerSession) return false;
    entry.size++;
    entry.tail = entry.tail
      .then(task)
      .catch((err: unknown) => this.onError(sessid, err))
      .finally(() => {
        entry.size--;
        if (entry.size === 0 && this.tails.get(sessid) === entry) this.tails.delete(sessid);
      });
    this.tails.set(sessid, entry);
    return true;
  }

  /** Resolves when every line queued so far has run (lines queued meanwhile are waited for too). */
  async drain(): Promise<void> {
    while (this.tails.size > 0) await Promise.all([...this.tails.values()].map((e) => e.tail));
  }

  /** Forgets a session's queue (already running work still finishes). */
  drop(sessid: string): void {
    this.tails.delete(sessid);
  }
}
