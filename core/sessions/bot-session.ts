import type { Kwargs } from "../messages/command-tuple.js";
import type { ByteCounted } from "./byte-meter.js";
import { PortalSession } from "./portal-session.js";

/** Who the game knows a bot as: the session starts logged in with this id. */
export interface BotIdentity {
  uid: number | string;
  uname?: string | null;
}

/**
 * The one portal session of an outbound bot (an IRC bridge, a feed reader). It is logged in from the
 * start with the game-given uid and lives from the bot's start to its stop, through any number of
 * reconnects of the bot's own transport, so the game never sees two sessions for one bot. Text
 * and prompts (e.g. "Server restarted.") are ignored unless a subclass handles them. When the game
 * disconnects it, the bot that owns it stops.
 */
export abstract class BotSession extends PortalSession {
  /** Set by `OutboundBot`: stops the bot (the game disconnected its session). */
  onHangUp: ((reason?: string) => void) | undefined;

  protected constructor(protocolKey: string, address: string | null, identity: BotIdentity) {
    super(protocolKey, address);
    this.uid = identity.uid;
    this.uname = identity.uname ?? null;
    this.logged_in = true;
    this.protocol_flags.BOT_STATE = "starting";
  }

  /** The bot's connection state, shown to the game (e.g. `irc2chan/list`); the game is told when it changes. */
  setBotState(state: string): void {
    if (this.protocol_flags.BOT_STATE === state) return;
    this.protocol_flags.BOT_STATE = state;
    this.syncFlags();
  }

  send_text(_args: unknown[], _kwargs: Kwargs): void {}

  /** Counts one of the bot's transports (each reconnect's socket) into `bytesIn`/`bytesOut`; totals carry over. */
  override measure(transport: ByteCounted): void {
    super.measure(transport);
  }

  /** The bot has stopped: the session ends (called by `OutboundBot.stop()`). */
  ended(): void {
    this.connectionLost();
  }

  protected hangUp(reason?: string): void {
    this.onHangUp?.(reason);
  }
}
