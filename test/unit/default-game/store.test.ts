import { expect } from "chai";
import Database from "better-sqlite3";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AccountService } from "../../../core/default-game/accounts.js";
import { GameDb, GameDbError, NameTakenError } from "../../../core/default-game/db.js";

const FAST = { N: 1024, r: 8, p: 1, keylen: 64 };

describe("default game: the SQLite store and accounts", () => {
  let dir: string;
  let db: GameDb;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "portico-store-"));
    db = GameDb.open(join(dir, "game.sqlite"));
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("uses WAL and migrates idempotently (reopening keeps data)", () => {
    db.insertAccount({ name: "Alice", hash: "00", salt: "00", params: "{}" });
    db.close();
    const raw = new Database(join(dir, "game.sqlite"));
    expect(raw.pragma("journal_mode", { simple: true })).to.equal("wal");
    expect(raw.pragma("user_version", { simple: true })).to.equal(1);
    raw.close();
    db = GameDb.open(join(dir, "game.sqlite"));
    db.close();
    db = GameDb.open(join(dir, "game.sqlite"));
    expect(db.countAccounts()).to.equal(1);
    expect(db.listChannels().map((c) => c.name)).to.deep.equal(["public"]);
  });

  it("no account is an admin unless made one (not even the first); every account joins public", () => {
    const a = db.insertAccount({ name: "Alice", hash: "00", salt: "00", params: "{}" });
    const b = db.insertAccount({ name: "Bob", hash: "00", salt: "00", params: "{}" });
    expect([a.is_admin, b.is_admin]).to.deep.equal([0, 0]);
    const c = db.insertAccount({ name: "Carol", hash: "00", salt: "00", params: "{}" }, { admin: true });
    expect(c.is_admin).to.equal(1);
    expect(db.listAdmins()).to.deep.equal(["Carol"]);
    expect(db.setAdmin("alice", true)?.is_admin).to.equal(1);
    expect(db.listAdmins()).to.deep.equal(["Alice", "Carol"]);
    expect(db.setAdmin("Carol", false)?.is_admin).to.equal(0);
    expect(db.setAdmin("Nobody", true)).to.equal(undefined);
    expect(db.listAdmins()).to.deep.equal(["Alice"]);
    expect(db.channelsOf(a.id)).to.deep.equal(["public"]);
    expect(db.channelsOf(b.id)).to.deep.equal(["public"]);
  });

  it("names are unique regardless of case (the unique index decides)", () => {
    db.insertAccount({ name: "Alice", hash: "00", salt: "00", params: "{}" });
    expect(() => db.insertAccount({ name: "ALICE", hash: "00", salt: "00", params: "{}" })).to.throw(NameTakenError);
    expect(db.findAccountByName("aLiCe")?.name).to.equal("Alice");
  });

  it("never leaves half an account: a failure inside the transaction rolls everything back", () => {
    db.close();
    const raw = new Database(join(dir, "game.sqlite"));
    raw.exec("CREATE TRIGGER fail_membership BEFORE INSERT ON channel_members BEGIN SELECT RAISE(ABORT, 'simulated failure'); END;");
    raw.close();
    db = GameDb.open(join(dir, "game.sqlite"));
    expect(() => db.insertAccount({ name: "Alice", hash: "00", salt: "00", params: "{}" })).to.throw(/simulated failure/);
    expect(db.countAccounts()).to.equal(0);
  });

  it("channels, bans and bot links persist", () => {
    const a = db.insertAccount({ name: "Alice", hash: "00", salt: "00", params: "{}" });
    expect(db.joinChannel(a.id, "OOC")).to.deep.equal({ name: "OOC", joined: true, created: true });
    expect(db.joinChannel(a.id, "ooc")).to.deep.equal({ name: "OOC", joined: false, created: false });
    expect(db.addBan("ip", "10.0.0.1", "spam")).to.equal(true);
    expect(db.addBan("ip", "10.0.0.1", "again")).to.equal(false);
    const link = db.addBotLink("irc", "public", { network: "irc.x", port: 6667 });
    db.close();
    db = GameDb.open(join(dir, "game.sqlite"));
    expect(db.channelsOf(a.id)).to.deep.equal(["OOC", "public"]);
    expect(db.findBan("ip", "10.0.0.1")?.reason).to.equal("spam");
    expect(db.getBotLink(link.id)?.channel).to.equal("public");
    expect(db.leaveChannel(a.id, "OOC")).to.equal(true);
    expect(db.channelsOf(a.id)).to.deep.equal(["public"]);
  });

  it("a missing directory is a one-line GameDbError", () => {
    let err: unknown;
    try {
      GameDb.open(join(dir, "nope", "game.sqlite"));
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(GameDbError);
    expect((err as Error).message).to.match(/^cannot open the game database .*: directory .* does not exist$/);
  });

  it("a file that is not a database is reported as such", () => {
    db.close();
    const path = join(dir, "game.sqlite");
    rmSync(path);
    rmSync(`${path}-wal`, { force: true });
    rmSync(`${path}-shm`, { force: true });
    writeFileSync(path, "this is not sqlite, just some text that is long enough to be a header...".repeat(20));
    expect(() => GameDb.open(path)).to.throw(GameDbError, /not a SQLite database/);
    db = GameDb.open(join(dir, "other.sqlite"));
  });

  describe("AccountService", () => {
    it("creates, verifies, and refuses bad input, duplicates and wrong passwords", async () => {
      const accounts = new AccountService(db, { scrypt: FAST });
      const made = await accounts.create("Alice", "secret1");
      expect(made.ok).to.equal(true);
      expect(await accounts.create("alice", "secret2")).to.deep.equal({ ok: false, reason: "taken", message: "The name alice is already taken." });
      expect(await accounts.create("Al|ice", "secret2")).to.have.property("reason", "invalid");
      expect(await accounts.create("Bobby", "short")).to.have.property("reason", "invalid");
      const good = await accounts.verify("ALICE", "secret1");
      expect(good.ok && good.account.name).to.equal("Alice");
      expect(await accounts.verify("Alice", "secret2")).to.have.property("reason", "wrong");
      expect(await accounts.verify("Nobody", "secret1")).to.have.property("reason", "wrong");
      expect(db.countAccounts()).to.equal(1);
    });

    it("two simultaneous creates of one name give one account", async () => {
      const accounts = new AccountService(db, { scrypt: FAST });
      const results = await Promise.all([accounts.create("Carol", "secret1"), accounts.create("CAROL", "secret2"), accounts.create("carol", "secret3")]);
      expect(results.filter((r) => r.ok)).to.have.length(1);
      expect(results.filter((r) => !r.ok && r.reason === "taken")).to.have.length(2);
      expect(db.countAccounts()).to.equal(1);
    });

    it("tells players the server is busy when too many hashes wait", async () => {
      const accounts = new AccountService(db, { scrypt: FAST, concurrency: 1, maxPending: 2 });
      const results = await Promise.all(Array.from({ length: 6 }, (_, i) => accounts.create(`user${i}`, "secret1")));
      expect(results.filter((r) => r.ok)).to.have.length(3);
      expect(results.filter((r) => !r.ok && r.reason === "busy")).to.have.length(3);
      expect(db.countAccounts()).to.equal(3);
    });

    it("after close() nothing more is created", async () => {
      const accounts = new AccountService(db, { scrypt: FAST, concurrency: 1 });
      const first = accounts.create("Dave1", "secret1");
      const second = accounts.create("Dave2", "secret1");
      accounts.close();
      expect((await second).ok).to.equal(false);
      expect(await first).to.deep.include({ ok: false, reason: "error" });
      expect(db.countAccounts()).to.equal(0);
    });
  });
});
