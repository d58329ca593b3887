import type { PortalError } from "../errors/portal-error.js";
import type { GameToPortal, PortalToGame } from "../link/link-messages.js";
import { GameLinkClient, type GameLinkOptions } from "./game-link-client.js";

export interface GameTransportEvents {
  /** The messages of one frame from portal `portal` (the transport's key for it), in order. */
  frame(portal: string, msgs: PortalToGame[]): void;
  /** The link to `portal` is down; `err` says why when it was not a clean close. */
  down(portal: string, err?: PortalError): void;
}

/**
 * How the game SDK reaches its portals: one TCP link to one portal, or NATS to several. Keys name
 * the portals (over NATS, the portal id itself).
 */
export interface GameTransport {
  start(events: GameTransportEvents): void;
  stop(): Promise<void>;
  /** Queues a message for one portal; false when that portal's link is not up (and synced). */
  send(portal: string, msg: GameToPortal): boolean;
  /** Writes what is queued for that portal now. */
  flush(portal: string): void;
  /** Whether the link to that portal is up and its portal-sync complete. */
  linked(portal: string): boolean;
  /**
   * True when a portal whose link went down is presumed gone, and the SDK drops its sessions at once
   * (NATS: the link is only declared down after the heartbeat timeout). False for the one TCP link:
   * its portal usually still holds the sessions, and the next portal-sync settles them.
   */
  readonly dropsSessionsOnDown: boolean;
  /** True when keys are portal ids (a portal-sync naming another id is refused). */
  readonly keysArePortalIds: boolean;
  /**
   * How long after start the portals' hand-overs are gathered before any input runs (several
   * portals answer a new game process within this time); 0 or absent: none.
   */
  readonly settleMs?: number;
}

/** The key of the one portal behind a TCP link. */
export const TCP_PORTAL = "tcp";

/** The TCP link (GameLinkClient) as a GameTransport of one portal. */
export class TcpGameTransport implements GameTransport {
  readonly dropsSessionsOnDown = false;
  readonly keysArePortalIds = false;
  private client: GameLinkClient | undefined;

  constructor(private readonly options: GameLinkOptions) {}

  start(events: GameTransportEvents): void {
    this.client ??= new GameLinkClient(this.options, {
      frame: (msgs) => events.frame(TCP_PORTAL, msgs),
      down: (err) => events.down(TCP_PORTAL, err),
    });
    this.client.start();
  }

  stop(): Promise<void> {
    return this.client?.stop() ?? Promise.resolve();
  }

  send(_portal: string, msg: GameToPortal): boolean {
    return this.client?.send(msg) ?? false;
  }

  flush(): void {
    this.client?.flush();
  }

  linked(): boolean {
    return this.client?.connected ?? false;
  }
}
