import Database from "better-sqlite3";
import { expect } from "chai";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statfsSync, unlinkSync, writeFileSync, writeSync } from "node:fs";
import { get as httpGet, request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { sleep, waitFor } from "../../core/testing/wait-for.js";
import { PORTICO_BIN } from "../support/portico-process.js";
import { TelnetTestClient } from "../support/telnet-client.js";
import { LONG, PASSWORD, TelnetPlayer, canary, envWithoutPortico, percentile, readyOrKill, report, scale } from "./abuse-support.js";

/**
 * Fault: the disk fills up. A real `portico start` (the default game, its better-sqlite3 accounts
 * database in WAL mode in the data directory) runs with its data directory on a tiny tmpfs, mounted in
 * a private mount namespace (`unshare --user --map-root-user --mount`: works as root and as an
 * unprivileged user; as root without user namespaces, `unshare --mount`). The test reaches the files
 * through /proc/<portal pid>/root, fills the filesystem to ENOSPC while players create accounts and
 * join channels, then frees the space. What must hold:
 * - every player whose action cannot be saved is told so in a sentence (not silence, not a
 *   disconnect), and the failure is logged once per action with the reason (the disk is full);
 * - what was stored before (accounts, memberships) is neither lost nor corrupted: they still log in,
 *   and `PRAGMA integrity_check` is ok while full and after;
 * - the portal and the game keep running, and a logged-in canary keeps getting answers;
 * - once space is freed, creating accounts works again (also the names refused meanwhile), earlier
 *   accounts still log in, and so they do after the game is restarted (`/reload`) on the same file.
 * A missing capability (no unshare, user namespaces disabled and not root) is a failure naming what
 * to do, never a skip. Short form: a few players; PORTICO_TORTURE=long: more, and several fill/free rounds.
 */
/** The tmpfs: room for what a round stores (the WAL is not checkpointed before 1000 pages, ~4 MB, so it only grows). */
const FS_BYTES = scale(1, 8) * 1024 * 1024;
const BANNER = "Welcome to Torture!";
const SAVE_FAILED = "The server could not save your account right now; please try again later.";
const COMMAND_SAVE_FAILED = "The server could not save that right now; please try again later.";

/** How a private mount namespace can be made here: with a user namespace (any user), or as root without one. */
function namespaceArgs(): string[] {
  const probe = (args: string[]) => spawnSync("unshare", [...args, "--", "sh", "-c", "mount -t tmpfs -o size=64k probe \"$(mktemp -d)\""], { stdio: "pipe", timeout: 10_000 });
  const withUser = ["--user", "--map-root-user", "--mount"];
  const a = probe(withUser);
  if (a.error && (a.error as NodeJS.ErrnoException).code === "ENOENT") {
    throw new Error("this test needs unshare(1) from util-linux (apt-get install util-linux) to put the data directory on a small tmpfs");
  }
  if (a.status === 0) return withUser;
  if (process.getuid?.() === 0 && probe(["--mount"]).status === 0) return ["--mount"];
  throw new Error(
    `this test mounts a small tmpfs in a private mount namespace and cannot here: \`unshare --user --map-root-user --mount\` failed (${String(a.stderr).trim() || `status ${a.status}`}). ` +
      "Enable unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1; on Ubuntu also kernel.apparmor_restrict_unprivileged_userns=0) or run the suite as root.",
  );
}

/** A `portico start` whose data directory is a tmpfs of `bytes` in its own mount namespace. */
class ConfinedPortico {
  readonly output: string[] = [];
  readonly exited: Promise<number | null>;
  telnetPort = 0;
  adminPort = 0;
  secret = "";

  private constructor(readonly child: ChildProcess, readonly cwd: string) {
    this.exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
    for (const stream of [child.stdout!, child.stderr!]) {
      let partial = "";
      stream.setEncoding("utf8");
      stream.on("data", (chunk: string) => {
        const parts = (partial + chunk).split("\n");
        partial = parts.pop() ?? "";
        this.output.push(...parts);
      });
    }
  }

  static async start(bytes: number, env: Record<string, string>): Promise<ConfinedPortico> {
    const ns = namespaceArgs();
    const cwd = mkdtempSync(join(tmpdir(), "portico-disk-full-"));
    mkdirSync(join(cwd, "data"));
    writeFileSync(join(cwd, "portico.config.json"), JSON.stringify({
      serverName: "Torture", link: { port: 0 }, admin: { port: 0 }, limits: { maxConnectionRate: 0 },
      listeners: [{ plugin: "plugins.telnet.TelnetFactory", config: { host: "127.0.0.1", port: 0 } }],
    }));
    const clean = envWithoutPortico();
    // unshare execs sh, which mounts and execs node: the child's pid is the portal's.
    const child = spawn("unshare", [...ns, "--", "sh", "-c", 'mount -t tmpfs -o size="$1",mode=0700 portico-fault "$2" || exit 97; shift 2; exec "$@"',
      "sh", String(bytes), join(cwd, "data"), process.execPath, "--enable-source-maps", PORTICO_BIN, "start"], {
      cwd, env: { ...clean, PORTICO_LOG_LEVEL: "info", ...env }, stdio: ["ignore", "pipe", "pipe"],
    });
    return readyOrKill(new ConfinedPortico(child, cwd));
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** A path in the data directory as this process reaches it (through the portal's mount namespace). */
  data(name = ""): string {
    return `/proc/${this.pid}/root${join(this.cwd, "data", name)}`;
  }

  async ready(): Promise<void> {
    await waitFor(() => {
      if (this.child.exitCode !== null) throw new Error(`portico exited with ${this.child.exitCode}: ${this.output.slice(-10).join("\n")}`);
      return existsSync(this.data("portico.runtime.json")) && this.output.some((l) => l.includes("portico is running"));
    }, 20_000, () => `portico running (last lines: ${this.output.slice(-10).join("\n")})`, 50);
    const info = JSON.parse(readFileSync(this.data("portico.runtime.json"), "utf8")) as { admin: { port: number }; listeners: { plugin: string; port: number }[] };
    this.adminPort = info.admin.port;
    this.telnetPort = info.listeners.find((l) => l.plugin === "plugins.telnet.TelnetFactory")!.port;
    this.secret = readFileSync(this.data("link.secret"), "utf8").trim();
    await waitFor(async () => (await this.admin("GET", "/readyz")).status === 200, 20_000, "the game linked (/readyz)", 100);
  }

  admin(method: "GET" | "POST", path: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = (method === "GET" ? httpGet : httpRequest)({ host: "127.0.0.1", port: this.adminPort, path, method, agent: false, headers: { connection: "close", authorization: `Bearer ${this.secret}` } }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on("error", reject);
      req.setTimeout(20_000, () => req.destroy(new Error(`admin ${method} ${path} timed out`)));
      if (method === "POST") req.end();
    });
  }

  /** Parsed JSON log lines from line `from` on (the game's are relayed into the portal's log). */
  logs(from = 0): Record<string, unknown>[] {
    const out: Record<string, unknown>[] = [];
    for (const l of this.output.slice(from)) {
      if (!l.startsWith("{")) continue;
      try {
        out.push(JSON.parse(l) as Record<string, unknown>);
      } catch {
        /* not a log line */
      }
    }
    return out;
  }

  async stop(): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGTERM");
    const code = await Promise.race([this.exited, sleep(10_000).then(() => "timeout" as const)]);
    if (code === "timeout") {
      await this.kill();
      return null;
    }
    rmSync(this.cwd, { recursive: true, force: true });
    return code;
  }

  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
    await this.exited;
    rmSync(this.cwd, { recursive: true, force: true });
  }
}

