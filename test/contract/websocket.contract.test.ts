import type { CommandTuple } from "../../core/index.js";
import { runPluginContractSuite } from "../../core/testing/index.js";
import { websocketManifest } from "../../plugins/websocket/index.js";
import { WsTestClient } from "../support/ws-client.js";

// The websocket listener against the plugin contract, with a v1.evennia.com client. A socket that
// drops does not end its session at once (it waits for the tab to resume), so a peer hanging up is
// not expected to end the session here; websocket.test.ts covers the grace window.
runPluginContractSuite({
  manifest: websocketManifest,
  peerHangUpEndsSession: false,
  output: (text): CommandTuple => ["text", [text], {}],
  peer: {
    async connect(plugin) {
      const c = await WsTestClient.open(`ws://127.0.0.1:${plugin.port}/ws`);
      return {
        send: (text) => c.sendV1("text", [text]),
        get received() {
          return c.text;
        },
        get closed() {
          return c.closed;
        },
        close: () => c.close(),
      };
    },
  },
});
