/**
 * Before login: the banner, `create`, `connect` (with or without the password on the line), the
 * echo-off password prompt (its waiting state lives in server_data, so a reload does not lose it),
 * failed-login delay, the per-address and per-account failed-login limits, the per-address account
 * creation limit, and name/address bans. Failed logins and lockouts are logged at info with the name
 * and address (never the password); refusals while locked are logged at debug, so they cannot fill the log.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { ErrorCodes, type GameSession } from "../game/index.js";
import type { GameContext } from "./context.js";
import type { AccountRow } from "./db.js";
import { checkName, checkNewName } from "./names.js";
import { aboutMinutes, addressKey } from "./attempt-limiter.js";
import { isBot, sessionsOfAccount, tellPlayers } from "./players.js";
import { firstAndRest, parseCommand } from "./commands/parse.js";
import { normalizeAddress } from "./text.js";

export const TOO_MANY_FAILURES = "Too many failed logins from your address; try again later.";
export const ADDRESS_BANNED = "Your address is banned from this server.";
export const ACCOUNT_BANNED = "This account is banned.";

/** The same for every name, existing or not, so it tells nothing about which names exist. */
export function accountLockedMessage(name: string, retryMs: number): string {
  return `Too many failed logins for the name ${name}; logins to it are paused. Try again in ${aboutMinutes(retryMs)}.`;
}

export function createLimitMessage(retryMs: number): string {
  return `Too many accounts have been created from your address recently. Try again in ${aboutMinutes(retryMs)}.`;
}
const PENDING = "pending_login";
const ECHO_ON = { echo: true };

/** True while the session's next line is a password (kept in server_data across reloads). */
export function awaitingPassword(s: GameSession): boolean {
  return typeof s.server_data[PENDING] === "string";
}

export function bannerText(serverName: string): string {
  return [
    `|wWelcome to ${serverName}!|n`,
    "",
    "  create <name> <password>    make a new account",
    "  connect <name> <password>   log in (or just: connect <name>, and type the password when asked)",
    "  help                        more about logging in",
    "  quit                        leave",
  ].join("\n");
}

const PRELOGIN_HELP = [
  "Before you log in you can use:",
  "  create <name> <password>   Names: 3-20 letters, digits, _ or -, starting with a letter. Passwords: 6-128 characters.",
  "  connect <name> <password>  Log in. 'connect <name>' alone asks for the password without showing it.",
  "  look                       Show the welcome screen again.",
  "  options                    Show or set your connection options.",
  "  quit                       Leave.",
].join("\n");

/** Shows the banner unless this session already had it (onSync and onConnect both call this). */
export function greet(ctx: GameContext, s: GameSession): void {
  if (isBot(s) || s.logged_in || s.server_data.greeted === true) return;
  if (refuseBannedAddress(ctx, s)) return;
  s.server_data.greeted = true;
  ctx.game.msg(s, bannerText(ctx.settings.serverName));
}

/** Disconnects the session when its address is banned; true if it did. */
export function refuseBannedAddress(ctx: GameContext, s: GameSession): boolean {
  if (!ctx.db.findBan("ip", normalizeAddress(s.address))) return false;
  ctx.game.disconnect(s, ADDRESS_BANNED);
  return true;
}

/**
 * Handles one line from a session that is not logged in. `other` runs commands that work before
 * login (help, options...) and returns false when it does not know the verb.
 */
export async function loginInput(ctx: GameContext, s: GameSession, line: string, other: (s: GameSession, line: string) => Promise<boolean>): Promise<void> {
  const pending = s.server_data[PENDING];
  if (typeof pending === "string") {
    delete s.server_data[PENDING];
    ctx.game.syncSession(s);
    // The first answer turns echo back on (an empty text would be dropped on the way to the client).
    if (line.trim() === "") ctx.game.msg(s, { text: "Login cancelled.", options: ECHO_ON });
    else await attemptLogin(ctx, s, pending, line.trim(), true);
    return;
  }
  const cmd = parseCommand(line);
  switch (cmd.verb) {
    case "":
      return;
    case "create":
      return create(ctx, s, cmd.args);
    case "connect":
    case "con":
      return connect(ctx, s, cmd.args);
    case "look":
    case "l":
      ctx.game.msg(s, bannerText(ctx.settings.serverName));
      return;
    case "help":
      ctx.game.msg(s, PRELOGIN_HELP);
      return;
    case "quit":
      ctx.game.disconnect(s, "Goodbye!");
      return;
  }
  if (await other(s, line)) return;
  ctx.game.msg(s, "You are not logged in. Type: connect <name> <password>, or create <name> <password> (help for more).");
}

