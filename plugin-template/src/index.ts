import { definePlugin, PORTAL_API_VERSION } from "../../core/index.js";
import { parseLineConfig } from "./config.js";
import { LineFactory } from "./line-factory.js";

/** The plugin's manifest: what the registry checks and `server_connect` resolves by path. */
export const lineManifest = definePlugin({
  path: "plugins.line.LineFactory",
  direction: "inbound",
  portalApi: PORTAL_API_VERSION,
  factory: LineFactory,
  parseConfig: parseLineConfig,
  description: "Plain line-based TCP (the plugin template)",
});

export { LineFactory, parseLineConfig };
