/**
 * The game database schema as numbered migrations. `PRAGMA user_version` records how many have run;
 * each runs in its own transaction, so running them again (or after a crash half-way) is harmless.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: accounts, channels, members, bans, bot links, meta
  `
  CREATE TABLE IF NOT EXISTS accounts (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL COLLATE NOCASE UNIQUE,
    hash       TEXT    NOT NULL,
    salt       TEXT    NOT NULL,
    params     TEXT    NOT NULL,
    is_admin   INTEGER NOT NULL DEFAULT 0,
    created    INTEGER NOT NULL
  );
  CREATE TABLE IF NOT EXISTS channels (
    name       TEXT    NOT NULL COLLATE NOCASE PRIMARY KEY,
    created    INTEGER NOT NULL
  );
  CREATE TABLE IF NOT EXISTS channel_members (
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    channel    TEXT    NOT NULL COLLATE NOCASE REFERENCES channels(name) ON DELETE CASCADE,
    PRIMARY KEY (account_id, channel)
  );
  CREATE INDEX IF NOT EXISTS channel_members_by_channel ON channel_members(channel);
  CREATE TABLE IF NOT EXISTS bans (
    id         INTEGER PRIMARY KEY,
    kind       TEXT    NOT NULL CHECK (kind IN ('name', 'ip')),
    value      TEXT    NOT NULL COLLATE NOCASE,
    reason     TEXT,
    created    INTEGER NOT NULL,
    UNIQUE (kind, value)
  );
  CREATE TABLE IF NOT EXISTS bot_links (
    id         INTEGER PRIMARY KEY,
    kind       TEXT    NOT NULL CHECK (kind IN ('irc', 'rss')),
    channel    TEXT    NOT NULL COLLATE NOCASE,
    config     TEXT    NOT NULL,
    created    INTEGER NOT NULL
  );
  CREATE TABLE IF NOT EXISTS meta (
    key        TEXT    NOT NULL PRIMARY KEY,
    value      TEXT    NOT NULL
  );
  INSERT OR IGNORE INTO channels (name, created) VALUES ('public', CAST(strftime('%s', 'now') AS INTEGER));
  `,
];

/** The channel every new account joins. */
export const PUBLIC_CHANNEL = "public";
