import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readLinkSecret } from "../../core/game/index.js";
import { Portal } from "../../core/index.js";
import { startDefaultGame, type DefaultGame, type DefaultGameOptions } from "../../core/default-game/game.js";
import { LineClient } from "../../core/testing/line-client.js";
import { MemoryLogger, waitFor } from "../../core/testing/index.js";
import { lineManifest } from "../../plugin-template/src/index.js";
import { PorticoProcess, runCli } from "../support/portico-process.js";
import { TelnetTestClient } from "../support/telnet-client.js";

const WRONG = "Wrong name or password.";
const ADDRESS_LOCKED = "Too many failed logins from your address; try again later.";

/** The JSON log lines of a `portico start` (the game's lines are relayed into it). */
function logEntries(output: readonly string[]): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of output) {
    if (!line.startsWith("{")) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      /* not a log line */
    }
  }
  return out;
}

/**
 * Attacks on the default game's accounts through a real `portico start`, from real telnet clients
 * bound to distinct loopback addresses (127.0.0.x), with the default limits.
 */
describe("account abuse: the default game's login and creation limits (portico start, telnet from many loopback addresses)", function () {
  this.timeout(120_000);
  let portico: PorticoProcess;
  let telnetPort: number;
  let cwd: string;
  const clients: TelnetTestClient[] = [];

  before(async () => {
    cwd = mkdtempSync(join(tmpdir(), "portico-abuse-"));
    writeFileSync(join(cwd, "portico.config.json"), JSON.stringify({ serverName: "Abuse", limits: { maxConnectionRate: 0 } }));
    portico = PorticoProcess.start({ cwd });
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

  /** A telnet client whose end of the connection is `from` (a loopback address). */
  async function open(from: string): Promise<TelnetTestClient> {
    const c = await TelnetTestClient.open(telnetPort, "127.0.0.1", 5000, from);
    clients.push(c);
    await c.waitForLine("Welcome to Abuse!", 10_000);
    return c;
  }

  async function ask(c: TelnetTestClient, line: string, match: string | RegExp, timeoutMs = 15_000): Promise<string> {
    const from = c.lines.length;
    c.send(line);
    return c.waitForLine(match, timeoutMs, from);
  }

  it("brute force of one account from 10 addresses: cut off after 10 failures by the per-account limit, logged with name and address, never the password", async () => {
    const owner = await open("127.0.0.2");
    await ask(owner, "create Victim right-pass-1", "Welcome, Victim!");
    owner.close();

    // 10 addresses, 5 guesses each (the per-address limit, 5 per 5 minutes, alone would allow all 50).
    const attackers = await Promise.all(Array.from({ length: 10 }, (_, i) => open(`127.0.0.${11 + i}`)));
    const perAttacker: string[][] = attackers.map(() => []);
    await Promise.all(attackers.map(async (c, i) => {
      for (let g = 0; g < 5; g++) perAttacker[i]!.push(await ask(c, `connect Victim guess-${i}-${g}-xyzzy`, /^(Wrong name or password\.|Too many failed logins)/));
    }));
    const answers = perAttacker.flat();
    expect(answers).to.have.length(50);
    expect(answers.filter((a) => a === WRONG), "passwords actually tried").to.have.length(10);
    const locked = answers.filter((a) => a !== WRONG);
    expect(locked).to.have.length(40);
    for (const a of locked) expect(a).to.match(/^Too many failed logins for the name Victim; logins to it are paused\. Try again in about 1[45] minutes\.$/);

    // During the cooldown even the right password, from an address that never failed, is refused.
    const fresh = await open("127.0.0.21");
    await ask(fresh, "connect Victim right-pass-1", /^Too many failed logins for the name Victim; logins to it are paused\./);
    await ask(fresh, "connect victim", /^Too many failed logins for the name victim; logins to it are paused\./);
    expect(fresh.lines.some((l) => l.startsWith("Password:"))).to.equal(false);
    // The lock is per account: another account logs in from an attacking address.
    const bystander = await open("127.0.0.3");
    await ask(bystander, "create Bystander by-pass-1", "Welcome, Bystander!");
    bystander.close();
    const leastFailed = perAttacker.map((a) => a.filter((x) => x === WRONG).length).reduce((best, n, i, all) => (n < all[best]! ? i : best), 0);
    await ask(attackers[leastFailed]!, "connect Bystander by-pass-1", "Welcome, Bystander!");

    const failed = await waitFor(() => {
      const list = logEntries(portico.output).filter((e) => e.msg === "failed login" && e.name === "Victim");
      return list.length === 10 ? list : undefined;
    }, 10_000, "10 failed-login log lines");
    for (const e of failed) {
      expect(e.level, "logged at info").to.equal(30);
      expect(e.address).to.match(/^127\.0\.0\.(1[1-9]|20)$/);
    }
    const lockLine = logEntries(portico.output).find((e) => e.msg === "too many failed logins for this account: it is locked");
    expect(lockLine, "the lockout is logged").to.not.equal(undefined);
    expect(lockLine).to.include({ level: 30, name: "Victim" });
    expect(lockLine!.address).to.match(/^127\.0\.0\.(1[1-9]|20)$/);
    const everything = portico.output.join("\n");
    expect(everything).to.not.include("xyzzy");
    expect(everything).to.not.include("right-pass-1");
  });

  it("the per-address limit still holds: 5 failures from one address (on any names) lock that address, not others", async () => {
    const conns = await Promise.all(Array.from({ length: 5 }, () => open("127.0.0.30")));
    await Promise.all(conns.map((c, i) => ask(c, `connect Nobody${i} wrong-pass`, WRONG)));
    await ask(conns[0]!, "connect Nobody9 wrong-pass", ADDRESS_LOCKED);
    await ask(conns[1]!, "connect Nobody9", ADDRESS_LOCKED);
    const other = await open("127.0.0.31");
    await ask(other, "connect Nobody9 wrong-pass", WRONG);
    const line = await waitFor(
      () => logEntries(portico.output).find((e) => e.msg === "too many failed logins from this address: its logins are refused for a while" && e.address === "127.0.0.30"),
      10_000,
      "the address lockout log line",
    );
    expect(line.level).to.equal(30);
  });

  it("account creation: the 9th account from one address within the hour is refused clearly; another address still creates; refused creations do not count", async () => {
    const conns = await Promise.all(Array.from({ length: 9 }, () => open("127.0.0.40")));
    await Promise.all(conns.slice(0, 8).map((c, i) => ask(c, `create Maker${i + 1} maker-pass-${i + 1}`, `Welcome, Maker${i + 1}!`)));
    await ask(conns[8]!, "create Maker9 maker-pass-9", /^Too many accounts have been created from your address recently\. Try again in about (59|60) minutes\.$/);
    // The name was not taken: another address creates it.
    const other = await open("127.0.0.41");
    await ask(other, "create Maker9 maker-pass-9", "Welcome, Maker9!");
    // Invalid or duplicate creations do not use up an address's allowance.
    const tries = await open("127.0.0.42");
    for (let i = 0; i < 10; i++) await ask(tries, `create Maker${i + 1} short`, /^(Passwords must be|The name Maker\d+ is already taken)/);
    for (let i = 0; i < 10; i++) await ask(tries, `create Maker1 long-enough-${i}`, "The name Maker1 is already taken.");
    await ask(tries, "create Maker10 maker-pass-10", "Welcome, Maker10!");
    await waitFor(
      () => logEntries(portico.output).find((e) => e.msg === "account creation limit reached for this address" && e.address === "127.0.0.40"),
      10_000,
      "the creation limit log line",
    );
    expect(logEntries(portico.output).filter((e) => e.msg === "account created" && e.address === "127.0.0.40")).to.have.length(8);
  });

  it("channel creation: the 11th new channel from one address within the hour is refused; joining existing channels and other addresses still work", async () => {
    const maker = await open("127.0.0.50");
    await ask(maker, "create Chanmaker chan-pass-1", "Welcome, Chanmaker!");
    for (let i = 1; i <= 10; i++) await ask(maker, `join room${i}`, `You join [room${i}].`);
    await ask(maker, "join room11", /^Too many channels have been created from your address recently; room11 was not created\. Try again in about (59|60) minutes; joining existing channels still works\.$/);
    await ask(maker, "channels", "Channels:");
    expect(maker.lines.some((l) => /^ {2}room11 /.test(l))).to.equal(false);
    // Per address, not per account: a second account from the same address is refused as well.
    const second = await open("127.0.0.50");
    await ask(second, "create Chanmaker2 chan-pass-2", "Welcome, Chanmaker2!");
    await ask(second, "join room12", /^Too many channels have been created from your address recently/);
    await ask(second, "join room3", "You join [room3].");
    const other = await open("127.0.0.51");
    await ask(other, "create Chanother chan-pass-3", "Welcome, Chanother!");
    await ask(other, "join room11", "You join [room11].");
    await waitFor(
      () => logEntries(portico.output).find((e) => e.msg === "channel creation limit reached for this address" && e.address === "127.0.0.50"),
      10_000,
      "the channel limit log line",
    );
  });
});

/**
 * The limits' time windows with a fake clock (the game takes `now`): the default game in-process
 * against a real portal and real TCP clients on loopback.
 */
describe("account abuse: the limits' windows and cooldowns (fake clock)", function () {
  this.timeout(60_000);
  let dataDir: string;
  let portal: Portal;
  let linePort: number;
  let game: DefaultGame | undefined;
  let t: number;
  const clients: LineClient[] = [];

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "portico-abuse-clock-"));
    portal = new Portal({
      config: { dataDir, link: { port: 0 }, limits: { maxConnectionRate: 0 }, listeners: [{ plugin: lineManifest.path, config: { host: "127.0.0.1", port: 0 } }] },
      plugins: [lineManifest],
      logger: new MemoryLogger(),
    });
    await portal.start();
    linePort = (portal.launcher.list()[0]!.status as { port: number }).port;
    t = Date.now();
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await game?.stop();
    game = undefined;
    await portal.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function startGame(extra: Partial<DefaultGameOptions> = {}): Promise<DefaultGame> {
    const logger = new MemoryLogger();
    game = startDefaultGame({
      link: { port: portal.linkAddress!.port, secret: readLinkSecret(dataDir), backoff: { initialMs: 50, factor: 1.5, maxMs: 200 } },
      dbPath: join(dataDir, "game.sqlite"),
      logger,
      now: () => t,
      failDelayMs: 0,
      ...extra,
    });
    await waitFor(() => game!.handler.ready, 5000, "game synced with the portal");
    return game;
  }

  async function client(): Promise<LineClient> {
    const c = await LineClient.open(linePort);
    clients.push(c);
    await c.waitForLine("Welcome to Portico!");
    return c;
  }

  async function ask(c: LineClient, line: string, match: string | RegExp): Promise<string> {
    const from = c.lines.length;
    c.send(line);
    return c.waitForLine(match, 5000, from);
  }

  it("a locked account opens again after the cooldown; a name without an account is locked the same way (nothing revealed)", async () => {
    // Every client here shares 127.0.0.1: the per-address limit is lifted to isolate the per-account one.
    await startGame({ maxFailures: 0 });
    const c = await client();
    await ask(c, "create Alice secret1", "Welcome, Alice!");
    const other = await client();
    const answers: string[] = [];
    for (const name of ["Alice", "Ghost"]) {
      for (let i = 0; i < 10; i++) await ask(other, `connect ${name} wrong-${i}`, WRONG);
      answers.push(await ask(other, `connect ${name} secret1`, /^Too many failed logins/));
    }
    expect(answers).to.deep.equal([
      "Too many failed logins for the name Alice; logins to it are paused. Try again in about 15 minutes.",
      "Too many failed logins for the name Ghost; logins to it are paused. Try again in about 15 minutes.",
    ]);
    t += 15 * 60_000 - 1000;
    await ask(other, "connect Alice secret1", "Try again in about 1 minute.");
    t += 1000;
    await ask(other, "connect Alice secret1", "Welcome, Alice!");
    // Afresh after the cooldown: 10 new tries before the next lock.
    const third = await client();
    for (let i = 0; i < 10; i++) await ask(third, `connect Alice wrong-${i}`, WRONG);
    await ask(third, "connect Alice secret1", /^Too many failed logins for the name Alice/);
  });

  it("account creation: refused for the rest of the hour, allowed again once the hour has passed", async () => {
    await startGame();
    for (let i = 1; i <= 8; i++) await ask(await client(), `create User${i} secret${i}`, `Welcome, User${i}!`);
    const c = await client();
    await ask(c, "create User9 secret9", "Try again in about 60 minutes.");
    t += 30 * 60_000;
    await ask(c, "create User9 secret9", "Try again in about 30 minutes.");
    t += 30 * 60_000 + 1;
    await ask(c, "create User9 secret9", "Welcome, User9!");
  });

  it("channel creation: refused for the rest of the hour; admins are not limited", async () => {
    const g = await startGame({ channelCreateLimit: 2 });
    const c = await client();
    await ask(c, "create Alice secret1", "Welcome, Alice!");
    await ask(c, "join one", "You join [one].");
    await ask(c, "join two", "You join [two].");
    await ask(c, "join three", "three was not created. Try again in about 60 minutes");
    await ask(c, "join one", "You are already on [one].");
    t += 60 * 60_000 + 1;
    await ask(c, "join three", "You join [three].");
    await ask(c, "join four", "You join [four].");
    await ask(c, "join five", "five was not created.");
    g.db.setAdmin("Alice", true);
    await ask(c, "join five", "You join [five].");
    await ask(c, "join six", "You join [six].");
  });
});

describe("account abuse: the limits' settings", function () {
  this.timeout(30_000);

  it("portico start refuses a bad PORTICO_GAME_* limit with exit code 2, naming the variable (before anything listens)", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "portico-abuse-env-"));
    try {
      const r = await runCli(["start"], cwd, { PORTICO_GAME_ACCOUNT_MAX_FAILURES: "lots", PORTICO_TELNET_PORT: "0", PORTICO_WEB_PORT: "0", PORTICO_LINK_PORT: "0", PORTICO_ADMIN_PORT: "0" });
      expect(r.code).to.equal(2);
      expect(r.stderr).to.equal('portico: [PORTAL_ERR_CONFIG_INVALID] config key "PORTICO_GAME_ACCOUNT_MAX_FAILURES": must be a whole number from 0 to 1000000 (failed logins per account name, from any addresses, within the window (0: no limit)), got "lots"\n');
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});
