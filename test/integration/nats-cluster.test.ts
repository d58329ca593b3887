import { expect } from "chai";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { collectLines } from "../../core/testing/collect-lines.js";
import { sleep, waitFor, waitForLine } from "../../core/testing/wait-for.js";
import { NatsServerProcess } from "../support/nats-server.js";
import { PORTICO_BIN, PorticoProcess, runCli } from "../support/portico-process.js";
import { alive, killIfAlive } from "../support/process-checks.js";
import { TelnetTestClient } from "../support/telnet-client.js";

// The real thing over NATS: nats-server (auth on), two `portico start` portals and one `portico game`
// (the default game, supervised) as separate processes; players on telnet on both portals.

const USER = "portico";
const PASSWORD = "nats-cluster-password-1";
const TELNET = "plugins.telnet.TelnetFactory";
const HEARTBEAT_TIMEOUT_MS = 2000;
const SERVER_NAME = "Cluster";

/** The pids of a process's children (Linux: /proc/<pid>/task/<tid>/children). */
function childPids(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((tid) =>
      readFileSync(`/proc/${pid}/task/${tid}/children`, "utf8").split(/\s+/).filter(Boolean).map(Number));
  } catch {
    return [];
  }
}

/** The `msg` and fields of a JSON log line (undefined for any other line). */
function logRecord(line: string): Record<string, unknown> | undefined {
  try {
    const r = JSON.parse(line) as unknown;
    return typeof r === "object" && r !== null ? (r as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** `portico game` in the foreground in its own directory; stdout and stderr lines collected. */
class GameCommand {
  readonly output: string[] = [];
  readonly exited: Promise<number | null>;

  private constructor(readonly child: ChildProcess, readonly cwd: string) {
    collectLines(child.stdout, this.output);
    collectLines(child.stderr, this.output);
    this.exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
  }

  static start(cwd: string): GameCommand {
    const env = { ...process.env, PORTICO_LOG_LEVEL: "info", PORTICO_GAME_ACCOUNT_CREATE_LIMIT: "0" };
    return new GameCommand(spawn(process.execPath, ["--enable-source-maps", PORTICO_BIN, "game"], { cwd, env, stdio: ["ignore", "pipe", "pipe"] }), cwd);
  }

  /** The pid of the game process the supervisor started last (from its "game process started" lines). */
  lastGamePid(from = 0): number | undefined {
    const pids = this.output.slice(from).map(logRecord).filter((r) => r?.msg === "game process started").map((r) => r!.gamePid as number);
    return pids.at(-1);
  }

  waitForLog(match: string | RegExp, timeoutMs = 15_000, from = 0): Promise<string> {
    return waitForLine(this.output, match, timeoutMs, from, 50);
  }

  /** SIGKILLs the game process(es) it supervises, then itself. */
  async kill(): Promise<void> {
    const pid = this.child.pid;
    if (pid !== undefined && this.child.exitCode === null && this.child.signalCode === null) {
      const kids = childPids(pid);
      this.child.kill("SIGKILL");
      for (const k of kids) killIfAlive(k);
    }
    await this.exited;
  }
}

/** One nats-server and the portals, games, players and temp dirs of a test; dispose() ends them all. */
class Cluster {
  readonly dirs: string[] = [];
  readonly portals: PorticoProcess[] = [];
  readonly games: GameCommand[] = [];
  readonly clients: TelnetTestClient[] = [];

  private constructor(readonly nats: NatsServerProcess) {}

  static async start(): Promise<Cluster> {
    return new Cluster(await NatsServerProcess.start({ user: USER, password: PASSWORD }));
  }

  /** A temp dir holding the NATS password file and portico.config.json (`config` plus the link over NATS). */
  dir(config: Record<string, unknown>, opts: { prefix?: string; password?: string } = {}): string {
    const dir = mkdtempSync(join(tmpdir(), "portico-nats-cluster-"));
    this.dirs.push(dir);
    const passwordFile = join(dir, "nats.password");
    writeFileSync(passwordFile, `${opts.password ?? PASSWORD}\n`, { mode: 0o600 });
    const nats = { servers: [this.nats.url], user: USER, passwordFile, reconnectWaitMs: 100, ...(opts.prefix !== undefined ? { prefix: opts.prefix } : {}) };
    const link = { transport: "nats", heartbeatMs: 250, heartbeatTimeoutMs: HEARTBEAT_TIMEOUT_MS, nats };
    writeFileSync(join(dir, "portico.config.json"), JSON.stringify({ ...config, link }));
    return dir;
  }

  /** `portico start` for a portal without its own game; resolves once it runs (not waiting for a game). */
  async portal(portalId: string, opts: { prefix?: string; password?: string; ownGame?: boolean } = {}): Promise<PorticoProcess> {
    const cwd = this.dir({
      portalId, game: { enabled: opts.ownGame === true }, serverName: SERVER_NAME, admin: { port: 0 }, limits: { maxConnectionRate: 0 },
      listeners: [{ plugin: TELNET, config: { port: 0 } }],
    }, opts);
    const p = PorticoProcess.start({ cwd });
    this.portals.push(p);
    const state = await waitFor(
      () => (p.child.exitCode !== null ? "exited" : p.output.some((l) => l.includes("portico is running")) ? "running" : undefined),
      15_000, () => `portal ${portalId} running (output: ${p.output.slice(-10).join("\n")})`, 50,
    );
    if (state === "exited") throw new Error(`portal ${portalId} exited with ${p.child.exitCode}: ${p.output.slice(-10).join("\n")}`);
    return p;
  }

  /** `portico game` in a new dir (the default game, its SQLite in the dir); `before` runs in that dir first. */
  async game(opts: { prefix?: string; password?: string; before?: (dir: string) => Promise<void> } = {}): Promise<GameCommand> {
    const dir = this.dir({ serverName: SERVER_NAME }, opts);
    await opts.before?.(dir);
    const g = GameCommand.start(dir);
    this.games.push(g);
    return g;
  }

  /** A new telnet player on `portal` that creates account `name` (password `secret-<name>`). */
  async player(portal: PorticoProcess, name: string): Promise<TelnetTestClient> {
    const c = await this.connect(portal);
    c.send(`create ${name} secret-${name}`);
    await c.waitForLine(`Welcome, ${name}!`, 15_000);
    return c;
  }

  /** A telnet connection to `portal`, once the game greeted it. */
  async connect(portal: PorticoProcess): Promise<TelnetTestClient> {
    const c = await TelnetTestClient.open(portal.listenerPort(TELNET));
    this.clients.push(c);
    await c.waitForLine(`Welcome to ${SERVER_NAME}!`, 15_000);
    return c;
  }

  async dispose(): Promise<void> {
    for (const c of this.clients.splice(0)) c.close();
    for (const g of this.games.splice(0)) await g.kill();
    for (const p of this.portals.splice(0)) await p.kill();
    await this.nats.dispose();
    for (const d of this.dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  }
}

/** Two portals (p1, p2) and a game over one nats-server, alice on p1 and bob on p2. */
async function twoPortalsOneGame(cluster: Cluster, before?: (gameDir: string) => Promise<void>) {
  const p1 = await cluster.portal("p1");
  const p2 = await cluster.portal("p2");
  const game = await cluster.game(before ? { before } : {});
  await Promise.all([p1.waitForLog(/game linked over NATS/), p2.waitForLog(/game linked over NATS/)]);
  const alice = await cluster.player(p1, "alice");
  const bob = await cluster.player(p2, "bob");
  return { p1, p2, game, alice, bob };
}

/** Sends `line` and resolves with the line answering it (matching `match`, after the send). */
async function ask(c: TelnetTestClient, line: string, match: string | RegExp, timeoutMs = 10_000): Promise<string> {
  const from = c.lines.length;
  c.send(line);
  return c.waitForLine(match, timeoutMs, from);
}

/** The names `who` lists. */
async function who(c: TelnetTestClient): Promise<string[]> {
  const from = c.lines.length;
  c.send("who");
  const head = await c.waitForLine(/Players online \(\d+\):/, 10_000, from);
  const n = Number(/\((\d+)\)/.exec(head)![1]);
  const at = c.lines.indexOf(head, from);
  await waitFor(() => c.lines.length >= at + 1 + n, 5000, "the rows of who");
  return c.lines.slice(at + 1, at + 1 + n).map((l) => l.trim().split(/\s+/)[0]!);
}

/** How many of `c`'s lines (from index `from`) contain `text`. */
function count(c: TelnetTestClient, text: string, from = 0): number {
  return c.lines.slice(from).filter((l) => l.includes(text)).length;
}

interface Player {
  c: TelnetTestClient;
  /** Index of its first line since the restart began. */
  from: number;
  name: string;
}

/**
 * After a game restart during which `typist` said `text`: the typist gets the answer exactly once,
 * the other player is told "Server restarted." and still hears the typist's next `say`, and nobody
 * was disconnected. The other player (on the other portal) hears `text` once too: the new game
 * gathers every portal's hand-over before it runs replayed input (GameSessionHandler.settle()).
 */
async function answeredOnceAfterRestart(typist: Player, other: Player, text: string): Promise<void> {
  await typist.c.waitForLine(`You say, "${text}"`, 20_000, typist.from);
  await other.c.waitForLine("Server restarted.", 20_000, other.from);
  await ask(other.c, `say ${text}: seen`, `You say, "${text}: seen"`);
  await typist.c.waitForLine(`${other.name} says, "${text}: seen"`, 10_000, typist.from);
  await sleep(500);
  expect(count(typist.c, `You say, "${text}"`, typist.from)).to.equal(1);
  await other.c.waitForLine(`${typist.name} says, "${text}"`, 10_000, other.from);
  expect(count(other.c, `${typist.name} says, "${text}"`, other.from)).to.equal(1);
  expect([typist.c.closed, other.c.closed]).to.deep.equal([false, false]);
}

describe("a cluster over NATS: nats-server, two `portico start` portals, `portico game` (end to end)", function () {
  this.timeout(90_000);
  let cluster: Cluster;
  let p1: PorticoProcess;
  let p2: PorticoProcess;
  let game: GameCommand;
  let alice: TelnetTestClient;
  let bob: TelnetTestClient;
  const ROOT_PASSWORD = "root-password-1";

  before(async function () {
    this.timeout(60_000);
    cluster = await Cluster.start();
    // The operator's admin account, made in the game's directory before the game starts.
    const makeAdmin = async (dir: string) => {
      const pwFile = join(dir, "root.pw");
      writeFileSync(pwFile, `${ROOT_PASSWORD}\n`, { mode: 0o600 });
      const r = await runCli(["admin", "create", "root"], dir, { PORTICO_ADMIN_PASSWORD_FILE: pwFile });
      expect(r.code, r.stderr).to.equal(0);
    };
    ({ p1, p2, game, alice, bob } = await twoPortalsOneGame(cluster, makeAdmin));
  });

  after(async () => {
    await cluster?.dispose();
  });

  it("players on both portals see each other: say both ways, who, a channel line; status --cluster lists both portals", async () => {
    await ask(alice, "say hello from p1", 'You say, "hello from p1"');
    await bob.waitForLine('alice says, "hello from p1"', 10_000);
    await ask(bob, "say hello from p2", 'You say, "hello from p2"');
    await alice.waitForLine('bob says, "hello from p2"', 10_000);
    expect((await who(alice)).sort()).to.deep.equal(["alice", "bob"]);
    expect((await who(bob)).sort()).to.deep.equal(["alice", "bob"]);
    await ask(bob, "public over the channel", "[public] bob: over the channel");
    await alice.waitForLine("[public] bob: over the channel", 10_000);

    const r = await p1.cli(["status", "--cluster"]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.include("the game sees 2 portals:");
    expect(r.stdout).to.match(/^\s+p1\s+run \d+\s+linked\s+1 session \(1 logged in\)$/m);
    expect(r.stdout).to.match(/^\s+p2\s+run \d+\s+linked\s+1 session \(1 logged in\)$/m);
  });

  it("an admin on p2 (made with `portico admin create`) sees every session, announces to p1 and kicks a player on p1", async () => {
    const carol = await cluster.player(p1, "carol");
    const root = await cluster.connect(p2);
    await ask(root, `connect root ${ROOT_PASSWORD}`, "Welcome, root!");
    const from = root.lines.length;
    root.send("@sessions");
    await root.waitForLine("Sessions (4):", 10_000, from);
    await waitFor(() => ["alice", "bob", "carol", "root"].every((n) => root.lines.slice(from).some((l) => new RegExp(`telnet.*\\b${n}\\b`).test(l))), 5000, "every player in @sessions");

    const aliceMark = alice.lines.length;
    await ask(root, "@announce hello from the admin", "Announcement from root: hello from the admin");
    await alice.waitForLine("Announcement from root: hello from the admin", 10_000, aliceMark);

    await ask(root, "@kick carol too noisy", "Kicked carol (1 connection).");
    await carol.waitForLine("You have been kicked: too noisy", 10_000);
    await waitFor(() => carol.closed, 5000, "carol disconnected");
    await alice.waitForLine("carol has left.", 10_000, aliceMark);

    root.send("quit");
    await alice.waitForLine("root has left.", 10_000, aliceMark);
    await waitFor(() => root.closed, 5000, "root disconnected");
  });

  it("`portico reload` from p1: both players stay connected and logged in; a line typed during the reload is answered once", async () => {
    const [am, bm, pm] = [alice.lines.length, bob.lines.length, p1.output.length];
    const pidBefore = game.lastGamePid();
    const reload = p1.cli(["reload"]);
    await p1.waitForLog(/game asked to stop/, 15_000, pm);
    alice.send("say typed during the reload");
    const r = await reload;
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.include("game reloaded and connected again; players stayed connected");
    expect(game.lastGamePid()).to.not.equal(pidBefore);

    await answeredOnceAfterRestart({ c: alice, from: am, name: "alice" }, { c: bob, from: bm, name: "bob" }, "typed during the reload");
    expect(count(alice, "Welcome to", am) + count(bob, "Welcome to", bm)).to.equal(0); // not greeted again: still logged in
  });

  it("SIGHUP to `portico game` reloads the game: a new game process, players told \"Server restarted.\" and still logged in", async () => {
    const [am, bm, gm] = [alice.lines.length, bob.lines.length, game.output.length];
    const before = game.lastGamePid();
    process.kill(game.child.pid!, "SIGHUP");
    await game.waitForLog(/game process exited for a reload; starting it again/, 15_000, gm);
    await Promise.all([alice.waitForLine("Server restarted.", 20_000, am), bob.waitForLine("Server restarted.", 20_000, bm)]);
    expect(game.lastGamePid(gm)).to.not.equal(before);
    await ask(alice, "say after the SIGHUP", 'You say, "after the SIGHUP"');
    await bob.waitForLine('alice says, "after the SIGHUP"', 10_000, bm);
    expect(count(alice, "Welcome to", am) + count(bob, "Welcome to", bm)).to.equal(0);
  });

  it("SIGKILL of the game process: `portico game` starts another; players stay logged in; a line typed meanwhile is answered once", async () => {
    const [am, bm, gm] = [alice.lines.length, bob.lines.length, game.output.length];
    const pid = game.lastGamePid()!;
    expect(childPids(game.child.pid!)).to.include(pid);
    process.kill(pid, "SIGKILL");
    bob.send("say typed while the game was down");
    await game.waitForLog(/game process started/, 15_000, gm);
    const next = game.lastGamePid(gm)!;
    expect(next).to.not.equal(pid);
    expect(alive(pid)).to.equal(false);

    await answeredOnceAfterRestart({ c: bob, from: bm, name: "bob" }, { c: alice, from: am, name: "alice" }, "typed while the game was down");
  });

  it("nats-server down for 5 s: a line typed by each player meanwhile is delivered exactly once, nobody is disconnected", async () => {
    const [am, bm] = [alice.lines.length, bob.lines.length];
    const down = cluster.nats.restart(5000);
    await sleep(1000);
    alice.send("say alice during the outage");
    bob.send("say bob during the outage");
    await down;
    await alice.waitForLine('You say, "alice during the outage"', 20_000, am);
    await alice.waitForLine('bob says, "bob during the outage"', 20_000, am);
    await bob.waitForLine('You say, "bob during the outage"', 20_000, bm);
    await bob.waitForLine('alice says, "alice during the outage"', 20_000, bm);
    await ask(alice, "say after the outage", 'You say, "after the outage"');
    await bob.waitForLine('alice says, "after the outage"', 10_000, bm);
    await sleep(1000);
    expect(count(alice, 'You say, "alice during the outage"', am)).to.equal(1);
    expect(count(alice, 'bob says, "bob during the outage"', am)).to.equal(1);
    expect(count(bob, 'You say, "bob during the outage"', bm)).to.equal(1);
    expect(count(bob, 'alice says, "alice during the outage"', bm)).to.equal(1);
    expect([alice.closed, bob.closed]).to.deep.equal([false, false]);
    expect(count(alice, "Welcome to", am) + count(bob, "Welcome to", bm)).to.equal(0);
  });

  it("a wrong NATS password: a portal and `portico game` each exit non-zero naming PORTAL_ERR_NATS_AUTH; no portal links a game", async () => {
    const [m1, m2] = [p1.output.length, p2.output.length];
    const bad = await cluster.portal("p3", { password: "wrong" }).then(() => undefined, (err: unknown) => err as Error);
    expect(bad?.message).to.match(/exited with [1-9]/);
    const p3 = cluster.portals.at(-1)!;
    expect(p3.output.join("\n")).to.include("PORTAL_ERR_NATS_AUTH");

    // `portico game` checks its NATS credentials before it starts a game process: refused, it exits, naming the code.
    const g = await cluster.game({ password: "wrong" });
    expect(await g.exited).to.equal(1);
    expect(g.output.some((l) => l.includes("[PORTAL_ERR_NATS_AUTH]") && l.includes("refused this game's credentials"))).to.equal(true);
    expect(g.lastGamePid()).to.equal(undefined);
    expect(p1.output.slice(m1).some((l) => l.includes("game linked over NATS"))).to.equal(false);
    expect(p2.output.slice(m2).some((l) => l.includes("game linked over NATS"))).to.equal(false);
    const r = await p1.cli(["status", "--cluster"]);
    expect(r.stdout).to.include("the game sees 2 portals:");
  });

  it("a second game and portal on prefix \"other\" on the same NATS never see the first one's players", async () => {
    // The same portal id as the first cluster's: refused if the prefixes did not keep them apart.
    const q1 = await cluster.portal("p1", { prefix: "other" });
    await cluster.game({ prefix: "other" });
    await q1.waitForLog(/game linked over NATS/);
    const zed = await cluster.player(q1, "zed");
    expect(await who(zed)).to.deep.equal(["zed"]);
    expect((await who(alice)).sort()).to.deep.equal(["alice", "bob"]);
    await ask(zed, "say only for the other game", 'You say, "only for the other game"');
    await ask(alice, "say only for the first game", 'You say, "only for the first game"');
    await sleep(500);
    expect(count(alice, "only for the other game") + count(bob, "only for the other game")).to.equal(0);
    expect(count(zed, "only for the first game")).to.equal(0);
    const r = await q1.cli(["status", "--cluster"]);
    expect(r.stdout).to.include("the game sees 1 portal:");
  });
});

describe("a cluster over NATS: a portal SIGKILLed", function () {
  this.timeout(90_000);
  let cluster: Cluster;

  before(async () => {
    cluster = await Cluster.start();
  });

  after(async () => {
    await cluster?.dispose();
  });

  it("the players on the other portal see the player on it leave within the heartbeat timeout, and nothing else", async () => {
    const { p2, alice } = await twoPortalsOneGame(cluster);
    expect((await who(alice)).sort()).to.deep.equal(["alice", "bob"]);
    const am = alice.lines.length;
    const t0 = Date.now();
    await p2.kill();
    await alice.waitForLine("bob has left.", HEARTBEAT_TIMEOUT_MS + 3000, am);
    const leftAfterMs = Date.now() - t0;
    expect(await who(alice)).to.deep.equal(["alice"]);
    await ask(alice, "say still here", 'You say, "still here"');
    expect(alice.closed).to.equal(false);
    const seen = alice.lines.slice(am).filter((l) => l.trim() !== "");
    expect(seen.filter((l) => /Server restarted|stopped unexpectedly|Welcome/.test(l)), JSON.stringify(seen)).to.deep.equal([]);
    expect(seen[0]).to.include("bob has left.");
    expect(leftAfterMs).to.be.below(HEARTBEAT_TIMEOUT_MS + 3000);
  });
});

describe("a cluster over NATS: one portal supervises the game itself", function () {
  this.timeout(90_000);
  let cluster: Cluster;

  after(async () => {
    await cluster?.dispose();
  });

  it("`portico start` with game.enabled runs the game over NATS; a second portal without a game serves it too; `portico status` names the link", async () => {
    cluster = await Cluster.start();
    const p1 = await cluster.portal("p1", { ownGame: true });
    const p2 = await cluster.portal("p2");
    await Promise.all([p1.waitForLog(/game linked over NATS/), p2.waitForLog(/game linked over NATS/)]);
    const alice = await cluster.player(p1, "alice");
    const bob = await cluster.player(p2, "bob");
    await ask(bob, "say to the supervised game", 'You say, "to the supervised game"');
    await alice.waitForLine('bob says, "to the supervised game"', 10_000);
    const r = await p2.cli(["status"]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/portal p2, run \d+/);
    expect(r.stdout).to.include(`game connected over NATS ${cluster.nats.url.replace("nats://", "")}`);
    expect(r.stdout).to.include("(prefix portico)");
    const s1 = await p1.cli(["status", "--json"]);
    expect((JSON.parse(s1.stdout) as { game: { state: string; pid: number } }).game.state).to.equal("running");
  });
});
