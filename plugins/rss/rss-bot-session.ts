import { BotSession, type Kwargs, type Outputs } from "../../core/index.js";
import type { RssConfig } from "./config.js";

/**
 * The one portal session of a feed bot (protocol key `rssbot`), logged in with the game-given uid.
 * New items reach the game as `bot_data_in [line] {type: "rss", feed, link}`; the bot's state
 * (last fetch, last new item, failures, next poll) is its `BOT_STATE` flag. Output to it is ignored.
 */
export class RssBotSession extends BotSession implements Outputs<RssBotSession, "text"> {
  constructor(config: RssConfig) {
    super("rssbot", config.url, { uid: config.uid, uname: "rss" });
  }

  post(line: string, kwargs: Kwargs): void {
    this.dataIn(["bot_data_in", [line], { type: "rss", ...kwargs }]);
  }

  override send_text(_args: unknown[], _kwargs: Kwargs): void {}
}
