import type { GameChannel } from "../link/game-channel.js";
import type { PortalToGame, SyncEntry } from "../link/link-messages.js";

/** A portal-sync as the game assembles it from its parts. */
export interface ReceivedSync {
  header: Extract<PortalToGame, { op: "portal-sync" }>;
  sessions: SyncEntry[];
  fresh: string[];
  /** How many portal-sync-sessions messages carried it. */
  parts: number;
  complete: boolean;
}

/** A GameChannel that records what the portal sends; `connected` is settable. */
export class MemoryChannel implements GameChannel {
  connected = true;
  readonly sent: PortalToGame[] = [];

  send(msg: PortalToGame): void {
    if (this.connected) this.sent.push(msg);
  }

  ofOp<K extends PortalToGame["op"]>(op: K): Extract<PortalToGame, { op: K }>[] {
    return this.sent.filter((m): m is Extract<PortalToGame, { op: K }> => m.op === op);
  }

  /** The last portal-sync sent, assembled from its parts (undefined when none was sent). */
  lastSync(): ReceivedSync | undefined {
    let sync: ReceivedSync | undefined;
    for (const m of this.sent) {
      if (m.op === "portal-sync") sync = { header: m, sessions: [], fresh: [], parts: 0, complete: false };
      else if (m.op === "portal-sync-sessions" && sync && !sync.complete) {
        sync.sessions.push(...m.sessions);
        sync.fresh.push(...m.fresh);
        sync.parts++;
      } else if (m.op === "portal-sync-end" && sync) sync.complete = true;
    }
    return sync;
  }

  clear(): void {
    this.sent.length = 0;
  }
}
