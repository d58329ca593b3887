/** Who is who: accounts behind sessions, admins, bot sessions, and sending to groups of sessions. */
import type { GameSession } from "../game/index.js";
import type { GameContext } from "./context.js";
import type { AccountRow } from "./db.js";
import { systemLine } from "./text.js";

/** Bot sessions (started with connectBot) carry uid `irc:<link id>` or `rss:<link id>`. */
export function botLinkOf(s: GameSession): { kind: "irc" | "rss"; id: number } | undefined {
  if (typeof s.uid !== "string") return undefined;
  const m = /^(irc|rss):(\d+)$/.exec(s.uid);
  return m ? { kind: m[1] as "irc" | "rss", id: Number(m[2]) } : undefined;
}

export function isBot(s: GameSession): boolean {
  return botLinkOf(s) !== undefined;
}

/** The account id of a logged-in player session. */
export function accountIdOf(s: GameSession): number | undefined {
  return s.logged_in && typeof s.uid === "number" ? s.uid : undefined;
}

export function accountOf(ctx: GameContext, s: GameSession): AccountRow | undefined {
  const id = accountIdOf(s);
  return id === undefined ? undefined : ctx.db.getAccount(id);
}

export function isAdmin(ctx: GameContext, s: GameSession): boolean {
  return accountOf(ctx, s)?.is_admin === 1;
}

/** Logged-in player sessions (no bots). */
export function players(ctx: GameContext): GameSession[] {
  return ctx.game.loggedIn().filter((s) => accountIdOf(s) !== undefined);
}

export function sessionsOfAccount(ctx: GameContext, accountId: number): GameSession[] {
  return players(ctx).filter((s) => s.uid === accountId);
}

/** Distinct online player names, sorted. */
export function onlineNames(ctx: GameContext): string[] {
  return [...new Set(players(ctx).map((s) => s.uname ?? "?"))].sort((a, b) => a.localeCompare(b));
}

/**
 * A system notice to every logged-in player ("Bob has connected.", "Bob has left."), optionally
 * skipping one session or account: sent as a system line (`*** Bob has left.`), which no player can
 * produce. What players say or do goes out with `relayToPlayers` instead.
 */
export function tellPlayers(ctx: GameContext, text: string, except?: { sessid?: string; accountId?: number }): void {
  relayToPlayers(ctx, systemLine(text), except);
}

/** Sends a line as it is to every logged-in player, optionally skipping one session or account (say, pose). */
export function relayToPlayers(ctx: GameContext, text: string, except?: { sessid?: string; accountId?: number }): void {
  for (const s of players(ctx)) {
    if (except?.sessid === s.sessid || (except?.accountId !== undefined && s.uid === except.accountId)) continue;
    ctx.game.msg(s, text);
  }
}
