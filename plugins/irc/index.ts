import { definePlugin, PORTAL_API_VERSION } from "../../core/index.js";
import { parseIrcConfig } from "./config.js";
import { IrcBotFactory } from "./irc-bot-factory.js";

export const ircManifest = definePlugin({
  path: "plugins.irc.IrcBotFactory",
  direction: "outbound",
  portalApi: PORTAL_API_VERSION,
  factory: IrcBotFactory,
  parseConfig: parseIrcConfig,
  description: "IRC bridge bot: game channels ⇄ IRC channels, with flood control, splitting and reconnects owned by Portico",
});

export { IrcBotFactory, parseIrcConfig };
