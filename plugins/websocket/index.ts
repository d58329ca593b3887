import { definePlugin } from "../../core/index.js";
import { parseWebsocketConfig, websocketConfigSchema } from "./config.js";
import { WebsocketFactory } from "./websocket-factory.js";

export const websocketManifest = definePlugin({
  path: "plugins.websocket.WebsocketFactory",
  direction: "inbound",
  pluginApi: "^2.0.0",
  factory: WebsocketFactory,
  config: websocketConfigSchema,
  description: "Websocket listener and the browser web client: Evennia v1 and mudstandards.org json/gmcp/terminal formats, resume after a dropped connection",
});

export { WebsocketFactory, parseWebsocketConfig, websocketConfigSchema };
export { WebsocketSession } from "./websocket-session.js";
