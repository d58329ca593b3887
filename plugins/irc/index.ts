import { definePlugin } from "../../core/index.js";
import { ircConfigSchema, parseIrcConfig } from "./config.js";
import { IrcBotFactory } from "./irc-bot-factory.js";

export const ircManifest = definePlugin({
  path: "plugins.irc.IrcBotFactory",
  direction: "outbound",
  pluginApi: "^2.0.0",
  factory: IrcBotFactory,
  config: ircConfigSchema,
  description: "IRC bridge bot: game channels ⇄ IRC channels, with flood control, splitting and reconnects owned by Portico",
});

export { IrcBotFactory, ircConfigSchema, parseIrcConfig };
