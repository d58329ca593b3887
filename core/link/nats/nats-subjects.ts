/**
 * The subjects of one game's link over NATS (docs/link-protocol.md, "Over NATS"). Everything sits
 * under the game's prefix, so two games on one NATS never see each other's traffic.
 */
export class NatsSubjects {
  constructor(readonly prefix: string) {}

  /** Game → every portal: a game process announces itself (hello). */
  get hello(): string {
    return `${this.prefix}.hello`;
  }

  /** Portal → games: a portal without a game says it is there (portal-here), every heartbeat. */
  get beacon(): string {
    return `${this.prefix}.beacon`;
  }

  /** Game → one portal: a hello for it alone, and the epoch's envelopes. */
  portal(portalId: string): string {
    return `${this.prefix}.portal.${portalId}`;
  }

  /** Portal → one game process: the epoch's envelopes; the last token names the portal. */
  game(gameId: string, portalId: string): string {
    return `${this.prefix}.game.${gameId}.${portalId}`;
  }

  /** What a game process subscribes to for every portal's envelopes. */
  gameAll(gameId: string): string {
    return `${this.prefix}.game.${gameId}.*`;
  }

  /** Request/reply at a portal's start: is another live portal already using this id? */
  whois(portalId: string): string {
    return `${this.prefix}.whois.${portalId}`;
  }
}
