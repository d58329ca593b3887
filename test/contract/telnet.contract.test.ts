import { runPluginContractSuite } from "../../core/testing/index.js";
import { telnetManifest } from "../../plugins/telnet/index.js";
import { TelnetTestClient } from "../support/telnet-client.js";

// The telnet listener against the plugin contract, with a client that refuses every option.
runPluginContractSuite({
  manifest: telnetManifest,
  peer: {
    config: () => ({ handshakeTimeoutMs: 200 }),
    async connect(plugin) {
      const client = await TelnetTestClient.open(plugin.port);
      return {
        send: (text) => client.send(text),
        get received() {
          return client.lines.join("\n");
        },
        get closed() {
          return client.closed;
        },
        close: () => client.close(),
      };
    },
  },
});
