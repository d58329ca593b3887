import type { GameChannel } from "../link/game-channel.js";
import type { PortalToGame } from "../link/link-messages.js";

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

  clear(): void {
    this.sent.length = 0;
  }
}
