import { definePlugin } from "../../core/index.js";
import { parseTelnetConfig, telnetConfigSchema } from "./config.js";
import { TelnetFactory } from "./telnet-factory.js";

export const telnetManifest = definePlugin({
  path: "plugins.telnet.TelnetFactory",
  direction: "inbound",
  pluginApi: "^2.0.0",
  factory: TelnetFactory,
  config: telnetConfigSchema,
  description: "Telnet and TLS telnet with the MUD protocols (SGA, ECHO, NAWS, TTYPE/MTTS, CHARSET, EOR, MCCP2, MSSP, GMCP, MSDP, MXP)",
});

export { TelnetFactory, parseTelnetConfig, telnetConfigSchema };
export { TelnetSession } from "./telnet-session.js";
