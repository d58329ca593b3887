/** The game's SQLite store (better-sqlite3, WAL): accounts, channels, members, bans, bot links, meta. */
import type Database from "better-sqlite3";
import { GameDbError, openDatabase } from "./db-open.js";
import { PUBLIC_CHANNEL } from "./schema.js";

export { GameDbError, describeDbError, isDbError } from "./db-open.js";

export interface AccountRow {
  id: number;
  name: string;
  hash: string;
  salt: string;
  params: string;
  is_admin: number;
  created: number;
}

export interface BanRow {
  id: number;
  kind: "name" | "ip";
  value: string;
  reason: string | null;
  created: number;
}

export type BotKind = "irc" | "rss";

export interface BotLinkRow {
  id: number;
  kind: BotKind;
  channel: string;
  config: string;
  created: number;
}

/** The name is taken (the unique index said so). */
export class NameTakenError extends Error {
  constructor(name: string) {
    super(`name ${name} is taken`);
    this.name = "NameTakenError";
  }
}

const now = (): number => Math.floor(Date.now() / 1000);

function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY";
}

export class GameDb {
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();
  private open = true;

  private constructor(db: Database.Database) {
    this.db = db;
  }

  /** Opens (creating if needed) and migrates; throws GameDbError with a one-line message. */
  static open(path: string): GameDb {
    return new GameDb(openDatabase(path));
  }

  close(): void {
    if (!this.open) return;
    this.open = false;
    this.db.close();
  }

