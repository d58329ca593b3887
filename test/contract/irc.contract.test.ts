import type { CommandTuple } from "../../core/index.js";
import { runPluginContractSuite, waitFor } from "../../core/testing/index.js";
import { ircManifest } from "../../plugins/irc/index.js";
import { FakeIrcServer } from "../support/fake-irc-server.js";

// The IRC bot against the plugin contract: the peer is the IRC server it dials. Game output for
// IRC is `channel` (text and prompts never reach IRC), and IRC lines reach the game as bot_data_in.
let server: FakeIrcServer | undefined;

runPluginContractSuite({
  manifest: ircManifest,
  inputName: "bot_data_in",
  output: (text): CommandTuple => ["channel", [text], { channel: "public", nick: "Tester" }],
  peer: {
    async setUp() {
      server = await FakeIrcServer.start({ mode: "irc" });
    },
    async tearDown() {
      await server?.close();
      server = undefined;
    },
    config: () => ({
      uid: "irc:1", nick: "contractbot", host: "127.0.0.1", port: server!.port, channels: ["#contract"],
      flood: { ratePerSec: 100, burst: 100 },
    }),
    async connect() {
      const conn = await waitFor(() => server!.connections.find((c) => c.joined.has("#contract")), 5000, "the bot to join #contract");
      return {
        send: (text) => conn.send(`:alice!~alice@127.0.0.1 PRIVMSG #contract :${text}`),
        get received() {
          return conn.lines.join("\n");
        },
        get closed() {
          return conn.closed;
        },
        close: () => conn.close(),
      };
    },
  },
});
