import { definePlugin, PORTAL_API_VERSION } from "../../core/index.js";
import { parseTelnetConfig } from "./config.js";
import { TelnetFactory } from "./telnet-factory.js";

export const telnetManifest = definePlugin({
  path: "plugins.telnet.TelnetFactory",
  direction: "inbound",
  portalApi: PORTAL_API_VERSION,
  factory: TelnetFactory,
  parseConfig: parseTelnetConfig,
  description: "Telnet and TLS telnet with the MUD protocols (SGA, ECHO, NAWS, TTYPE/MTTS, CHARSET, EOR, MCCP2, MSSP, GMCP, MSDP, MXP)",
});

export { TelnetFactory, parseTelnetConfig };
export { TelnetSession } from "./telnet-session.js";
