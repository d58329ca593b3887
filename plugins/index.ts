import type { PluginManifest } from "../core/index.js";

/**
 * The bundled plugins, one manifest per line. Telnet, websocket, IRC and RSS land here as their
 * issues are done; community plugins are npm packages named in config (plugins.allowPackages).
 */
export const bundledPlugins: readonly PluginManifest[] = [];
