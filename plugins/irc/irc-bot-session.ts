import { BotSession, type Kwargs, type Outputs } from "../../core/index.js";
import type { IrcConfig } from "./config.js";

/** What the session asks of the bridge behind it. */
export interface BridgeActions {
  fromGame(text: string, kwargs: Kwargs): void;
  privmsg(user: string, text: string): void;
  requestNicklist(): void;
  ping(): void;
  reconnect(): void;
}

type IrcOutputs = "text" | "prompt" | "channel" | "privmsg" | "request_nicklist" | "ping" | "reconnect";

/**
 * The one portal session of an IRC bot (protocol key `ircbot`), logged in with the game-given uid
 * for the bot's whole life (see BotSession). Only `channel`, `privmsg`, `request_nicklist`, `ping`
 * and `reconnect` output reaches IRC; text and prompts (e.g. "Server restarted.") never do.
 */
export class IrcBotSession extends BotSession implements Outputs<IrcBotSession, IrcOutputs> {
  constructor(config: IrcConfig, private readonly bridge: BridgeActions) {
    super("ircbot", `${config.channels.join(",")}@${config.host}`, { uid: config.uid, uname: config.nick });
  }

  /** Input from IRC for the game. */
  fromIrc(text: string, kwargs: Kwargs): void {
    this.dataIn(["bot_data_in", [text], kwargs]);
  }

  override send_text(_args: unknown[], _kwargs: Kwargs): void {}
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
}
