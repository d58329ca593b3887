/**
 * The default game, assembled: opens the store, connects to the portal through the SDK and wires
 * the callbacks. `main.ts` runs it as a process; tests call startDefaultGame() in-process.
 */
import { ErrorCodes, GameSessionHandler, type GameSession, type GameSessionHandlerOptions, type GameTransport, type Kwargs, type StopMode } from "../game/index.js";
import { AccountService } from "./accounts.js";
import { AttemptLimiter } from "./attempt-limiter.js";
import { handleBotInput, restartSavedLinks } from "./bot-links.js";
import { CommandTable } from "./commands/index.js";
import type { GameContext } from "./context.js";
import { GameDb, describeDbError, isDbError } from "./db.js";
import { SessionQueues } from "./input-queue.js";
import { silentLogger, type GameLogger } from "./log.js";
import { awaitingPassword, greet, loginInput } from "./login-flow.js";
import type { ScryptParams } from "./passwords.js";
import { accountOf, isBot, sessionsOfAccount, tellPlayers } from "./players.js";
import { systemLine } from "./text.js";

export interface DefaultGameOptions {
  /** The portal's link address and secret (data/link.secret); unused when `transport` is given. */
  link: { host?: string; port: number; secret: string; backoff?: GameSessionHandlerOptions["backoff"] };
  /** How to reach the portals instead of the TCP link (NatsGameTransport for several portals). */
  transport?: GameTransport;
  /** The SQLite file (its directory must exist). */
  dbPath: string;
  serverName?: string;
  logger?: GameLogger;
  /** Called once the game has stopped itself (@reload, @shutdown, a stop request); main.ts exits with the code. */
  onExit?: (code: number) => void;
  /** Called when the game starts stopping for a reload, reset or shutdown (main.ts tells its supervisor, so the exit is not taken for a crash). */
  onStopping?: (mode: StopMode) => void;
  /** Wait before answering a wrong password (default 1000 ms). */
  failDelayMs?: number;
  /** Failed logins per address within `failWindowMs` (default 5 per 5 minutes); 0 disables the limit. */
  maxFailures?: number;
  failWindowMs?: number;
  /**
   * Failed logins per account name, from any addresses, within `accountFailWindowMs` (default 10
   * per 15 minutes); the failure that reaches it locks the name for `accountLockoutMs` (default
   * 15 minutes). 0 disables the limit.
   */
  accountMaxFailures?: number;
  accountFailWindowMs?: number;
  accountLockoutMs?: number;
  /** Accounts created per address within `accountCreateWindowMs` (default 8 per hour); 0 disables the limit. */
  accountCreateLimit?: number;
  accountCreateWindowMs?: number;
  /** Channels created per address within `channelCreateWindowMs` (default 10 per hour); 0 disables the limit. Admins are not limited. */
  channelCreateLimit?: number;
  channelCreateWindowMs?: number;
  /** Addresses or names each of these limiters remembers at most (default 10 000; the least recently used is forgotten). */
  limiterMaxKeys?: number;
  /** The clock of the limits' time windows (default Date.now); tests pass a fake one. */
  now?: () => number;
  scrypt?: ScryptParams;
  /** scrypt jobs at once (default 4) and allowed to wait (default 1000). */
  hashConcurrency?: number;
  maxPendingHashes?: number;
}

/** The defaults of the limits above, in one place (docs and tests refer to them). */
export const DEFAULT_LIMITS = {
  failDelayMs: 1000,
  maxFailures: 5,
  failWindowMs: 5 * 60_000,
  accountMaxFailures: 10,
  accountFailWindowMs: 15 * 60_000,
  accountLockoutMs: 15 * 60_000,
  accountCreateLimit: 8,
  accountCreateWindowMs: 60 * 60_000,
  channelCreateLimit: 10,
  channelCreateWindowMs: 60 * 60_000,
  limiterMaxKeys: 10_000,
} as const;

