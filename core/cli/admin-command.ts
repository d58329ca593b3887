/**
 * `portico admin create|demote|list`: the operator's hand on the default game's admin accounts.
 * Players who create accounts over the network are never admins; the first admin is made here.
 * It opens the game's SQLite database directly (WAL with a busy timeout, the same as the game), so it
 * works whether or not the game is running; admin rights are read from the database on every
 * command, so a change takes effect at once, also for a player who is logged in.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { loadAppConfig } from "../config/load-config.js";
import { AccountService } from "../default-game/accounts.js";
import { GameDb, GameDbError } from "../default-game/db.js";
import { checkName, checkPassword } from "../default-game/names.js";
import { ErrorCodes } from "../errors/error-codes.js";
import { PortalError, errorMessage } from "../errors/portal-error.js";
import { DataDir } from "../state/data-dir.js";

/** The variable naming a file that holds the password (the `*_FILE` convention). */
export const PASSWORD_FILE_VAR = "PORTICO_ADMIN_PASSWORD_FILE";

export const ADMIN_USAGE = `usage: portico admin <create|demote|list> [<name>] [--promote] [--config <file>]

  admin create <name>            create <name> as an admin account of the default game; the password is
                                 asked twice without echo on a terminal, else read from the file named by
                                 ${PASSWORD_FILE_VAR}, else one line from standard input. Never from the
                                 command line.
  admin create <name> --promote  make the existing account <name> an admin (its password is unchanged)
  admin demote <name>            take admin rights away from <name>
  admin list                     the names of the admin accounts, one a line
`;

/** A usage mistake: printed with the usage, exit code 2. */
class UsageError extends Error {}

/** The player pressed Ctrl-C or Ctrl-D at the password prompt. */
class Cancelled extends Error {}

function refuse(message: string): never {
  throw new PortalError(ErrorCodes.ADMIN_ACCOUNT, message);
}

interface Parsed {
  sub: string;
  name: string | undefined;
  promote: boolean;
  configPath: string | undefined;
}

function parse(args: string[]): Parsed {
  const positional: string[] = [];
  let promote = false;
  let configPath: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--promote") promote = true;
    else if (a === "--config") {
      configPath = args[++i];
      if (configPath === undefined) throw new UsageError("--config needs a file name");
    } else if (a.startsWith("--")) throw new UsageError(`unknown option ${a}`);
    else positional.push(a);
  }
  const [sub = "", name, ...extra] = positional;
  if (sub === "create" && extra.length > 0) {
    throw new UsageError("portico admin create takes no password on the command line (it would show in the process list and the shell history); it asks for it, or reads it from " + `${PASSWORD_FILE_VAR} or standard input`);
  }
  if (extra.length > 0) throw new UsageError(`unexpected ${extra.join(" ")}`);
  if (promote && sub !== "create") throw new UsageError("--promote goes with admin create");
  return { sub, name, promote, configPath };
}

/** The default game's database file as `portico start` would give it to the game. */
function gameDbPath(configPath: string | undefined): { path: string; dataDir: string; inDataDir: boolean } {
  const { config } = loadAppConfig(configPath === undefined ? {} : { configPath });
  if (config.game.entry !== "") {
    refuse(`game.entry is set (${config.game.entry}): portico admin manages the accounts of the bundled default game only`);
  }
  return config.game.db !== ""
    ? { path: config.game.db, dataDir: config.dataDir, inDataDir: false }
    : { path: join(config.dataDir, "game.sqlite"), dataDir: config.dataDir, inDataDir: true };
}

function openDb(where: { path: string; dataDir: string; inDataDir: boolean }): GameDb {
  // Before the first `portico start` the data directory may not exist yet: make it as start would.
  if (where.inDataDir) new DataDir(where.dataDir).ensure();
  try {
    return GameDb.open(where.path);
  } catch (err) {
    if (err instanceof GameDbError) refuse(err.message);
    throw err;
  }
}

function validName(name: string | undefined): string {
  if (name === undefined || name === "") throw new UsageError("give the account name, e.g. portico admin create alice");
  const bad = checkName(name);
  if (bad) refuse(`"${name}" cannot be an account name: ${bad}`);
  return name;
}

