/**
 * Accounts: creation and password checks. scrypt runs through a bounded work queue, so thousands of
 * simultaneous creates wait their turn (or are told the server is busy) instead of exhausting memory
 * and the thread pool. The database's unique index decides duplicate names, inside a transaction.
 */
import type { AccountRow, GameDb } from "./db.js";
import { NameTakenError, describeDbError } from "./db.js";
import { checkName, checkPassword } from "./names.js";
import { DEFAULT_SCRYPT, decoyRecord, hashPassword, parseParams, verifyPassword, type PasswordRecord, type ScryptParams } from "./passwords.js";
import { QueueFullError, WorkQueue } from "./work-queue.js";

export interface AccountServiceOptions {
  scrypt?: ScryptParams;
  /** scrypt jobs at once (default 4). */
  concurrency?: number;
  /** scrypt jobs allowed to wait (default 1000); beyond that players are told to try again. */
  maxPending?: number;
}

/** `cause`: for reason "error", what went wrong with the database (`the disk is full`), for the operator's log; never shown to the player. */
export type CreateResult =
  | { ok: true; account: AccountRow }
  | { ok: false; reason: "invalid" | "taken" | "busy" | "error"; message: string; cause?: string };

export type VerifyResult =
  | { ok: true; account: AccountRow }
  | { ok: false; reason: "wrong" | "busy" | "error"; message: string; cause?: string };

export const BUSY_MESSAGE = "The server is busy right now; please try again in a moment.";
export const SAVE_FAILED_MESSAGE = "The server could not save your account right now; please try again later.";
export const RESTARTING_MESSAGE = "The game is restarting; please try again in a moment.";
export const CHECK_FAILED_MESSAGE = "The server cannot check logins right now; please try again later.";
export const WRONG_LOGIN_MESSAGE = "Wrong name or password.";

export class AccountService {
  readonly queue: WorkQueue;
  private readonly params: ScryptParams;
  /** Lower-cased names whose creation is in progress: a second try is answered at once. */
  private readonly creating = new Set<string>();
  private readonly decoy: PasswordRecord;
  private closed = false;

  constructor(
    private readonly db: GameDb,
    options: AccountServiceOptions = {},
  ) {
    this.params = options.scrypt ?? DEFAULT_SCRYPT;
    this.queue = new WorkQueue(options.concurrency ?? 4, options.maxPending ?? 1000);
    this.decoy = decoyRecord(this.params);
  }

  /** Creates an account (an admin only with `admin`, which players never get: see `portico admin create`). */
  async create(name: string, password: string, options: { admin?: boolean } = {}): Promise<CreateResult> {
    const bad = checkName(name) ?? checkPassword(password);
    if (bad) return { ok: false, reason: "invalid", message: bad };
    const key = name.toLowerCase();
    const taken: CreateResult = { ok: false, reason: "taken", message: `The name ${name} is already taken.` };
    if (this.creating.has(key)) return taken;
    try {
      if (this.db.findAccountByName(name)) return taken;
    } catch (err) {
      return { ok: false, reason: "error", message: SAVE_FAILED_MESSAGE, cause: describeDbError(err) };
    }
    this.creating.add(key);
    try {
      let record: PasswordRecord;
      try {
        record = await this.queue.run(() => hashPassword(password, this.params));
      } catch (err) {
        if (err instanceof QueueFullError) return { ok: false, reason: "busy", message: BUSY_MESSAGE };
        throw err;
      }
      if (this.closed) return { ok: false, reason: "error", message: RESTARTING_MESSAGE };
      try {
        const account = this.db.insertAccount({ name, hash: record.hash, salt: record.salt, params: JSON.stringify(record.params) }, options);
        return { ok: true, account };
      } catch (err) {
        if (err instanceof NameTakenError) return taken;
        throw err;
      }
    } catch (err) {
      if (this.closed) return { ok: false, reason: "error", message: RESTARTING_MESSAGE };
      return { ok: false, reason: "error", message: SAVE_FAILED_MESSAGE, cause: describeDbError(err) };
    } finally {
      this.creating.delete(key);
    }
  }

  /** Checks a name and password. An unknown name costs the same scrypt work as a wrong password. */
  async verify(name: string, password: string): Promise<VerifyResult> {
    let account: AccountRow | undefined;
    let record: PasswordRecord = this.decoy;
    try {
      account = checkName(name) === undefined ? this.db.findAccountByName(name) : undefined;
      if (account) record = { hash: account.hash, salt: account.salt, params: parseParams(account.params) };
    } catch (err) {
      return { ok: false, reason: "error", message: CHECK_FAILED_MESSAGE, cause: describeDbError(err) };
    }
    let matches: boolean;
    try {
      matches = await this.queue.run(() => verifyPassword(password, record));
    } catch (err) {
      if (err instanceof QueueFullError) return { ok: false, reason: "busy", message: BUSY_MESSAGE };
      return { ok: false, reason: "error", message: CHECK_FAILED_MESSAGE };
    }
    if (account && matches) return { ok: true, account };
    return { ok: false, reason: "wrong", message: WRONG_LOGIN_MESSAGE };
  }

  /** Stops taking new scrypt work (waiting jobs fail); used when the game stops. */
  close(): void {
    this.closed = true;
    this.queue.close();
  }
}