export interface DefaultGame {
  readonly handler: GameSessionHandler;
  readonly db: GameDb;
  readonly accounts: AccountService;
  /** Stops the game for a reload/reset/shutdown: announce, hand sessions back, close the store, onExit(0). */
  stopFor(mode: StopMode): Promise<void>;
  /** Stops without handing anything back (for embedders and tests). Idempotent. */
  stop(): Promise<void>;
}

const MAX_QUEUED_LINES = 20;

/** What a player is told when a command of theirs failed on the database (a full disk, a read-only file...). */
export const COMMAND_SAVE_FAILED_MESSAGE = "The server could not save that right now; please try again later.";
/** ... and when it failed for another reason (a bug: the log has the stack). */
export const COMMAND_FAILED_MESSAGE = "Something went wrong with that command; it has been logged.";

/** How long a stopping game waits for the input it already took in to finish running. */
const DRAIN_TIMEOUT_MS = 2000;

/** Opens the database (throws GameDbError with a one-line message) and connects to the portal. */
export function startDefaultGame(options: DefaultGameOptions): DefaultGame {
  const db = GameDb.open(options.dbPath);
  const log = options.logger ?? silentLogger;
  const accounts = new AccountService(db, { scrypt: options.scrypt, concurrency: options.hashConcurrency, maxPending: options.maxPendingHashes });
  const maxKeys = options.limiterMaxKeys ?? DEFAULT_LIMITS.limiterMaxKeys;
  const now = options.now ?? Date.now;
  const limiter = new AttemptLimiter({ maxFailures: options.maxFailures ?? DEFAULT_LIMITS.maxFailures, windowMs: options.failWindowMs ?? DEFAULT_LIMITS.failWindowMs, maxKeys, now });
  const accountLimiter = new AttemptLimiter({
    maxFailures: options.accountMaxFailures ?? DEFAULT_LIMITS.accountMaxFailures,
    windowMs: options.accountFailWindowMs ?? DEFAULT_LIMITS.accountFailWindowMs,
    lockoutMs: options.accountLockoutMs ?? DEFAULT_LIMITS.accountLockoutMs,
    maxKeys,
    now,
  });
  const createLimiter = new AttemptLimiter({ maxFailures: options.accountCreateLimit ?? DEFAULT_LIMITS.accountCreateLimit, windowMs: options.accountCreateWindowMs ?? DEFAULT_LIMITS.accountCreateWindowMs, maxKeys, now });
  const channelLimiter = new AttemptLimiter({ maxFailures: options.channelCreateLimit ?? DEFAULT_LIMITS.channelCreateLimit, windowMs: options.channelCreateWindowMs ?? DEFAULT_LIMITS.channelCreateWindowMs, maxKeys, now });
  // A command that throws is logged (a database failure with its reason and PORTAL_ERR_GAME_DB) and the player is told; never silence.
  const queues = new SessionQueues(MAX_QUEUED_LINES, (sessid, err) => {
    if (isDbError(err)) {
      const reason = describeDbError(err);
      log.error({ code: ErrorCodes.GAME_DB, sessid, reason, err }, `command failed: ${reason}`);
    } else log.error({ sessid, err }, "command failed");
    const s = game.get(sessid);
    if (s && !stopping) game.msg(s, isDbError(err) ? COMMAND_SAVE_FAILED_MESSAGE : COMMAND_FAILED_MESSAGE);
  });
  let stopping = false;
  let portalShutdown = false;
  let stopped: Promise<void> | undefined;

  const finish = async (handBack: StopMode | undefined, exitCode: number | undefined): Promise<void> => {
    stopping = true;
    if (handBack) options.onStopping?.(handBack);
    // Input taken in before this point still runs (a reload loses nothing); what players type from
    // now on stays with the portal, unacknowledged, for the next game process.
    game.pauseInput();
    await Promise.race([queues.drain(), new Promise((r) => setTimeout(r, DRAIN_TIMEOUT_MS).unref())]);
    accounts.close();
    if (handBack && !game.ready) log.info({ mode: handBack }, "portal link is down; nothing to hand back");
    else if (handBack) {
      try {
        game.announceStop(handBack);
        await game.handBack();
      } catch (err) {
        log.warn({ err }, "could not hand sessions back to the portal");
      }
    }
    await game.stop();
    db.close();
    log.info({ mode: handBack ?? "stop" }, "game stopped");
    if (exitCode !== undefined) options.onExit?.(exitCode);
  };
  const stopOnce = (handBack: StopMode | undefined, exitCode: number | undefined) => (stopped ??= finish(handBack, exitCode));

  const ctx: GameContext = {
    get game() { return game; },
    db,
    accounts,
    limiter,
    accountLimiter,
    createLimiter,
    channelLimiter,
    settings: { serverName: options.serverName ?? "Portico", failDelayMs: options.failDelayMs ?? DEFAULT_LIMITS.failDelayMs },
    log,
    startedAt: Date.now(),
    get stopping() { return stopping; },
    requestStop: (mode) => stopOnce(mode, 0),
    requestPortalShutdown: () => {
      portalShutdown = true;
      game.shutdownPortal();
    },
  };
  const commands = new CommandTable(ctx);

  const onLine = async (sessid: string, line: string): Promise<void> => {
    const s = game.get(sessid);
    if (!s) return;
    if (!s.logged_in) return loginInput(ctx, s, line, (ss, l) => commands.runPreLogin(ss, l));
    if (!accountOf(ctx, s)) {
      game.disconnect(s, "Your account no longer exists.");
      return;
    }
    await commands.run(s, line);
  };

  // Input the SDK delivers was taken in (acknowledged), even while stopping: it is queued and run before the hand-back.
  const onInput = (s: GameSession, name: string, args: unknown[], kwargs: Kwargs): void => {
    if (isBot(s)) return handleBotInput(ctx, s, name, args, kwargs);
    if (name !== "text") return;
    const line = String(args[0] ?? "");
    if (!queues.push(s.sessid, () => onLine(s.sessid, line))) game.msg(s, "You are typing faster than the game can keep up; that line was ignored.");
  };

  const onDisconnect = (s: GameSession): void => {
    queues.drop(s.sessid);
    if (stopping || isBot(s) || !s.logged_in || typeof s.uid !== "number") return;
    if (sessionsOfAccount(ctx, s.uid).length === 0) tellPlayers(ctx, `${s.uname} has left.`);
  };

  const game: GameSessionHandler = new GameSessionHandler({
    host: options.link.host,
    port: options.link.port,
    secret: options.link.secret,
    backoff: options.link.backoff,
    ...(options.transport ? { transport: options.transport } : {}),
    info: { name: "portico-default-game", server: ctx.settings.serverName },
    logger: log,
    callbacks: {
      onConnect: (s) => greet(ctx, s),
      onDisconnect,
      onInput,
      onSync: ({ mode, restored, fresh, portalId, portalRun }) => {
        log.info({ mode, restored: restored.length, fresh: fresh.length, portalId, portalRun }, "portal sync");
        // Echo back on unless a password is awaited: a stop may have cut a password prompt short.
        const restarted = systemLine("Server restarted.");
        const notice = (s: GameSession) => (awaitingPassword(s) ? restarted : { text: restarted, options: { echo: true } });
        if (mode !== "cold") for (const s of restored) if (!isBot(s)) game.msg(s, notice(s));
        for (const s of fresh) greet(ctx, s);
        restartSavedLinks(ctx, portalId, portalRun).catch((err: unknown) => log.error({ err }, "restarting saved bot links failed"));
      },
      onStopRequested: (mode) => void stopOnce(mode, 0),
      onLinkDown: () => {
        if (portalShutdown) void stopOnce(undefined, 0);
        else if (!stopping) log.info({}, "portal link down; reconnecting");
      },
    },
  });
  game.start();
  if (db.listAdmins().length === 0) log.info({}, "no admin account yet: the operator makes one with `portico admin create <name>` (players who create accounts are never admins)");

  return {
    handler: game,
    db,
    accounts,
    stopFor: (mode) => stopOnce(mode, 0),
    stop: () => stopOnce(undefined, undefined),
  };
}
