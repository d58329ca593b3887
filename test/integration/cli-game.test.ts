import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PorticoProcess } from "../support/portico-process.js";
import { TelnetTestClient } from "../support/telnet-client.js";

/** End to end through the real CLI: portal + telnet + the default game as a child process. */
describe("portico start with the default game (end to end)", function () {
  this.timeout(120_000);
  let portico: PorticoProcess;
  let telnetPort: number;
  let cwd: string;
  const clients: TelnetTestClient[] = [];

  before(async () => {
    cwd = mkdtempSync(join(tmpdir(), "portico-game-e2e-"));
    writeFileSync(join(cwd, "portico.config.json"), JSON.stringify({ serverName: "E2E", limits: { maxConnectionRate: 0 } }));
    // 55 accounts from 127.0.0.1: the game's per-address creation limit (8 per hour by default) is lifted here.
    portico = PorticoProcess.start({ cwd, env: { PORTICO_GAME_ACCOUNT_CREATE_LIMIT: "0" } });
    ({ telnetPort } = await portico.ready());
    await portico.waitForLog(/game connected to the link/);
  });

  after(async () => {
    for (const c of clients) c.close();
    const stop = await portico.cli(["stop"]);
    if (stop.code !== 0) await portico.kill();
    await portico.exited;
    rmSync(cwd, { recursive: true, force: true });
  });

  async function player(name: string): Promise<TelnetTestClient> {
    const c = await TelnetTestClient.open(telnetPort);
    clients.push(c);
    await c.waitForLine("Welcome to E2E", 10_000);
    c.send(`create ${name} secret-${name}`);
    await c.waitForLine(`Welcome, ${name}!`, 20_000);
    return c;
  }

  async function gamePid(): Promise<number> {
    const r = await portico.cli(["status", "--json"]);
    expect(r.code, r.stderr).to.equal(0);
    return JSON.parse(r.stdout).game.pid as number;
  }

  it("a player creates an account and says something; another player sees it", async () => {
    const alice = await player("alice");
    const bob = await player("bob");
    bob.send("say hello alice");
    await bob.waitForLine('You say, "hello alice"');
    await alice.waitForLine('bob says, "hello alice"');
  });

  it("50 logged-in telnet sessions survive `portico reload`: all connected, all logged in, all can say", async () => {
    const players: TelnetTestClient[] = [];
    for (let i = 0; i < 50; i += 10) players.push(...(await Promise.all(Array.from({ length: 10 }, (_, j) => player(`user${i + j}`)))));
    const before = await gamePid();
    const marks = players.map((p) => p.lines.length);
    const r = await portico.cli(["reload"]);
    expect(r.code, r.stderr).to.equal(0);
    await Promise.all(players.map((p, i) => p.waitForLine("Server restarted.", 20_000, marks[i])));
    expect(await gamePid()).to.not.equal(before);
    for (const [i, p] of players.entries()) {
      expect(p.closed).to.equal(false);
      expect(p.lines.slice(marks[i]).filter((l) => l.includes("Server restarted.")).length).to.equal(1);
    }
    const status = JSON.parse((await portico.cli(["status", "--json"])).stdout);
    expect(status.sessions.logged_in).to.be.at.least(50);
    await Promise.all(players.map(async (p, i) => {
      p.send(`say after reload ${i}`);
      await p.waitForLine(`You say, "after reload ${i}"`, 20_000);
    }));
  });

  it("SIGHUP to portico reloads the game too: one \"Server restarted.\" notice, the player stays logged in", async () => {
    const erin = await player("erin");
    const before = await gamePid();
    const mark = erin.lines.length;
    portico.child.kill("SIGHUP");
    await erin.waitForLine("Server restarted.", 20_000, mark);
    expect(await gamePid()).to.not.equal(before);
    erin.send("say still here");
    await erin.waitForLine('You say, "still here"', 10_000, mark);
    expect(erin.lines.slice(mark).filter((l) => l.includes("Server restarted.")).length).to.equal(1);
  });

  it("a SIGKILLed game is restarted; players are told, stay connected and logged in, and input typed meanwhile is delivered", async () => {
    const carol = await player("carol");
    const dave = await player("dave");
    const pid = await gamePid();
    const mark = carol.lines.length;
    process.kill(pid, "SIGKILL");
    await carol.waitForLine("The game stopped unexpectedly", 10_000, mark);
    carol.send("say typed while down");
    await carol.waitForLine("Server restarted.", 20_000, mark);
    await carol.waitForLine('You say, "typed while down"', 20_000, mark);
    await dave.waitForLine('carol says, "typed while down"', 20_000);
    expect(await gamePid()).to.not.equal(pid);
    expect(carol.closed).to.equal(false);
    dave.send("who");
    await dave.waitForLine(/carol/, 10_000);
  });
});
