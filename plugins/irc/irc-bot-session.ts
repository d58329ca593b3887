import { PortalSession, type Kwargs, type SessionPort } from "../../core/index.js";
import type { IrcConfig } from "./config.js";

/** What the session asks of the bridge behind it. */
export interface BridgeActions {
  fromGame(text: string, kwargs: Kwargs): void;
  privmsg(user: string, text: string): void;
  requestNicklist(): void;
  ping(): void;
  reconnect(): void;
  /** The game disconnected the bot: stop it for good. */
  shutdown(reason?: string): void;
}

/**
 * The one portal session of an IRC bot (protocol key `ircbot`). It exists from start to stop,
 * through any number of IRC reconnects, so the game never sees two sessions for one bot. It is
 * logged in from the start with the game-given uid. Only `channel`, `privmsg`, `request_nicklist`,
 * `ping` and `reconnect` output reaches IRC; text and prompts (e.g. "Server restarted.") never do.
 */
export class IrcBotSession extends PortalSession {
  constructor(port: SessionPort, config: IrcConfig, private readonly bridge: BridgeActions, now: number) {
    super(port, "ircbot", `${config.channels.join(",")}@${config.host}`, now);
    this.uid = config.uid;
    this.uname = config.nick;
    this.logged_in = true;
    this.protocol_flags.BOT_STATE = "starting";
  }

  /** Input from IRC for the game. */
  fromIrc(text: string, kwargs: Kwargs): void {
    this.dataIn(["bot_data_in", [text], kwargs]);
  }

  /** The bot's connection state, shown to the game (e.g. `irc2chan/list`). */
  setState(state: string): void {
    if (this.protocol_flags.BOT_STATE === state) return;
    this.protocol_flags.BOT_STATE = state;
    if (!this.closedAlready) this.port.sync(this);
  }

  /** The bridge has stopped: the session ends. */
  ended(): void {
    this.closed();
  }

  send_text(_args: unknown[], _kwargs: Kwargs): void {}
  send_prompt(_args: unknown[], _kwargs: Kwargs): void {}

  send_channel(args: unknown[], kwargs: Kwargs): void {
    const text = args[0] === undefined || args[0] === null ? "" : String(args[0]);
    if (text !== "") this.bridge.fromGame(text, kwargs);
  }

  send_privmsg(args: unknown[], kwargs: Kwargs): void {
    const user = typeof kwargs.user === "string" ? kwargs.user : typeof args[1] === "string" ? args[1] : "";
    const text = args[0] === undefined || args[0] === null ? "" : String(args[0]);
    if (user && text) this.bridge.privmsg(user, text);
  }

  send_request_nicklist(_args: unknown[], _kwargs: Kwargs): void {
    this.bridge.requestNicklist();
  }

  send_ping(_args: unknown[], _kwargs: Kwargs): void {
    this.bridge.ping();
  }

  send_reconnect(_args: unknown[], _kwargs: Kwargs): void {
    this.bridge.reconnect();
  }

  close(reason?: string): void {
    this.bridge.shutdown(reason);
  }
}
