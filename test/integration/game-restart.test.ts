import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Portal } from "../../core/index.js";
import { MemoryLogger } from "../../core/testing/index.js";
import { lineManifest } from "../../plugin-template/src/index.js";
import { GameProcess } from "../support/game-process.js";
import { LineClient } from "../../core/testing/line-client.js";

describe("integration: a real game process over the real link", function () {
  this.timeout(30_000);
  let dataDir: string;
  let portal: Portal;
  let games: GameProcess[];
  let clients: LineClient[];
  let linePort: number;

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "portico-restart-"));
    portal = new Portal({
      config: { dataDir, link: { port: 0 }, listeners: [{ plugin: lineManifest.path, config: { host: "127.0.0.1", port: 0 } }] },
      plugins: [lineManifest],
      logger: new MemoryLogger(),
    });
    await portal.start();
    linePort = (portal.launcher.list()[0]!.status as { port: number }).port;
    games = [];
    clients = [];
  });

  afterEach(async () => {
    for (const c of clients) c.close();
    for (const g of games) await g.kill();
    await portal.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  function startGame(): GameProcess {
    const g = GameProcess.start(portal.linkAddress!.port, dataDir);
    games.push(g);
    return g;
  }

  async function connectClient(): Promise<LineClient> {
    const c = await LineClient.open(linePort);
    clients.push(c);
    return c;
  }

  it("relays input and output, and keeps a logged-in player through a SIGKILL and restart of the game", async () => {
    const game = startGame();
    expect(await game.waitForSync()).to.equal("cold");
    const alice = await connectClient();
    await alice.waitForLine("Welcome. Type: login <name>");
    alice.send("login alice");
    await alice.waitForLine("Logged in as alice.");
    alice.send("hello there");
    await alice.waitForLine("echo: hello there");

    await game.kill("SIGKILL");
    alice.send("whoami");
    await alice.waitForLine("The game is restarting");
    expect(alice.closed).to.equal(false);

    const mark = alice.lines.length;
    const second = startGame();
    expect(await second.waitForSync()).to.equal("crash");
    await alice.waitForLine("Server restarted.", 5000, mark);
    // The line typed while the game was down is delivered after the resync, and the login survived.
    expect(await alice.waitForLine(/^You are /, 5000, mark)).to.equal("You are alice (logins: 1).");
    expect(portal.handler.count_loggedin()).to.equal(1);
    expect(alice.closed).to.equal(false);
  });

  it("hands state back on an orderly reload and reports mode reload", async () => {
    const game = startGame();
    await game.waitForSync();
    const bob = await connectClient();
    await bob.waitForLine("Welcome.");
    bob.send("login bob");
    await bob.waitForLine("Logged in as bob.");
    const carol = await connectClient();
    await carol.waitForLine("Welcome.");

    bob.send("reload");
    expect(await game.waitForExit()).to.equal(0);
    const next = startGame();
    expect(await next.waitForSync()).to.equal("reload");
    bob.send("whoami");
    expect(await bob.waitForLine(/^You are /)).to.equal("You are bob (logins: 1).");
    carol.send("whoami");
    await carol.waitForLine("You are not logged in.");
    expect(next.output.find((l) => l.startsWith("SYNC"))).to.equal("SYNC reload 2");
  });

  it("a player who connects while the game is down gets the connection screen once it is back", async () => {
    const dave = await connectClient();
    dave.send("look");
    await dave.waitForLine("The game is restarting");
    const game = startGame();
    await game.waitForSync();
    await dave.waitForLine("Welcome. Type: login <name>");
    await dave.waitForLine("echo: look");
  });
});
