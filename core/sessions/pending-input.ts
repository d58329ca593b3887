import type { CommandTuple } from "../messages/command-tuple.js";

/** Input held per session while it cannot reach the game; bounded per session. */
export class PendingInput<S extends object> {
  private readonly held = new Map<S, CommandTuple[]>();

  constructor(private readonly maxPerSession: number) {}

  /** Keeps the tuple; false when this session's buffer is full (the tuple is not kept). */
  push(session: S, tuple: CommandTuple): boolean {
    let list = this.held.get(session);
    if (!list) {
      list = [];
      this.held.set(session, list);
    }
    if (list.length >= this.maxPerSession) return false;
    list.push(tuple);
    return true;
  }

  take(session: S): CommandTuple[] {
    const list = this.held.get(session) ?? [];
    this.held.delete(session);
    return list;
  }

  drop(session: S): void {
    this.held.delete(session);
  }

  /** Total tuples held, for status and metrics. */
  get size(): number {
    let n = 0;
    for (const list of this.held.values()) n += list.length;
    return n;
  }
}
