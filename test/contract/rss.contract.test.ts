import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runPluginContractSuite, waitFor } from "../../core/testing/index.js";
import { rssManifest } from "../../plugins/rss/index.js";
import { FeedServer, rss2, type ItemSpec } from "../support/feed-server.js";

// The feed bot against the plugin contract. Its peer is the HTTP server it polls: "sending" is
// publishing an item, which must reach the game; nothing goes from the game to a feed, and a polled
// server sees no connection end, so those two checks are the suite's connectionless variants.
let server: FeedServer | undefined;
let items: ItemSpec[] = [];
let dataDir = "";

function publish(): void {
  server!.set("/feed.xml", { body: rss2("Contract feed", items) });
}

runPluginContractSuite({
  manifest: rssManifest,
  inputName: "bot_data_in",
  output: null,
  dataDir: () => dataDir,
  peer: {
    connectionless: true,
    async setUp() {
      dataDir = mkdtempSync(join(tmpdir(), "portico-rss-contract-"));
      server = await FeedServer.start();
      items = [{ title: "first", guid: "1", link: "http://example.test/1" }];
      publish();
    },
    async tearDown() {
      await server?.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
    config: () => ({ uid: "rss:1", url: server!.url("/feed.xml"), intervalSeconds: 1, minIntervalSeconds: 1, postIntervalMs: 0 }),
    async connect() {
      // Connected once the first poll has primed the feed (the second poll has begun).
      await waitFor(() => server!.requestsFor("/feed.xml").length >= 2, 5000, "the bot to poll twice");
      return {
        send(text: string) {
          items = [{ title: text, guid: `g-${items.length + 1}`, link: `http://example.test/${items.length + 1}` }, ...items];
          publish();
        },
        received: "",
        closed: false,
        close() {},
      };
    },
  },
});
