/** Opens the SQLite file (WAL mode) and runs the migrations; any failure becomes one clear sentence. */
import Database from "better-sqlite3";
import { existsSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { MIGRATIONS } from "./schema.js";

/** The database could not be opened or prepared; `message` is a single line for an operator. */
export class GameDbError extends Error {
  constructor(message: string, readonly sqliteCode?: string) {
    super(message);
    this.name = "GameDbError";
  }
}

/** Turns a SQLite/Node error into a short reason. */
export function describeDbError(err: unknown): string {
  const code = (err as { code?: unknown })?.code;
  switch (code) {
    case "SQLITE_FULL": return "the disk is full";
    case "SQLITE_READONLY":
    case "SQLITE_READONLY_DIRECTORY":
    case "SQLITE_READONLY_DBMOVED": return "the database or its directory is read-only";
    case "SQLITE_CANTOPEN": return "the file cannot be created or opened (is the directory read-only?)";
    case "SQLITE_PERM":
    case "SQLITE_AUTH":
    case "EACCES": return "permission denied";
    case "SQLITE_NOTADB": return "the file is not a SQLite database";
    case "SQLITE_CORRUPT": return "the database file is corrupt";
    case "SQLITE_BUSY":
    case "SQLITE_LOCKED": return "the database is locked by another process";
    case "SQLITE_IOERR":
    case "SQLITE_IOERR_WRITE":
    case "SQLITE_IOERR_FSYNC": return "an I/O error occurred (disk full or failing?)";
  }
  const msg = err instanceof Error ? err.message : String(err);
  return (msg.split("\n")[0] ?? msg).trim() || "unknown error";
}

/** True for an error of the database itself (a SQLite error such as SQLITE_FULL, or the store being closed), not of the code around it. */
export function isDbError(err: unknown): boolean {
  if (err instanceof GameDbError) return true;
  const code = (err as { code?: unknown })?.code;
  return typeof code === "string" && code.startsWith("SQLITE_");
}

export function openDatabase(path: string): Database.Database {
  const file = resolve(path);
  const dir = dirname(file);
  if (!existsSync(dir)) throw new GameDbError(`cannot open the game database ${file}: directory ${dir} does not exist`);
  if (!statSync(dir).isDirectory()) throw new GameDbError(`cannot open the game database ${file}: ${dir} is not a directory`);
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { timeout: 5000 });
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    db.pragma("foreign_keys = ON");
    migrate(db);
    // A write now, so a read-only directory (no -wal/-shm possible) or a full disk shows at start.
    db.prepare("INSERT INTO meta (key, value) VALUES ('opened', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value").run(String(Date.now()));
    return db;
  } catch (err) {
    try {
      db?.close();
    } catch {
      /* already broken */
    }
    const code = (err as { code?: unknown })?.code;
    throw new GameDbError(`cannot open the game database ${file}: ${describeDbError(err)}`, typeof code === "string" ? code : undefined);
  }
}

function migrate(db: Database.Database): void {
  const current = Number(db.pragma("user_version", { simple: true }));
  for (let i = current; i < MIGRATIONS.length; i++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[i]!);
      db.pragma(`user_version = ${i + 1}`);
    })();
  }
}
