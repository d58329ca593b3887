import type { SessionId } from "./session-data.js";

/**
 * Hands out session ids of the form `<portalId>:<run>:<n>`. `run` is persisted and raised on
 * every portal start (see DataDir.nextRun in state/data-dir.ts), so an id is never reused, also across portal
 * restarts, and ids from several portals serving one game never collide.
 */
export class SessidAllocator {
  private counter = 0;

  constructor(
    readonly portalId: string,
    readonly run: number,
  ) {}

  next(): SessionId {
    this.counter += 1;
    return `${this.portalId}:${this.run}:${this.counter}`;
  }
}
