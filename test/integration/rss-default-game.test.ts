import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDefaultGame, type DefaultGame } from "../../core/default-game/game.js";
import { readLinkSecret } from "../../core/game/index.js";
import { createPortalMetrics } from "../../core/metrics/portal-metrics.js";
import { Portal } from "../../core/portal.js";
import { LineClient } from "../../core/testing/line-client.js";
import { MemoryLogger, sleep, waitFor } from "../../core/testing/index.js";
import { lineManifest } from "../../plugin-template/src/index.js";
import { bundledPlugins } from "../../plugins/index.js";
import { FeedServer, rss2, type ItemSpec } from "../support/feed-server.js";
import { IrcObserver } from "../support/irc-observer.js";
import { startNgircd, type Ngircd } from "../support/ngircd.js";

/**
 * The default game's rss2chan with the real RSS plugin: subscribe (a non-feed is refused and not
 * saved), items posted to the channel once, the state in rss2chan/list, no re-posts across a game
 * reload and a portal restart, delete; and an item reaching IRC (ngircd) through the channel's IRC link.
 */
describe("rss2chan end to end: default game + RSS plugin (+ IRC bridge on ngircd)", function () {
  this.timeout(60_000);
  let feeds: FeedServer;
  let dataDir: string;
  const closers: (() => unknown)[] = [];
  const items = (...n: number[]): ItemSpec[] => n.map((i) => ({ title: `Item ${i}`, guid: `id-${i}`, link: `http://example.test/${i}` }));

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "portico-rss2chan-"));
    feeds = await FeedServer.start();
  });
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
    await feeds.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** A portal (line listener + bundled plugins, polls allowed every second) and the default game. */
  async function portico(): Promise<{ portal: Portal; startGame: () => Promise<DefaultGame>; linePort: number; game: DefaultGame }> {
    const portal = new Portal({
      config: {
        dataDir, link: { port: 0 }, limits: { maxConnectionRate: 0 },
        plugins: { settings: { "plugins.rss.RssBotFactory": { minIntervalSeconds: 1, postIntervalMs: 0 } } },
        listeners: [{ plugin: lineManifest.path, config: { host: "127.0.0.1", port: 0 } }],
      },
      plugins: [lineManifest, ...bundledPlugins],
      logger: new MemoryLogger(),
    });
    await portal.start();
    const games: DefaultGame[] = [];
    const startGame = async () => {
      const game = startDefaultGame({ link: { port: portal.linkAddress!.port, secret: readLinkSecret(dataDir) }, dbPath: join(dataDir, "game.sqlite"), logger: new MemoryLogger() });
      games.push(game);
      await waitFor(() => game.handler.ready, 5000, "game synced");
      return game;
    };
    const game = await startGame();
    closers.push(async () => {
      for (const g of games) await g.stop();
      await portal.stop();
    });
    return { portal, startGame, game, linePort: (portal.launcher.list()[0]!.status as { port: number }).port };
  }

  async function login(port: number, line: string, expectLine: string): Promise<LineClient> {
    const c = await LineClient.open(port);
    closers.push(() => c.close());
    await c.waitForLine("Welcome to Portico!");
    c.send(line);
    await c.waitForLine(expectLine);
    return c;
  }

  async function ask(c: LineClient, line: string, match: string | RegExp, timeoutMs = 10_000): Promise<string> {
    const mark = c.lines.length;
    c.send(line);
    return c.waitForLine(match, timeoutMs, mark);
  }

  const feedLines = (c: LineClient) => c.lines.filter((l) => l.startsWith("[public] News: "));

  it("subscribes (a non-feed is refused and not saved), posts new items once, shows its state, survives a game reload and a portal restart without re-posting, and is deleted", async () => {
    feeds.set("/feed.xml", { body: rss2("News", items(1)) });
    feeds.set("/page.html", { body: "<html><body>not a feed</body></html>", headers: { "content-type": "text/html" } });
    const first = await portico();
    const alice = await login(first.linePort, "create alice secret1", "Welcome, alice!");
    first.game.db.setAdmin("alice", true); // as `portico admin create alice --promote` does

    await ask(alice, `rss2chan public = ${feeds.url("/page.html")} 1`, /^That is not a feed Portico can read \(not a feed: .*\); the link was not saved\.$/);
    await ask(alice, "rss2chan/list", "There are no RSS links.");

    await ask(alice, `rss2chan public = ${feeds.url("/feed.xml")} 1`, /^The RSS link #\d+ is starting\.$/);
    feeds.set("/feed.xml", { body: rss2("News", items(3, 2, 1)) });
    await waitFor(() => feedLines(alice).length === 2, 10_000, "two posts in the channel");
    expect(feedLines(alice)).to.deep.equal(["[public] News: Item 2 http://example.test/2", "[public] News: Item 3 http://example.test/3"]);
    const listed = await ask(alice, "rss2chan/list", /#\d+ \[public\]/);
    expect(listed, listed).to.match(/every 1s  - ok; every 1s; last fetch \d{4}-\d\d-\d\dT[\d:]+Z \(3 items\); last new item [\dT:-]+Z; 0 failures; next poll [\dT:-]+Z$/);

    const metrics = await createPortalMetrics({ portal: first.portal }).metrics();
    expect(metrics).to.match(/portico_plugin_status\{path="plugins\.rss\.RssBotFactory",id="plugins\.rss\.RssBotFactory#\d+",field="posted"\} 2/);
    expect(metrics).to.match(/portico_plugin_status\{path="plugins\.rss\.RssBotFactory",id="[^"]+",field="totalFailures"\} 0/);

    // A game reload: the bot lives in the portal; nothing is posted again.
    await first.game.stopFor("reload");
    await first.startGame();
    await alice.waitForLine("Server restarted.");
    await sleep(2500);
    expect(feedLines(alice)).to.have.length(2);

    // A portal restart: the link starts again with the next run, its seen items remembered.
    await closers.pop()!();
    await closers.pop()!();
    const second = await portico();
    const again = await login(second.linePort, "connect alice secret1", "Welcome, alice!");
    await waitFor(() => feeds.requestsFor("/feed.xml").length >= 3, 10_000, "the restarted bot polling");
    await sleep(2500);
    expect(feedLines(again)).to.deep.equal([]);
    feeds.set("/feed.xml", { body: rss2("News", items(4, 3, 2, 1)) });
    await waitFor(() => feedLines(again).length === 1, 10_000, "the one new item");
    expect(feedLines(again)).to.deep.equal(["[public] News: Item 4 http://example.test/4"]);

    const id = /#(\d+) \[public\]/.exec(listed)![1];
    await ask(again, `rss2chan/delete ${id}`, `Deleted RSS link #${id} and stopped its bot.`);
    const polls = feeds.requestsFor("/feed.xml").length;
    await sleep(2500);
    expect(feeds.requestsFor("/feed.xml").length).to.be.at.most(polls + 1);
    await ask(again, "rss2chan/list", "There are no RSS links.");
  });

  describe("with an IRC bridge on the same channel", () => {
    let ircd: Ngircd;
    before(async () => {
      ircd = await startNgircd();
    });
    after(async () => {
      await ircd.dispose();
    });

    it("a feed item posted to a channel that is bridged to IRC reaches IRC once, through the IRC bridge", async () => {
      const observer = await IrcObserver.connect(ircd.port, "watcher");
      closers.push(() => observer.close());
      await observer.join("#news");
      feeds.set("/feed.xml", { body: rss2("News", items(1)) });
      const p = await portico();
      const alice = await login(p.linePort, "create alice secret1", "Welcome, alice!");
      p.game.db.setAdmin("alice", true); // as `portico admin create alice --promote` does
      await ask(alice, `irc2chan public = 127.0.0.1 ${ircd.port} #news NewsBot`, "is starting");
      await observer.waitForLine((l) => l.command === "JOIN" && l.nick === "NewsBot", 8000, "NewsBot joining");
      await ask(alice, `rss2chan public = ${feeds.url("/feed.xml")} 1`, "is starting");
      feeds.set("/feed.xml", { body: rss2("News", items(2, 1)) });
      await observer.waitForMessage((m) => m.nick === "NewsBot" && m.text === "News: Item 2 http://example.test/2", 10_000);
      await sleep(2500);
      expect(observer.messages.filter((m) => m.text.includes("Item 2"))).to.have.length(1);
      expect(feedLines(alice)).to.deep.equal(["[public] News: Item 2 http://example.test/2"]);
    });
  });
});
