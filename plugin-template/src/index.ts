import { definePlugin, type PluginManifest } from "portico";
import { lineConfigSchema } from "./config.js";
import { LineFactory } from "./line-factory.js";

/**
 * The plugin's manifest: what Portico registers, and what config and `server_connect` name by `path`.
 * (The type annotation keeps the package's .d.ts files free of paths into Portico's own node_modules.)
 */
export const lineManifest: PluginManifest<typeof lineConfigSchema> = definePlugin({
  path: "portico-plugin-line.LineFactory",
  direction: "inbound",
  pluginApi: "^2.0.0",
  factory: LineFactory,
  config: lineConfigSchema,
  description: "Plain line-based TCP (the plugin template)",
});

export { LineFactory, lineConfigSchema };
export { LineSession } from "./line-session.js";
export type { LineConfig } from "./config.js";
