import type { PluginManifest } from "../core/index.js";
import { ircManifest } from "./irc/index.js";
import { rssManifest } from "./rss/index.js";
import { telnetManifest } from "./telnet/index.js";
import { websocketManifest } from "./websocket/index.js";

/**
 * The bundled plugins, one manifest per line. Community plugins are npm packages named in
 * config (plugins.allowPackages).
 */
export const bundledPlugins: readonly PluginManifest[] = [telnetManifest, websocketManifest, ircManifest, rssManifest];