async function create(ctx: GameContext, s: GameSession, args: string): Promise<void> {
  const [name, password] = firstAndRest(args);
  if (name === "" || password === "") {
    ctx.game.msg(s, "Usage: create <name> <password>");
    return;
  }
  const bad = checkNewName(name, ctx.settings.serverName);
  if (bad) {
    ctx.game.msg(s, bad);
    return;
  }
  if (ctx.db.findBan("name", name)) {
    ctx.game.msg(s, `The name ${name} is not available.`);
    return;
  }
  const key = addressKey(s.address);
  const address = normalizeAddress(s.address);
  if (!ctx.createLimiter.begin(key)) {
    ctx.log.debug({ name, address }, "account creation refused: the address's limit is reached");
    ctx.game.msg(s, createLimitMessage(ctx.createLimiter.retryAfterMs(key)));
    return;
  }
  const result = await ctx.accounts.create(name, password);
  if (!result.ok) {
    ctx.createLimiter.release(key); // only accounts really created count
    // The player is told in a sentence; the operator needs the reason (a full disk, a read-only file...).
    if (result.cause !== undefined) ctx.log.error({ code: ErrorCodes.GAME_DB, name, address, reason: result.cause }, `account not created: ${result.cause}`);
  } else {
    ctx.log.info({ name: result.account.name, address }, "account created");
    if (ctx.createLimiter.blocked(key)) ctx.log.info({ address }, "account creation limit reached for this address");
  }
  const live = current(ctx, s);
  if (!live) return;
  if (!result.ok) {
    ctx.game.msg(live, result.message);
    return;
  }
  ctx.game.msg(live, `Account ${result.account.name} created.`);
  finishLogin(ctx, live, result.account);
}

async function connect(ctx: GameContext, s: GameSession, args: string): Promise<void> {
  const [name, password] = firstAndRest(args);
  if (name === "") {
    ctx.game.msg(s, "Usage: connect <name> <password>   (or connect <name> to be asked for the password)");
    return;
  }
  const bad = checkName(name);
  if (bad) {
    ctx.game.msg(s, bad);
    return;
  }
  if (password !== "") return attemptLogin(ctx, s, name, password, false);
  if (ctx.limiter.blocked(addressKey(s.address))) {
    ctx.game.msg(s, TOO_MANY_FAILURES);
    return;
  }
  const retry = ctx.accountLimiter.retryAfterMs(name.toLowerCase());
  if (retry > 0) {
    ctx.game.msg(s, accountLockedMessage(name, retry));
    return;
  }
  s.server_data[PENDING] = name;
  ctx.game.syncSession(s);
  ctx.game.msg(s, { text: "Password:", options: { echo: false } });
}

async function attemptLogin(ctx: GameContext, s: GameSession, name: string, password: string, echoOn: boolean): Promise<void> {
  const reply = (to: GameSession, text: string) => ctx.game.msg(to, echoOn ? { text, options: ECHO_ON } : text);
  const ip = addressKey(s.address);
  const address = normalizeAddress(s.address);
  const nameKey = name.toLowerCase();
  if (!ctx.limiter.begin(ip)) {
    ctx.log.debug({ name, address }, "login refused: too many failed logins from this address");
    reply(s, TOO_MANY_FAILURES);
    return;
  }
  // Counted per name whether or not an account has it, so the lockout reveals nothing.
  if (!ctx.accountLimiter.begin(nameKey)) {
    ctx.limiter.release(ip); // no password was tried
    ctx.log.debug({ name, address }, "login refused: the account is locked after too many failed logins");
    reply(s, accountLockedMessage(name, ctx.accountLimiter.retryAfterMs(nameKey)));
    return;
  }
  const result = await ctx.accounts.verify(name, password);
  if (!result.ok) {
    if (result.reason === "wrong") {
      ctx.log.info({ name, address }, "failed login");
      if (ctx.limiter.failed(ip)) ctx.log.info({ address }, "too many failed logins from this address: its logins are refused for a while");
      if (ctx.accountLimiter.failed(nameKey)) {
        ctx.log.info({ name, address, retryAfterMs: ctx.accountLimiter.retryAfterMs(nameKey) }, "too many failed logins for this account: it is locked");
      }
      await sleep(ctx.settings.failDelayMs);
    } else {
      // Not the player's fault: the slots are given back.
      ctx.limiter.release(ip);
      ctx.accountLimiter.release(nameKey);
      if (result.cause !== undefined) ctx.log.error({ code: ErrorCodes.GAME_DB, name, address, reason: result.cause }, `login not checked: ${result.cause}`);
    }
    const live = current(ctx, s);
    if (live) reply(live, result.message);
    return;
  }
  ctx.limiter.release(ip);
  ctx.accountLimiter.release(nameKey);
  const live = current(ctx, s);
  if (!live) return;
  if (ctx.db.findBan("name", result.account.name)) {
    ctx.game.disconnect(live, ACCOUNT_BANNED);
    return;
  }
  finishLogin(ctx, live, result.account, reply);
}

/** The session as the SDK holds it now (a portal sync replaces the objects), if it still waits for a login. */
function current(ctx: GameContext, s: GameSession): GameSession | undefined {
  const live = ctx.game.get(s.sessid);
  return !ctx.stopping && live && !live.logged_in ? live : undefined;
}

function finishLogin(ctx: GameContext, s: GameSession, account: AccountRow, reply: (to: GameSession, text: string) => void = (to, text) => ctx.game.msg(to, text)): void {
  const alreadyOn = sessionsOfAccount(ctx, account.id).length > 0;
  ctx.game.login(s, account.id, account.name);
  delete s.server_data[PENDING];
  s.server_data.account = { id: account.id, name: account.name, since: Math.floor(Date.now() / 1000) };
  ctx.game.syncSession(s);
  reply(s, `Welcome, ${account.name}! Type |whelp|n for the list of commands.`);
  if (!alreadyOn) tellPlayers(ctx, `${account.name} has connected.`, { accountId: account.id });
}
