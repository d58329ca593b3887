import { expect } from "chai";
import { spawn } from "node:child_process";
import { chmodSync, chownSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Portal, type Kwargs } from "../../core/index.js";
import { readLinkSecret } from "../../core/game/index.js";
import { MemoryLogger } from "../../core/testing/index.js";
import { startDefaultGame, type DefaultGame, type DefaultGameOptions } from "../../core/default-game/game.js";
import { GameDbError } from "../../core/default-game/db.js";
import { lineManifest } from "../../plugin-template/src/index.js";
import { LineClient } from "../../core/testing/line-client.js";
import { sleep, waitFor } from "../../core/testing/wait-for.js";

const MAIN = fileURLToPath(new URL("../../core/default-game/main.js", import.meta.url));

describe("integration: the default game against a real portal", function () {
  this.timeout(60_000);
  let dataDir: string;
  let portal: Portal;
  let linePort: number;
  let games: DefaultGame[];
  let exits: number[];
  let clients: LineClient[];

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "portico-default-game-"));
    portal = new Portal({
      config: { dataDir, link: { port: 0 }, limits: { maxConnectionRate: 0 }, listeners: [{ plugin: lineManifest.path, config: { host: "127.0.0.1", port: 0 } }] },
      plugins: [lineManifest],
      logger: new MemoryLogger(),
    });
    await portal.start();
    linePort = (portal.launcher.list()[0]!.status as { port: number }).port;
    games = [];
    exits = [];
    clients = [];
  });

  afterEach(async () => {
    for (const c of clients) c.close();
    for (const g of games) await g.stop();
    await portal.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function startGame(extra: Partial<DefaultGameOptions> = {}): Promise<DefaultGame> {
    const game = startDefaultGame({
      link: { port: portal.linkAddress!.port, secret: readLinkSecret(dataDir), backoff: { initialMs: 50, factor: 1.5, maxMs: 200 } },
      dbPath: join(dataDir, "game.sqlite"),
      logger: new MemoryLogger(),
      onExit: (code) => exits.push(code),
      ...extra,
    });
    games.push(game);
    await waitFor(() => game.handler.ready, 5000, "game synced with the portal");
    return game;
  }

  async function client(): Promise<LineClient> {
    const c = await LineClient.open(linePort);
    clients.push(c);
    await c.waitForLine("Welcome to Portico!");
    return c;
  }

  /** Sends a line and waits for a matching line that arrives after it. */
  async function ask(c: LineClient, line: string, expect: string | RegExp, timeoutMs = 5000): Promise<string> {
    const from = c.lines.length;
    c.send(line);
    return c.waitForLine(expect, timeoutMs, from);
  }

  async function player(name: string, password = "secret1", create = true): Promise<LineClient> {
    const c = await client();
    await ask(c, `${create ? "create" : "connect"} ${name} ${password}`, `Welcome, ${name}!`);
    return c;
  }

  /** A player made an admin the way `portico admin create --promote` does it: in the database (network accounts never are). */
  async function adminPlayer(name: string, password = "secret1"): Promise<LineClient> {
    const c = await player(name, password);
    expect(games.at(-1)!.db.setAdmin(name, true)?.is_admin).to.equal(1);
    return c;
  }

  /** Asserts nothing matching arrives within `ms`. */
  async function silent(c: LineClient, match: string, ms = 300): Promise<void> {
    const from = c.lines.length;
    await sleep(ms);
    expect(c.lines.slice(from).filter((l) => l.includes(match))).to.deep.equal([]);
  }

  it("create, connect, say: another player hears it; one banner per connection; markup is escaped", async () => {
    const game = await startGame();
    const alice = await client();
    expect(await ask(alice, "create Alice secret1", "Account Alice created")).to.equal("Account Alice created.");
    await alice.waitForLine("Welcome, Alice!");
    // The first account made over the network is not an admin.
    expect(game.db.findAccountByName("Alice")!.is_admin).to.equal(0);
    await ask(alice, "@sessions", "Unknown command '@sessions'.");
    const bob = await player("Bob", "secret2");
    await alice.waitForLine("Bob has connected.");
    await ask(bob, "say hello there", 'You say, "hello there"');
    await alice.waitForLine('Bob says, "hello there"');
    await ask(bob, "say a|rb \x1b[31m", 'You say, "a||rb"');
    await alice.waitForLine('Bob says, "a||rb"');
    // connect is case-insensitive; the answer uses the stored spelling.
    const again = await client();
    await ask(again, "connect alice secret1", "Welcome, Alice!");
    await ask(alice, ":waves.", "Alice waves.");
    await bob.waitForLine("Alice waves.");
    await ask(bob, "pose 's hat is |rred", "Bob's hat is ||rred");
    expect(await ask(bob, "who", "Players online (2):")).to.equal("Players online (2):");
    await ask(bob, "look", "Here: Alice, Bob.");
    await sleep(200);
    for (const c of [alice, bob, again]) expect(c.lines.filter((l) => l.includes("Welcome to Portico!"))).to.have.length(1);
    expect(game.db.countAccounts()).to.equal(2);
    expect(portal.handler.count_loggedin()).to.equal(3);
  });

  it("connect <name> asks for the password with echo off; the wait survives a reload", async () => {
    const game = await startGame();
    await player("Alice");
    const c = await client();
    const sessid = [...game.handler.sessions.values()].find((s) => !s.logged_in)!.sessid;
    const portalSession = portal.handler.get(sessid)!;
    const sent: Kwargs[] = [];
    const original = portalSession.send_text.bind(portalSession);
    portalSession.send_text = (args: unknown[], kwargs: Kwargs) => {
      sent.push((kwargs.options ?? {}) as Kwargs);
      original(args, kwargs);
    };
    await ask(c, "connect Alice", "Password:");
    expect(sent.at(-1)).to.deep.include({ echo: false });

    await game.stopFor("reload");
    expect(exits).to.deep.equal([0]);
    await startGame();
    await c.waitForLine("*** Server restarted.");
    await ask(c, "secret1", "Welcome, Alice!");
    expect(sent.some((o) => o.echo === true)).to.equal(true);
    expect(c.lines.filter((l) => l === "*** Server restarted.")).to.have.length(1);
    expect(c.lines.filter((l) => l.includes("secret1"))).to.deep.equal([]);
  });

  it("a wrong password is answered after a delay, and 5 failures from one address lock it out", async () => {
    await startGame();
    await player("Alice");
    const c = await client();
    const t0 = Date.now();
    await ask(c, "connect Alice wrong-one", "Wrong name or password.");
    expect(Date.now() - t0).to.be.at.least(900);
    // Four more at once from other connections on the same address: they all count.
    const others = await Promise.all([client(), client(), client(), client()]);
    await Promise.all(others.map((o) => ask(o, "connect Alice nope-nope", "Wrong name or password.")));
    const t1 = Date.now();
    await ask(c, "connect Alice secret1", "Too many failed logins from your address; try again later.");
    expect(Date.now() - t1).to.be.below(900);
    await ask(c, "connect Alice", "Too many failed logins from your address; try again later.");
    await ask(c, "connect Nobody secret1", "Too many failed logins");
  });

  it("names with control characters or markup are refused clearly and nothing is stored", async () => {
    const game = await startGame();
    const c = await client();
    await ask(c, "create Al|rice secret1", "Names cannot contain '|' (it is used for colour codes).");
    await ask(c, "create Al\x01ice secret1", "Names cannot contain control characters.");
    await ask(c, "create \x1b[31mRed secret1", "Names cannot contain control characters.");
    await ask(c, "create 1abc secret1", "Names must start with a letter.");
    await ask(c, "create ab secret1", "Names must be 3 to 20 characters long.");
    await ask(c, "create Alice 12345", "Passwords must be 6 to 128 characters long.");
    await ask(c, "create Alice", "Usage: create <name> <password>");
    await ask(c, "connect Al|ice secret1", "Names cannot contain '|'");
    await ask(c, "xyzzy", "You are not logged in.");
    expect(game.db.countAccounts()).to.equal(0);
  });

  it("a duplicate name (any case) is refused with a clear message", async () => {
    const game = await startGame();
    await player("Alice");
    const c = await client();
    await ask(c, "create ALICE other123", "The name ALICE is already taken.");
    expect(game.db.countAccounts()).to.equal(1);
  });

  it("10 000 simultaneous create attempts finish without a crash: exactly one account per unique name", async () => {
    // The real scrypt cost (N=16384); 100 distinct names, each tried 100 times in different cases.
    const game = await startGame();
    const unique = 100;
    const names = Array.from({ length: 10_000 }, (_, i) => {
      const base = `user${i % unique}`;
      return i % 3 === 0 ? base.toUpperCase() : base;
    });
    let last = Date.now();
    let worstGap = 0;
    const ticker = setInterval(() => {
      worstGap = Math.max(worstGap, Date.now() - last);
      last = Date.now();
    }, 10);
    const results = await Promise.all(names.map((n) => game.accounts.create(n, "password1")));
    clearInterval(ticker);
    const ok = results.filter((r) => r.ok);
    expect(ok).to.have.length(unique);
    expect(results.filter((r) => !r.ok && r.reason !== "taken")).to.deep.equal([]);
    expect(game.db.countAccounts()).to.equal(unique);
    expect(new Set(ok.map((r) => r.ok && r.account.name.toLowerCase())).size).to.equal(unique);
    expect(ok.filter((r) => r.ok && r.account.is_admin === 1)).to.have.length(0);
    expect(worstGap, "the event loop kept turning").to.be.below(1000);
    // The game still answers players afterwards.
    const c = await client();
    await ask(c, "connect user7 password1", "Welcome, user7!");
  });

  it("a database that cannot be opened: one clear line on stderr, exit code 1, no stack trace", async () => {
    expect(() => startDefaultGame({ link: { port: 1, secret: "x" }, dbPath: join(dataDir, "missing", "game.sqlite") }))
      .to.throw(GameDbError, /^cannot open the game database .*: directory .* does not exist$/);

    const ro = mkdtempSync(join(tmpdir(), "portico-ro-"));
    try {
      const secret = readLinkSecret(dataDir);
      const { writeFileSync } = await import("node:fs");
      writeFileSync(join(ro, "link.secret"), `${secret}\n`);
      // Root ignores mode bits through CAP_DAC_OVERRIDE, so as root the child would create the database
      // in the 0555 dir and the test would prove nothing. It used to drop to uid 65534, but that user must
      // then traverse every directory above the checkout to load main.js and node_modules, which fails
      // when the clone lies under a 0700 dir (`mktemp -d`, a home directory). Instead the child stays root
      // and `setpriv` (util-linux, always present on Debian) removes CAP_DAC_OVERRIDE and CAP_FOWNER from
      // its bounding and inheritable sets: it keeps CAP_DAC_READ_SEARCH, so it reads the code wherever the
      // checkout is, but writes obey the mode bits, and the dir belongs to 65534 so it cannot chmod it
      // either. (Copying dist/ and node_modules somewhere reachable is heavy; a temporary ACL on the
      // caller's directories needs acl support and outlives a crashed run.) The probe below proves that
      // the child cannot write into the dir, so the test cannot pass vacuously.
      const asRoot = process.getuid?.() === 0;
      const CAPS = "-dac_override,-fowner";
      const [command, prefix]: [string, string[]] = asRoot
        ? ["setpriv", [`--inh-caps=${CAPS}`, `--bounding-set=${CAPS}`, "--", process.execPath]]
        : [process.execPath, []];
      if (asRoot) {
        chownSync(ro, 65534, 65534);
        chownSync(join(ro, "link.secret"), 65534, 65534);
      }
      chmodSync(ro, 0o555);
      const env = { ...process.env, PORTICO_DATA_DIR: ro, PORTICO_LINK_PORT: String(portal.linkAddress!.port) };
      const spawnChild = (args: string[], extraEnv: Record<string, string> = {}) =>
        new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
          const child = spawn(command, [...prefix, ...args], { cwd: ro, env: { ...env, ...extraEnv }, stdio: ["ignore", "ignore", "pipe"] });
          let stderr = "";
          // A child that could write would open the database and run: stop it rather than hang.
          const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
          child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
          child.on("error", (err) => {
            clearTimeout(timer);
            reject(new Error(`cannot start ${command} (as root this test needs setpriv from util-linux): ${err.message}`));
          });
          child.on("exit", (code) => {
            clearTimeout(timer);
            resolve({ code, stderr });
          });
        });
      const run = (extraEnv: Record<string, string>) => spawnChild([MAIN], extraEnv);

      // The child really cannot create a file in the dir (as root: the capabilities are gone), yet reads it.
      const probe = await spawnChild(["-e", `
        const fs = require("node:fs"), dir = process.env.PORTICO_DATA_DIR;
        fs.readFileSync(dir + "/link.secret");
        try { fs.writeFileSync(dir + "/probe", ""); process.exit(2); } catch (e) { if (e.code !== "EACCES") throw e; }`]);
      expect(probe, "the child must not be able to write into the read-only data dir").to.deep.equal({ code: 0, stderr: "" });

      const readOnly = await run({});
      expect(readOnly.code).to.equal(1);
      expect(readOnly.stderr.trimEnd().split("\n"), readOnly.stderr).to.have.length(1);
      expect(readOnly.stderr).to.match(/^portico default game: cannot open the game database .*game\.sqlite: .*(read-only|cannot be created)/);
      expect(readOnly.stderr).to.not.match(/\n\s+at /);
      expect(readdirSync(ro)).to.deep.equal(["link.secret"]);

      const missing = await run({ PORTICO_GAME_DB: join(ro, "no", "such", "dir", "game.sqlite") });
      expect(missing.code).to.equal(1);
      expect(missing.stderr).to.match(/^portico default game: cannot open the game database .*: directory .* does not exist\n$/);
    } finally {
      chmodSync(ro, 0o755);
      rmSync(ro, { recursive: true, force: true });
    }
  });

  it("channels: join, talk, leave; membership persists across a game restart", async () => {
    const game = await startGame();
    const alice = await player("Alice");
    const bob = await player("Bob");
    await ask(alice, "join ooc", "You join [ooc]. Talk with: ooc <message>");
    await ask(bob, "join OOC", "You join [ooc].");
    await alice.waitForLine("[ooc] *** Bob has joined the channel.");
    await ask(alice, "ooc hi all", "[ooc] Alice: hi all");
    await bob.waitForLine("[ooc] Alice: hi all");
    await ask(bob, "public hey |r", "[public] Bob: hey ||r");
    await alice.waitForLine("[public] Bob: hey ||r");
    await ask(bob, "join ooc", "You are already on [ooc].");
    await ask(bob, "join say", "say is a command name; pick another channel name.");
    await ask(bob, "join a|b", "Channel names cannot contain '|'");
    await ask(bob, "leave ooc", "You leave [ooc].");
    await alice.waitForLine("[ooc] *** Bob has left the channel.");
    await ask(alice, "ooc anyone?", "[ooc] Alice: anyone?");
    await silent(bob, "anyone?");
    await ask(bob, "ooc hello", "Unknown command 'ooc'.");

    await game.stopFor("reload");
    const next = await startGame();
    await alice.waitForLine("*** Server restarted.");
    const list = await ask(alice, "channels", /^ {2}ooc /);
    expect(list).to.match(/1 member\s+\(joined\)$/);
    await ask(alice, "ooc back again", "[ooc] Alice: back again");
    await ask(bob, "ooc still?", "Unknown command 'ooc'.");
    expect(next.db.channelsOf(next.db.findAccountByName("Alice")!.id)).to.deep.equal(["ooc", "public"]);
  });

  it("irc2chan/rss2chan: saved, answer that the plugin is not installed, list and delete; admins only", async () => {
    const game = await startGame();
    const alice = await adminPlayer("Alice");
    const bob = await player("Bob");
    await ask(alice, "irc2chan public = irc.example.org 6667 #portico portbot", "Saved IRC link:");
    await alice.waitForLine("The IRC plugin is not installed in this portal yet; the link is saved and will start when it is.");
    await ask(alice, "rss2chan public = https://example.org/feed.xml 300", "The RSS plugin is not installed in this portal yet; the link is saved and will start when it is.");
    await ask(alice, "irc2chan/list", "#1 [public] <-> #portico on irc.example.org:6667 as portbot");
    await ask(alice, "rss2chan/list", "#2 [public] <-> https://example.org/feed.xml every 300s");
    await ask(alice, "irc2chan nochannel = irc.example.org 6667 #x bot", "There is no channel called nochannel.");
    await ask(alice, "irc2chan public = irc.example.org", "Usage: irc2chan");
    await ask(bob, "irc2chan/list", "Unknown command 'irc2chan/list'.");
    await ask(bob, "rss2chan public = https://example.org/x", "Unknown command");
    await ask(alice, "irc2chan/delete 1", "Deleted IRC link #1.");
    await ask(alice, "irc2chan/list", "There are no IRC links.");
    expect(game.db.listBotLinks().map((l) => l.kind)).to.deep.equal(["rss"]);
    expect(game.db.getMeta("bots_started_for")).to.match(/^portal:\d+$/);
  });

  it("@kick and @ban: the player is disconnected; bans hold at login and at connect", async () => {
    const game = await startGame();
    const alice = await adminPlayer("Alice");
    const bob = await player("Bob", "secret2");
    await ask(bob, "@kick Alice", "Unknown command '@kick'.");
    await ask(alice, "@kick Bob being rude", "Kicked Bob (1 connection).");
    await bob.waitForLine("You have been kicked: being rude");
    await waitFor(() => bob.closed, 2000, "kicked client closed");
    await alice.waitForLine("Bob has left.");

    const bob2 = await player("Bob", "secret2", false);
    await ask(alice, "@ban bob spamming", "Banned name bob and disconnected 1 connection.");
    await bob2.waitForLine("This account has been banned. Reason: spamming");
    await waitFor(() => bob2.closed, 2000, "banned client closed");
    const bob3 = await client();
    await ask(bob3, "connect Bob secret2", "This account is banned.");
    await waitFor(() => bob3.closed, 2000, "banned login closed");
    const other = await client();
    await ask(other, "create BOB newpass1", "The name BOB is not available.");

    await ask(alice, "@ban 127.0.0.1", "That is your own address; ban it from another one.");
    await ask(alice, "@ban Alice", "You cannot ban yourself.");
    await ask(alice, "@ban 10.9.8.7 bots", "Banned address 10.9.8.7.");
    await ask(alice, "@ban", /^ {2}ip {4}10\.9\.8\.7/);

    // Every test client shares 127.0.0.1 with the admin, so this ban is stored directly.
    game.db.addBan("ip", "127.0.0.1", "test");
    const refused = await LineClient.open(linePort);
    clients.push(refused);
    await refused.waitForLine("Your address is banned from this server.");
    await waitFor(() => refused.closed, 2000, "banned address closed");
    expect(refused.lines.filter((l) => l.includes("Welcome to Portico"))).to.deep.equal([]);
    await ask(alice, "@unban 127.0.0.1", "Lifted the ban on 127.0.0.1.");
    await client();
    await ask(alice, "@unban bob", "Lifted the ban on bob.");
    await player("Bob", "secret2", false);
  });

  it("@reload: the game restarts, everyone stays logged in and sees one notice", async () => {
    await startGame();
    const alice = await adminPlayer("Alice");
    const bob = await player("Bob");
    const guest = await client();
    await ask(alice, "@reload", "The game is reloading; you stay connected.");
    await waitFor(() => exits.length === 1, 5000, "the game exited");
    expect(exits).to.deep.equal([0]);
    await startGame();
    for (const c of [alice, bob, guest]) await c.waitForLine("*** Server restarted.");
    await ask(bob, "say still here", 'You say, "still here"');
    await alice.waitForLine('Bob says, "still here"');
    await ask(guest, "look", "Welcome to Portico!");
    await sleep(200);
    for (const c of [alice, bob, guest]) expect(c.lines.filter((l) => l === "*** Server restarted.")).to.have.length(1);
    expect(guest.lines.filter((l) => l.includes("Welcome to Portico!"))).to.have.length(2);
    expect(portal.handler.count_loggedin()).to.equal(2);
  });

  it("a stop request from the portal (server-stop) hands sessions back and exits 0", async () => {
    await startGame();
    const alice = await player("Alice");
    expect(portal.requestGameStop("reload")).to.equal(true);
    await waitFor(() => exits.length === 1, 5000, "the game exited");
    expect(exits).to.deep.equal([0]);
    await startGame();
    await alice.waitForLine("*** Server restarted.");
    await ask(alice, "who", "Players online (1):");
  });

  it("main.ts as a process: plays, and SIGTERM ends it with exit code 0", async () => {
    const child = spawn(process.execPath, [MAIN], {
      env: { ...process.env, PORTICO_DATA_DIR: dataDir, PORTICO_LINK_PORT: String(portal.linkAddress!.port), PORTICO_SERVER_NAME: "Testland", PORTICO_LOG_LEVEL: "warn" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      await waitFor(() => (portal.status().link as { connected: boolean }).connected, 10_000, "the game process connected");
      const c = await LineClient.open(linePort);
      clients.push(c);
      await c.waitForLine("Welcome to Testland!", 5000);
      await ask(c, "create Alice secret1", "Welcome, Alice!");
      child.kill("SIGTERM");
      expect(await exited).to.equal(0);
      expect(stderr).to.equal("");
      expect(c.closed).to.equal(false);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });

  it("options shows the protocol flags and sets the allowed ones on the portal session", async () => {
    const game = await startGame();
    const alice = await player("Alice");
    await ask(alice, "options", /^ {2}ENCODING +utf-8$/);
    await ask(alice, "options SCREENWIDTH=100", "SCREENWIDTH is now 100.");
    await ask(alice, "options NOCOLOR on", "NOCOLOR is now true.");
    await ask(alice, "options RAW=on", "You cannot set RAW.");
    const sessid = [...game.handler.sessions.values()].find((s) => s.uname === "Alice")!.sessid;
    await waitFor(() => portal.handler.get(sessid)!.protocol_flags.NOCOLOR === true, 2000, "flags synced");
    expect(portal.handler.get(sessid)!.protocol_flags.SCREENWIDTH).to.deep.equal({ 0: 100 });
    const guest = await client();
    await ask(guest, "options ENCODING=latin-1", "ENCODING is now latin-1.");
  });

  it("help lists admin commands for admins only; @announce reaches everyone; @sessions lists connections", async () => {
    await startGame();
    const alice = await adminPlayer("Alice");
    const bob = await player("Bob");
    const guest = await client();
    await ask(alice, "help", "Admin commands:");
    await ask(bob, "help", "Admins are appointed by the server's operator (on the server: portico admin create <name>, or --promote for an existing account).");
    await sleep(100);
    expect(bob.lines.filter((l) => l.includes("Admin commands"))).to.deep.equal([]);
    await ask(bob, "help say", /^\|wsay\|n: Say something to everyone here\./);
    await ask(bob, "help @ban", "There is no command called @ban.");
    await ask(alice, "@announce Server news |x", "Announcement from Alice:|n Server news ||x");
    await guest.waitForLine("Server news ||x");
    await bob.waitForLine("Server news ||x");
    await ask(alice, "@sessions", "Sessions (3):");
    await ask(bob, "quit", "Goodbye!");
    await alice.waitForLine("Bob has left.");
  });

  it("@shutdown asks the portal to shut down; the game then stops by itself", async () => {
    await startGame();
    const alice = await adminPlayer("Alice");
    alice.send("@shutdown");
    await waitFor(() => alice.closed, 5000, "the portal closed the connection");
    await waitFor(() => exits.length === 1, 5000, "the game exited");
    expect(exits).to.deep.equal([0]);
  });
});
