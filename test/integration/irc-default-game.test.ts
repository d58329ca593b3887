import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDefaultGame, type DefaultGame } from "../../core/default-game/game.js";
import { readLinkSecret } from "../../core/game/index.js";
import { Portal } from "../../core/portal.js";
import { MemoryLogger } from "../../core/testing/index.js";
import { lineManifest } from "../../plugin-template/src/index.js";
import { bundledPlugins } from "../../plugins/index.js";
import { IrcObserver } from "../support/irc-observer.js";
import { LineClient } from "../../core/testing/line-client.js";
import { startNgircd, type Ngircd } from "../support/ngircd.js";
import { waitFor } from "../../core/testing/wait-for.js";

/** The default game's irc2chan driving the real IRC plugin against ngircd, across a portal restart. */
describe("irc2chan end to end: default game + IRC plugin + ngircd", function () {
  this.timeout(60_000);
  let ircd: Ngircd;
  let dataDir: string;
  const closers: (() => unknown)[] = [];

  before(async () => {
    ircd = await startNgircd();
  });
  after(async () => {
    await ircd.dispose();
  });
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), "portico-irc2chan-"));
  });
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** A portal (line listener + bundled plugins) and the default game on the shared data directory. */
  async function portico(): Promise<{ portal: Portal; game: DefaultGame; linePort: number }> {
    const portal = new Portal({
      config: { dataDir, link: { port: 0 }, limits: { maxConnectionRate: 0 }, listeners: [{ plugin: lineManifest.path, config: { host: "127.0.0.1", port: 0 } }] },
      plugins: [lineManifest, ...bundledPlugins],
      logger: new MemoryLogger(),
    });
    await portal.start();
    const game = startDefaultGame({
      link: { port: portal.linkAddress!.port, secret: readLinkSecret(dataDir) },
      dbPath: join(dataDir, "game.sqlite"),
      logger: new MemoryLogger(),
    });
    const stop = async () => {
      await game.stop();
      await portal.stop();
    };
    closers.push(stop);
    await waitFor(() => game.handler.ready, 5000, "game synced");
    return { portal, game, linePort: (portal.launcher.list()[0]!.status as { port: number }).port };
  }

  async function login(port: number, line: string, expect: string): Promise<LineClient> {
    const c = await LineClient.open(port);
    closers.push(() => c.close());
    await c.waitForLine("Welcome to Portico!");
    c.send(line);
    await c.waitForLine(expect);
    return c;
  }

  it("irc2chan starts the bot; messages flow both ways; the list shows its state; the link restarts with the next portal run", async () => {
    const observer = await IrcObserver.connect(ircd.port, "watcher");
    closers.push(() => observer.close());
    await observer.join("#game");

    const first = await portico();
    const alice = await login(first.linePort, "create alice secret1", "Welcome, alice!");
    first.game.db.setAdmin("alice", true); // as `portico admin create alice --promote` does
    let mark = alice.lines.length;
    alice.send(`irc2chan public = 127.0.0.1 ${ircd.port} #game GameBot`);
    await alice.waitForLine("is starting", 5000, mark);
    await observer.waitForLine((l) => l.command === "JOIN" && l.nick === "GameBot", 8000, "GameBot joining");

    alice.send("public hello irc");
    await observer.waitForMessage((m) => m.nick === "GameBot" && m.text === "[public] a\u200blice: hello irc", 5000);
    observer.say("hello game");
    await alice.waitForLine("[public] watcher@#game: hello game", 5000);
    mark = alice.lines.length;
    alice.send("irc2chan/list");
    expect(await alice.waitForLine(/#\d+ \[public\]/, 5000, mark)).to.match(/- connected$/);

    // Portico restarts (a new portal run): the saved link's bot comes back without anyone asking.
    const joinsBefore = observer.lines.filter((l) => l.command === "JOIN" && l.nick === "GameBot").length;
    await closers.pop()!(); // alice's client
    await closers.pop()!(); // the first portal and game
    await observer.waitForLine((l) => l.command === "QUIT" && l.nick === "GameBot", 5000, "GameBot quitting with the portal");
    const second = await portico();
    await waitFor(() => observer.lines.filter((l) => l.command === "JOIN" && l.nick === "GameBot").length > joinsBefore, 10_000, "GameBot rejoining after the restart");
    const again = await login(second.linePort, "connect alice secret1", "Welcome, alice!");
    observer.say("still bridged?");
    await again.waitForLine("[public] watcher@#game: still bridged?", 5000);
  });
});
