/**
 * Before login: the banner, `create`, `connect` (with or without the password on the line), the
 * echo-off password prompt (its waiting state lives in server_data, so a reload does not lose it),
 * failed-login delay and per-address limit, and name/address bans.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { GameSession } from "../game/index.js";
import type { GameContext } from "./context.js";
import type { AccountRow } from "./db.js";
import { checkName } from "./names.js";
import { isBot, sessionsOfAccount, tellPlayers } from "./players.js";
import { firstAndRest, parseCommand } from "./commands/parse.js";
import { normalizeAddress } from "./text.js";

export const TOO_MANY_FAILURES = "Too many failed logins from your address; try again later.";
export const ADDRESS_BANNED = "Your address is banned from this server.";
export const ACCOUNT_BANNED = "This account is banned.";
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
  const bad = checkName(name);
  if (bad) {
    ctx.game.msg(s, bad);
    return;
  }
  if (ctx.db.findBan("name", name)) {
    ctx.game.msg(s, `The name ${name} is not available.`);
    return;
  }
  const result = await ctx.accounts.create(name, password);
  const live = current(ctx, s);
  if (!live) return;
  if (!result.ok) {
    ctx.game.msg(live, result.message);
    return;
  }
  const admin = result.account.is_admin === 1 ? " As the first account, you are an admin (see help)." : "";
  ctx.game.msg(live, `Account ${result.account.name} created.${admin}`);
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
  if (ctx.limiter.blocked(normalizeAddress(s.address))) {
    ctx.game.msg(s, TOO_MANY_FAILURES);
    return;
  }
  s.server_data[PENDING] = name;
  ctx.game.syncSession(s);
  ctx.game.msg(s, { text: "Password:", options: { echo: false } });
}

async function attemptLogin(ctx: GameContext, s: GameSession, name: string, password: string, echoOn: boolean): Promise<void> {
  const reply = (to: GameSession, text: string) => ctx.game.msg(to, echoOn ? { text, options: ECHO_ON } : text);
  const ip = normalizeAddress(s.address);
  if (!ctx.limiter.begin(ip)) {
    reply(s, TOO_MANY_FAILURES);
    return;
  }
  const result = await ctx.accounts.verify(name, password);
  if (!result.ok) {
    if (result.reason === "wrong") await sleep(ctx.settings.failDelayMs);
    else ctx.limiter.succeed(ip); // not the player's fault: the slot is given back
    const live = current(ctx, s);
    if (live) reply(live, result.message);
    return;
  }
  ctx.limiter.succeed(ip);
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
