import type { PortalToGame } from "./link-messages.js";

/**
 * What the PortalSessionHandler needs of the link: a way to reach the game, whatever carries it
 * (the TCP link server today; a message broker when several portals serve one game).
 */
export interface GameChannel {
  readonly connected: boolean;
  send(msg: PortalToGame): void;
}