/** Fills the filesystem of `path` in 32 KiB steps (a pause between them, so the game writes meanwhile), then to the last byte; the bytes written. */
async function fillGradually(path: string): Promise<number> {
  const fd = openSync(path, "a");
  const step = Buffer.alloc(32 * 1024, 0x78);
  let written = 0;
  try {
    for (;;) {
      try {
        const n = writeSync(fd, step);
        written += n;
        if (n < step.length) break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOSPC") break;
        throw err;
      }
      await sleep(15);
    }
  } finally {
    closeSync(fd);
  }
  return written + fillUp(path);
}

/** Writes `path` until the filesystem says ENOSPC (big chunks, then smaller, down to a byte); the bytes written. */
function fillUp(path: string): number {
  const fd = openSync(path, "a");
  let written = 0;
  try {
    for (const size of [256 * 1024, 16 * 1024, 4096, 512, 64, 1]) {
      const chunk = Buffer.alloc(size, 0x78);
      for (;;) {
        try {
          written += writeSync(fd, chunk);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === "ENOSPC") break;
          throw err;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return written;
}

describe("torture: fault: the data directory's disk fills up (default game, portico start)", function () {
  this.timeout(LONG ? 600_000 : 90_000);
  let portico: ConfinedPortico | undefined;
  let pings: ReturnType<typeof canary> | undefined;
  const clients: TelnetTestClient[] = [];

  afterEach(async function () {
    if (this.currentTest?.state === "failed" && portico) console.log(`      portico's last lines:\n${portico.output.slice(-25).map((l) => `        ${l.slice(0, 400)}`).join("\n")}`);
    await pings?.stop();
    pings = undefined;
    for (const c of clients.splice(0)) c.close();
    await portico?.kill();
    portico = undefined;
  });

  async function player(): Promise<TelnetTestClient> {
    const c = await TelnetTestClient.open(portico!.telnetPort, "127.0.0.1", 10_000);
    clients.push(c);
    await c.waitForLine(BANNER, 10_000);
    return c;
  }

  async function ask(c: TelnetTestClient, line: string, match: string | RegExp, timeoutMs = 15_000): Promise<string> {
    const from = c.lines.length;
    c.send(line);
    return c.waitForLine(match, timeoutMs, from);
  }

  /** `create <name>` on a fresh connection: the answer line. */
  async function create(name: string): Promise<{ client: TelnetTestClient; answer: string }> {
    const c = await player();
    const answer = await ask(c, `create ${name} ${PASSWORD}`, /^Account \S+ created\.|could not save|cannot|busy|Welcome, /);
    return { client: c, answer };
  }

  /** `connect <name>` on a fresh connection succeeds. */
  async function login(name: string): Promise<TelnetTestClient> {
    const c = await player();
    await ask(c, `connect ${name} ${PASSWORD}`, `Welcome, ${name}!`);
    return c;
  }

  /**
   * The database as stored right now: its files (main and -wal) copied out of the tmpfs and opened there.
   * (SQLite resolves symlinks in a path, /proc/<pid>/root among them, so it cannot open the file in place.)
   * Called while nothing writes: the copy is what a crash at this moment would leave.
   */
  function dbCheck(): { integrity: string; accounts: string[]; members: number } {
    const dir = mkdtempSync(join(tmpdir(), "portico-disk-full-db-"));
    try {
      for (const suffix of ["", "-wal"]) {
        if (existsSync(portico!.data(`game.sqlite${suffix}`))) copyFileSync(portico!.data(`game.sqlite${suffix}`), join(dir, `game.sqlite${suffix}`));
      }
      const db = new Database(join(dir, "game.sqlite"), { fileMustExist: true });
      try {
        const integrity = String(db.pragma("integrity_check", { simple: true }));
        const accounts = (db.prepare("SELECT name FROM accounts ORDER BY id").all() as { name: string }[]).map((r) => r.name);
        const members = (db.prepare("SELECT COUNT(*) AS n FROM channel_members").get() as { n: number }).n;
        return { integrity, accounts, members };
      } finally {
        db.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it("accounts and channel joins while the disk is full: each player told in a sentence and not dropped, the failure logged with its reason, nothing stored lost or corrupt, the canary served; after freeing space creating works again and old accounts log in, also after a game restart", async () => {
    const t0 = performance.now();
    portico = await ConfinedPortico.start(FS_BYTES, { PORTICO_GAME_ACCOUNT_CREATE_LIMIT: "0", PORTICO_GAME_CHANNEL_CREATE_LIMIT: "0" });
    const fs = statfsSync(portico.data());
    expect(fs.bsize * fs.blocks, "the data directory's filesystem size (the tmpfs)").to.be.at.most(FS_BYTES);

    const rounds = scale(1, 4);
    const perRound = scale(4, 12);
    const stored: string[] = [];
    const canaryPlayer = await TelnetPlayer.login(portico.telnetPort, "127.0.0.1", "canary");
    stored.push("canary");
    pings = canary(canaryPlayer, 50, 5000);
    const figures: Record<string, unknown>[] = [];

    const refusedAll: string[] = [];
    for (let r = 0; r < rounds; r++) {
      // Stored before the disk fills: accounts, and one of them on a channel.
      for (let i = 0; i < 3; i++) {
        const name = `early${r}x${i}`;
        const { client, answer } = await create(name);
        expect(answer, `creating ${name} with space left`).to.equal(`Account ${name} created.`);
        stored.push(name);
        client.close();
      }
      const member = await login(`early${r}x0`);
      await ask(member, `join chan${r}`, `You join [chan${r}]`);
      const beforeFill = dbCheck();
      const logFrom = portico.output.length;

      // The disk fills while players keep creating accounts (two at a time), then more try on the full disk.
      let filling = true;
      const outcomes: { name: string; client: TelnetTestClient; answer: string }[] = [];
      let serial = 0;
      const creator = async () => {
        while (filling) {
          const name = `mid${r}x${serial++}`;
          outcomes.push({ name, ...(await create(name)) });
        }
      };
      const [filled] = await Promise.all([fillGradually(portico.data("filler")).finally(() => (filling = false)), creator(), creator()]);
      const full = statfsSync(portico.data());
      // Once the WAL has been checkpointed (1000 pages), SQLite rewrites it from the start, in space it already
      // has: writes go on until it must grow again. So creation goes on until the full disk bites (bounded).
      const late: typeof outcomes = [];
      for (let batch = 0; late.every((o) => o.answer !== SAVE_FAILED) && batch < 40; batch++) {
        late.push(...(await Promise.all(Array.from({ length: perRound }, (_, i) => `late${r}x${batch * perRound + i}`).map((name) => create(name).then((o) => ({ name, ...o }))))));
      }
      outcomes.push(...late);
      const refused: string[] = [];
      for (const { name, client, answer } of outcomes) {
        // Every player gets one of the two sentences: created, or told it could not be saved; never silence or a hang-up.
        expect([`Account ${name} created.`, SAVE_FAILED], `the answer to create ${name}`).to.include(answer);
        if (answer === SAVE_FAILED) refused.push(name);
        else stored.push(name);
        expect(client.closed, `${name}'s connection`).to.equal(false);
        if (answer === SAVE_FAILED) await ask(client, "look", BANNER); // still served, still before login
        client.close();
      }
      expect(late.filter((o) => o.answer === SAVE_FAILED).length, `creations refused on the full disk (of ${late.length})`).to.be.at.least(1);
      // A logged-in player's write (joining a new channel) is refused in a sentence too; talking goes on.
      const joinAnswer = await ask(member, `join full${r}`, /^You join|could not|disk|save|went wrong/i, 5000).catch(() => "(no answer within 5 s)");
      expect(joinAnswer, "joining a new channel while the disk is full").to.equal(COMMAND_SAVE_FAILED);
      expect(member.closed).to.equal(false);
      await ask(member, `say still here ${r}`, `You say, "still here ${r}"`);
      // Reads still work: stored accounts log in; the file holds exactly the accounts that were confirmed.
      for (const name of stored.slice(-3)) (await login(name)).close();
      const whileFull = dbCheck();
      expect(whileFull.integrity, "integrity while full").to.equal("ok");
      expect(whileFull.accounts.slice().sort(), "accounts while full: every one confirmed, none refused").to.deep.equal(stored.slice().sort());
      // Each account is created with its `public` membership in one transaction: no account without it, no stray row.
      const created = outcomes.length - refused.length;
      expect(whileFull.members, "channel memberships while full").to.equal(beforeFill.members + created);
      // Logged: one error line per refused action, coded, with the reason.
      const logged = portico.logs(logFrom).filter((e) => e.code === "PORTAL_ERR_GAME_DB");
      expect(logged.filter((e) => e.msg === "account not created: the disk is full").map((e) => e.name).sort(), "account-not-created lines").to.deep.equal(refused.slice().sort());
      expect(logged.filter((e) => e.msg === "command failed: the disk is full"), "command-failed lines (the join)").to.have.length(1);
      expect(logged, "PORTAL_ERR_GAME_DB lines this round (one per refused creation, one for the join)").to.have.length(refused.length + 1);
      figures.push({ round: r, filledKb: Math.round(filled / 1024), freeBlocks: full.bavail, created, refused: refused.length, logged: logged.length });

      // Space back: the refused names can be created now, joining works, and the earlier accounts still log in.
      unlinkSync(portico.data("filler"));
      for (const name of refused.slice(0, scale(2, 4))) {
        const { client, answer } = await create(name);
        expect(answer, `creating ${name} after space was freed`).to.equal(`Account ${name} created.`);
        stored.push(name);
        client.close();
      }
      refusedAll.push(...refused.slice(scale(2, 4)));
      await ask(member, `join full${r}`, `You join [full${r}]`);
      member.close();
    }

    const after = dbCheck();
    expect(after.integrity, "integrity after freeing space").to.equal("ok");
    expect(after.accounts.slice().sort(), "accounts after freeing space").to.deep.equal(stored.slice().sort());
    expect(after.accounts.filter((n) => refusedAll.includes(n)), "refused names stored anyway").to.deep.equal([]);

    // The game restarts on the same file (what a crash or `portico reload` does): everything is there.
    const reload = await portico.admin("POST", "/reload");
    expect(reload.status, `POST /reload: ${reload.body}`).to.equal(200);
    await waitFor(async () => (await portico!.admin("GET", "/readyz")).status === 200, 20_000, "the game back after /reload", 100);
    const sample = stored.filter((n) => n.startsWith("early") || stored.indexOf(n) % Math.max(1, Math.floor(stored.length / 20)) === 0).filter((n) => n !== "canary");
    for (const name of sample) (await login(name)).close();

    await pings.stop();
    const { failures: pingFailures, rtts } = pings;
    pings = undefined;
    expect(pingFailures, "canary pings without an answer").to.deep.equal([]);
    expect(await canaryPlayer.ping(5000)).to.be.a("number");
    canaryPlayer.close();
    const errors = portico.logs().filter((e) => Number(e.level) >= 40);
    expect(errors.filter((e) => e.code !== "PORTAL_ERR_GAME_DB"), "warn and error lines other than the refused writes").to.deep.equal([]);
    report("disk full", {
      rounds, playersPerRound: perRound, accounts: stored.length, canaryPings: rtts.length, canaryP99Ms: percentile(rtts, 99), seconds: (performance.now() - t0) / 1000,
      perRound: figures, errorLines: errors.length,
    });
    expect(await portico.stop(), "portico's exit code after SIGTERM").to.equal(0);
    portico = undefined;
  });
});
