import { definePlugin, z } from "../../core/index.js";
import { parseTelnetConfig } from "./config.js";
import { TelnetFactory } from "./telnet-factory.js";

export const telnetManifest = definePlugin({
  path: "plugins.telnet.TelnetFactory",
  direction: "inbound",
  pluginApi: "^2.0.0",
  factory: TelnetFactory,
  // TODO(config-schemas): the telnet schema replaces this wrapper.
  config: z.record(z.string(), z.unknown()).transform((raw) => parseTelnetConfig(raw)),
  description: "Telnet and TLS telnet with the MUD protocols (SGA, ECHO, NAWS, TTYPE/MTTS, CHARSET, EOR, MCCP2, MSSP, GMCP, MSDP, MXP)",
});

export { TelnetFactory, parseTelnetConfig };
export { TelnetSession } from "./telnet-session.js";