export interface AdminIo {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
}

const processIo = (): AdminIo => ({ stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env });

/** Runs `portico admin <args>`; resolves with the exit code. Refusals throw PortalError(PORTAL_ERR_ADMIN_ACCOUNT) (exit 1). */
export async function adminCommand(args: string[], io: AdminIo = processIo()): Promise<number> {
  let parsed: Parsed;
  try {
    parsed = parse(args);
    if (!["create", "demote", "list"].includes(parsed.sub)) {
      throw new UsageError(parsed.sub === "" ? "say what to do: create, demote or list" : `unknown admin command "${parsed.sub}"`);
    }
    if (parsed.sub === "list" && parsed.name !== undefined) throw new UsageError("admin list takes no name");
    if (parsed.sub !== "list") validName(parsed.name);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr.write(`portico: ${err.message}\n${ADMIN_USAGE}`);
    return 2;
  }
  const where = gameDbPath(parsed.configPath);
  if (parsed.sub === "list") return list(where, io);
  const name = parsed.name!;
  if (parsed.sub === "demote") return setAdmin(where, name, false, io);
  if (parsed.promote) return setAdmin(where, name, true, io);
  return create(where, name, io);
}

function list(where: { path: string; dataDir: string; inDataDir: boolean }, io: AdminIo): number {
  if (!existsSync(where.path)) {
    io.stderr.write(`portico: there is no game database at ${where.path} yet, so no admins; make one with: portico admin create <name>\n`);
    return 0;
  }
  const db = openDb(where);
  try {
    const names = db.listAdmins();
    if (names.length === 0) io.stderr.write("portico: there are no admin accounts; make one with: portico admin create <name>\n");
    for (const n of names) io.stdout.write(`${n}\n`);
    return 0;
  } finally {
    db.close();
  }
}

function setAdmin(where: { path: string; dataDir: string; inDataDir: boolean }, name: string, admin: boolean, io: AdminIo): number {
  const db = openDb(where);
  try {
    const before = db.findAccountByName(name);
    if (!before) {
      refuse(admin
        ? `there is no account called ${name} to promote; to create it as an admin leave out --promote: portico admin create ${name}`
        : `there is no account called ${name}`);
    }
    if ((before.is_admin === 1) === admin) {
      io.stdout.write(`${before.name} ${admin ? "is already an admin" : "is not an admin"}; nothing changed\n`);
      return 0;
    }
    const after = db.setAdmin(name, admin)!;
    io.stdout.write(admin
      ? `${after.name} is now an admin (at once, also if logged in); its password is unchanged\n`
      : `${after.name} is no longer an admin\n`);
    return 0;
  } finally {
    db.close();
  }
}

async function create(where: { path: string; dataDir: string; inDataDir: boolean }, name: string, io: AdminIo): Promise<number> {
  const db = openDb(where);
  const accounts = new AccountService(db, { concurrency: 1, maxPending: 1 });
  try {
    const existing = db.findAccountByName(name);
    if (existing) {
      refuse(`the name ${existing.name} is taken; to make that account an admin: portico admin create ${existing.name} --promote`);
    }
    let password: string;
    try {
      password = await readPassword(name, io);
    } catch (err) {
      if (err instanceof Cancelled) {
        io.stderr.write("portico: cancelled; no account was created\n");
        return 130;
      }
      throw err;
    }
    const weak = checkPassword(password);
    if (weak) refuse(`password refused: ${weak}`);
    const result = await accounts.create(name, password, { admin: true });
    if (!result.ok) {
      if (result.reason === "taken") refuse(`the name ${name} was taken meanwhile; to make that account an admin: portico admin create ${name} --promote`);
      refuse(`the account was not created: ${result.message}`);
    }
    if (db.findBan("name", result.account.name)) {
      io.stderr.write(`portico: note: the name ${result.account.name} is banned in the game; it cannot log in until an admin lifts the ban (@unban ${result.account.name})\n`);
    }
    io.stdout.write(`created the admin account ${result.account.name} in ${where.path}; it can log in now\n`);
    return 0;
  } finally {
    accounts.close();
    db.close();
  }
}

