import { definePlugin } from "../../core/index.js";
import { parseRssConfig, rssConfigSchema } from "./config.js";
import { RssBotFactory } from "./rss-bot-factory.js";

export const rssManifest = definePlugin({
  path: "plugins.rss.RssBotFactory",
  direction: "outbound",
  pluginApi: "^2.0.0",
  factory: RssBotFactory,
  config: rssConfigSchema,
  description: "Feed bot: RSS 0.9x/1.0/2.0 and Atom items into a game channel, primed silently, never re-posted, with conditional GET and back-off",
});

export { RssBotFactory, parseRssConfig, rssConfigSchema };
