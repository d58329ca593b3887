import { definePlugin, z } from "../../core/index.js";
import { parseIrcConfig } from "./config.js";
import { IrcBotFactory } from "./irc-bot-factory.js";

export const ircManifest = definePlugin({
  path: "plugins.irc.IrcBotFactory",
  direction: "outbound",
  pluginApi: "^2.0.0",
  factory: IrcBotFactory,
  // TODO(config-schemas): the IRC schema replaces this wrapper.
  config: z.record(z.string(), z.unknown()).transform((raw) => parseIrcConfig(raw)),
  description: "IRC bridge bot: game channels ⇄ IRC channels, with flood control, splitting and reconnects owned by Portico",
});

export { IrcBotFactory, parseIrcConfig };