/**
 * The password: from the file named by PORTICO_ADMIN_PASSWORD_FILE; else, on a terminal, asked twice
 * without echo; else the first line of standard input. PORTICO_ADMIN_PASSWORD itself is refused.
 */
async function readPassword(name: string, io: AdminIo): Promise<string> {
  if (io.env.PORTICO_ADMIN_PASSWORD !== undefined) {
    refuse(`PORTICO_ADMIN_PASSWORD is not read (the environment of a process is easy to see); write the password to a file readable only by you and set ${PASSWORD_FILE_VAR} to its path`);
  }
  const file = io.env[PASSWORD_FILE_VAR];
  if (file !== undefined && file !== "") {
    try {
      return readFileSync(file, "utf8").replace(/\r?\n$/, "");
    } catch (err) {
      refuse(`cannot read the password file ${file} (${PASSWORD_FILE_VAR}): ${errorMessage(err)}`);
    }
  }
  if (io.stdin.isTTY && typeof io.stdin.setRawMode === "function") {
    const first = await promptHidden(`Password for ${name}: `, io);
    const weak = checkPassword(first);
    if (weak) refuse(`password refused: ${weak}`);
    const again = await promptHidden("Type it again: ", io);
    if (again !== first) refuse("the two passwords differ; nothing was created");
    return first;
  }
  const line = await readLine(io.stdin);
  if (line === undefined) {
    refuse(`no password: standard input is not a terminal and gave no line; set ${PASSWORD_FILE_VAR} to a file holding the password, or pipe it on standard input`);
  }
  return line;
}

/** The first line of a non-terminal stream (without its line end); undefined when it ends without any data. */
function readLine(stream: NodeJS.ReadableStream): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (value: string | undefined) => {
      stream.off("data", onData);
      stream.off("end", onEnd);
      stream.off("error", onError);
      stream.pause();
      resolve(value);
    };
    const onData = (chunk: Buffer | string) => {
      const buf = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
      const nl = buf.indexOf(10);
      if (nl >= 0) {
        chunks.push(buf.subarray(0, nl));
        return done(Buffer.concat(chunks).toString("utf8").replace(/\r$/, ""));
      }
      chunks.push(buf);
      size += buf.length;
      // No line end within any sane password length: stop reading rather than buffer without end.
      if (size > 64 * 1024) done(Buffer.concat(chunks).toString("utf8"));
    };
    const onEnd = () => done(size === 0 ? undefined : Buffer.concat(chunks).toString("utf8").replace(/\r$/, ""));
    const onError = (err: Error) => reject(err);
    stream.on("data", onData);
    stream.once("end", onEnd);
    stream.once("error", onError);
    stream.resume();
  });
}

/** Asks on the terminal with echo off (raw mode): Enter ends, Backspace erases, Ctrl-U clears, Ctrl-C/Ctrl-D cancel. */
function promptHidden(prompt: string, io: AdminIo): Promise<string> {
  const stdin = io.stdin;
  io.stderr.write(prompt);
  stdin.setRawMode!(true);
  stdin.setEncoding("utf8");
  return new Promise((resolve, reject) => {
    let value = "";
    let escape = false;
    const finish = (err?: Error) => {
      stdin.off("data", onData);
      stdin.setRawMode!(false);
      stdin.pause();
      io.stderr.write("\n");
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (escape) {
          // Skip a terminal key sequence (arrows and the like): ESC [ ... final byte.
          if (/[A-Za-z~]/.test(ch)) escape = false;
          continue;
        }
        if (ch === "\r" || ch === "\n") return finish();
        if (ch === "\x03") return finish(new Cancelled());
        if (ch === "\x04") {
          if (value === "") return finish(new Cancelled());
          return finish();
        }
        if (ch === "\x7f" || ch === "\b") value = [...value].slice(0, -1).join("");
        else if (ch === "\x15") value = "";
        else if (ch === "\x1b") escape = true;
        else if (ch >= " ") value += ch;
      }
    };
    stdin.on("data", onData);
    stdin.resume();
  });
}
