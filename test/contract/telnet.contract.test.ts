import { linesPeer, runPluginContractSuite } from "../../core/testing/index.js";
import { telnetManifest } from "../../plugins/telnet/index.js";
import { TelnetTestClient } from "../support/telnet-client.js";

// The telnet listener against the plugin contract, with a client that refuses every option.
runPluginContractSuite({
  manifest: telnetManifest,
  peer: {
    config: () => ({ handshakeTimeoutMs: 200 }),
    connect: async (plugin) => linesPeer(await TelnetTestClient.open(plugin.port)),
  },
});