  private q(sql: string): Database.Statement {
    if (!this.open) throw new GameDbError("the game database is closed");
    let st = this.statements.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      this.statements.set(sql, st);
    }
    return st;
  }

  // ---- accounts -------------------------------------------------------------------------------

  findAccountByName(name: string): AccountRow | undefined {
    return this.q("SELECT * FROM accounts WHERE name = ?").get(name) as AccountRow | undefined;
  }

  getAccount(id: number): AccountRow | undefined {
    return this.q("SELECT * FROM accounts WHERE id = ?").get(id) as AccountRow | undefined;
  }

  countAccounts(): number {
    return (this.q("SELECT COUNT(*) AS n FROM accounts").get() as { n: number }).n;
  }

  /**
   * Creates an account and its `public` membership in one transaction. Accounts are not admins
   * unless `admin` is set (only the operator's `portico admin create` does). Throws NameTakenError
   * when the unique index refuses the name.
   */
  insertAccount(a: { name: string; hash: string; salt: string; params: string }, options: { admin?: boolean } = {}): AccountRow {
    const tx = this.db.transaction(() => {
      const info = this.q("INSERT INTO accounts (name, hash, salt, params, is_admin, created) VALUES (?, ?, ?, ?, ?, ?)")
        .run(a.name, a.hash, a.salt, a.params, options.admin === true ? 1 : 0, now());
      const id = Number(info.lastInsertRowid);
      this.q("INSERT OR IGNORE INTO channels (name, created) VALUES (?, ?)").run(PUBLIC_CHANNEL, now());
      this.q("INSERT OR IGNORE INTO channel_members (account_id, channel) VALUES (?, ?)").run(id, PUBLIC_CHANNEL);
      return this.getAccount(id)!;
    });
    try {
      return tx.immediate();
    } catch (err) {
      if (isUniqueViolation(err)) throw new NameTakenError(a.name);
      throw err;
    }
  }

  /** Grants or revokes admin rights; the account as it is now, or undefined when there is no such name. */
  setAdmin(name: string, admin: boolean): AccountRow | undefined {
    this.q("UPDATE accounts SET is_admin = ? WHERE name = ?").run(admin ? 1 : 0, name);
    return this.findAccountByName(name);
  }

  /** The admins' names, sorted. */
  listAdmins(): string[] {
    return (this.q("SELECT name FROM accounts WHERE is_admin = 1 ORDER BY name").all() as { name: string }[]).map((r) => r.name);
  }

  // ---- channels -------------------------------------------------------------------------------

  listChannels(): { name: string; members: number }[] {
    return this.q(
      "SELECT c.name AS name, COUNT(m.account_id) AS members FROM channels c LEFT JOIN channel_members m ON m.channel = c.name GROUP BY c.name ORDER BY c.name",
    ).all() as { name: string; members: number }[];
  }

  /** The channel's stored spelling, or undefined. */
  channelName(name: string): string | undefined {
    return (this.q("SELECT name FROM channels WHERE name = ?").get(name) as { name: string } | undefined)?.name;
  }

  /**
   * Joins (creating the channel when new); returns the channel's spelling, whether it was a new
   * membership and whether this call created the channel.
   */
  joinChannel(accountId: number, channel: string): { name: string; joined: boolean; created: boolean } {
    return this.db.transaction(() => {
      const created = this.q("INSERT OR IGNORE INTO channels (name, created) VALUES (?, ?)").run(channel, now()).changes > 0;
      const name = this.channelName(channel)!;
      const info = this.q("INSERT OR IGNORE INTO channel_members (account_id, channel) VALUES (?, ?)").run(accountId, name);
      return { name, joined: info.changes > 0, created };
    }).immediate();
  }

  leaveChannel(accountId: number, channel: string): boolean {
    return this.q("DELETE FROM channel_members WHERE account_id = ? AND channel = ?").run(accountId, channel).changes > 0;
  }

  channelsOf(accountId: number): string[] {
    return (this.q("SELECT channel FROM channel_members WHERE account_id = ? ORDER BY channel").all(accountId) as { channel: string }[]).map((r) => r.channel);
  }

  isMember(accountId: number, channel: string): boolean {
    return this.q("SELECT 1 FROM channel_members WHERE account_id = ? AND channel = ?").get(accountId, channel) !== undefined;
  }

  membersOf(channel: string): Set<number> {
    return new Set((this.q("SELECT account_id FROM channel_members WHERE channel = ?").all(channel) as { account_id: number }[]).map((r) => r.account_id));
  }

  // ---- bans -----------------------------------------------------------------------------------

  /** False when the same ban exists already. */
  addBan(kind: "name" | "ip", value: string, reason: string | null): boolean {
    try {
      this.q("INSERT INTO bans (kind, value, reason, created) VALUES (?, ?, ?, ?)").run(kind, value, reason, now());
      return true;
    } catch (err) {
      if (isUniqueViolation(err)) return false;
      throw err;
    }
  }

  removeBan(value: string): number {
    return this.q("DELETE FROM bans WHERE value = ?").run(value).changes;
  }

  findBan(kind: "name" | "ip", value: string): BanRow | undefined {
    return this.q("SELECT * FROM bans WHERE kind = ? AND value = ?").get(kind, value) as BanRow | undefined;
  }

  listBans(): BanRow[] {
    return this.q("SELECT * FROM bans ORDER BY kind, value").all() as BanRow[];
  }

  // ---- bot links ------------------------------------------------------------------------------

  addBotLink(kind: BotKind, channel: string, config: Record<string, unknown>): BotLinkRow {
    const info = this.q("INSERT INTO bot_links (kind, channel, config, created) VALUES (?, ?, ?, ?)").run(kind, channel, JSON.stringify(config), now());
    return this.q("SELECT * FROM bot_links WHERE id = ?").get(Number(info.lastInsertRowid)) as BotLinkRow;
  }

  listBotLinks(kind?: BotKind): BotLinkRow[] {
    return (kind ? this.q("SELECT * FROM bot_links WHERE kind = ? ORDER BY id").all(kind) : this.q("SELECT * FROM bot_links ORDER BY id").all()) as BotLinkRow[];
  }

  getBotLink(id: number): BotLinkRow | undefined {
    return this.q("SELECT * FROM bot_links WHERE id = ?").get(id) as BotLinkRow | undefined;
  }

  deleteBotLink(kind: BotKind, id: number): boolean {
    return this.q("DELETE FROM bot_links WHERE kind = ? AND id = ?").run(kind, id).changes > 0;
  }

  // ---- meta -----------------------------------------------------------------------------------

  getMeta(key: string): string | undefined {
    return (this.q("SELECT value FROM meta WHERE key = ?").get(key) as { value: string } | undefined)?.value;
  }

  setMeta(key: string, value: string): void {
    this.q("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value").run(key, value);
  }
}
