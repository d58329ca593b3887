import type { BotSession } from "../../sessions/bot-session.js";
import { PluginBase } from "./plugin-base.js";

/**
 * Base of every outbound plugin (a bot the game starts with `server-connect`). A subclass writes
 * `createSession()`, `connect()` (dial, or schedule the first poll) and `disconnect()` (undo
 * everything connect made). Here: the bot's one session is handed to the portal before
 * `connect()` (never through the players' connection throttle), start()/stop() are idempotent,
 * and when the game disconnects the session the bot stops itself.
 */
export abstract class OutboundBot<C = unknown, S extends BotSession = BotSession> extends PluginBase<C> {
  protected session: S | undefined;

  /** Makes the bot's session (a `BotSession` subclass). */
  protected abstract createSession(): S;
  /** Starts the bot's transport. Resolve once the first attempt is under way; retries are the bot's own. */
  protected abstract connect(): Promise<void> | void;
  /** Closes every socket and timer `connect()` made; must also cope with a connect() still in progress. */
  protected abstract disconnect(): Promise<void> | void;

  start(): Promise<void> {
    return this.lifecycle.start(async () => {
      const session = this.createSession();
      session.onHangUp = (reason) => {
        this.logger.info({ reason }, "bot stopped by the game");
        void this.ctx.stopSelf().catch(() => this.stop());
      };
      this.session = session;
      this.ctx.openSession(session);
      await this.connect();
    });
  }

  stop(): Promise<void> {
    return this.lifecycle.stop(async () => {
      try {
        await this.disconnect();
      } finally {
        this.session?.ended();
      }
    });
  }

  status(): Record<string, unknown> {
    return { state: this.state, bot: this.session?.protocol_flags.BOT_STATE ?? "stopped" };
  }
}
