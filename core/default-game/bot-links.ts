/**
 * IRC and RSS links: starting saved links through the portal (`connectBot`), restarting them when a
 * new portal run is seen, and posting what bots receive into the linked channel.
 */
import type { GameSession, Kwargs } from "../game/index.js";
import { postToChannel } from "./channel-post.js";
import type { GameContext } from "./context.js";
import type { BotKind, BotLinkRow } from "./db.js";
import { botLinkOf, onlineNames } from "./players.js";
import { safeText, cleanText } from "./text.js";

export const BOT_FACTORIES: Readonly<Record<BotKind, string>> = {
  irc: "plugins.irc.IrcBotFactory",
  rss: "plugins.rss.RssBotFactory",
};

export const BOT_LABEL: Readonly<Record<BotKind, string>> = { irc: "IRC", rss: "RSS" };

export function notInstalledMessage(kind: BotKind): string {
  return `The ${BOT_LABEL[kind]} plugin is not installed in this portal yet; the link is saved and will start when it is.`;
}

/** The config sent with connectBot: the stored settings plus `uid` (`irc:<id>`), which the bot session logs in with. */
export function botConfig(row: BotLinkRow): Record<string, unknown> {
  return { ...(JSON.parse(row.config) as Record<string, unknown>), uid: `${row.kind}:${row.id}` };
}

/** Feed errors from a validating start: the URL is not a usable feed, so the link is not kept. */
const FEED_REFUSALS = new Set(["PORTAL_ERR_FEED_FETCH", "PORTAL_ERR_FEED_PARSE", "PORTAL_ERR_PLUGIN_CONFIG"]);

/**
 * Asks the portal to start one link; returns what to tell the admin. With `validate` (a new feed link)
 * the bot fetches the feed once while starting, and `refused` says the URL is not a usable feed.
 */
export async function startLink(ctx: GameContext, row: BotLinkRow, validate = false, portalId?: string): Promise<{ ok: boolean; refused?: boolean; message: string }> {
  const label = BOT_LABEL[row.kind];
  try {
    await ctx.game.connectBot(BOT_FACTORIES[row.kind], validate ? { ...botConfig(row), validate: true } : botConfig(row), portalId);
    return { ok: true, message: `The ${label} link #${row.id} is starting.` };
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === "PORTAL_ERR_UNKNOWN_PROTOCOL") return { ok: false, message: notInstalledMessage(row.kind) };
    if (validate && typeof code === "string" && FEED_REFUSALS.has(code)) {
      const why = err instanceof Error ? err.message : String(err);
      return { ok: false, refused: true, message: `That is not a feed Portico can read (${safeText(why)}); the link was not saved.` };
    }
    ctx.log.warn({ link: row.id, kind: row.kind, code, err }, "bot link did not start");
    const why = err instanceof Error ? err.message : String(err);
    return { ok: false, message: `The ${label} link #${row.id} is saved but did not start: ${safeText(why)}` };
  }
}

/** Links being started by restartSavedLinks in this process (several portals may sync at once). */
const starting = new Set<number>();

/**
 * Starts every saved link that is not running on any portal, once per portal run, on the portal
 * that just synced: bots live in a portal, so after a game reload they are still running, and only
 * a new portal (a new run) needs them started again. With several portals, the first to sync gets
 * the links; a link whose portal goes away starts again when a portal starts a new run.
 */
export async function restartSavedLinks(ctx: GameContext, portalId: string, portalRun: number): Promise<void> {
  // One marker per portal id; "bots_started_for" (portal:run) is what versions before several portals kept.
  const key = portalId === "portal" ? "bots_started_for" : `bots_started_for:${portalId}`;
  const marker = `${portalId}:${portalRun}`;
  if (ctx.db.getMeta(key) === marker) return;
  ctx.db.setMeta(key, marker);
  const running = new Set(ctx.game.loggedIn().map((s) => s.uid));
  for (const row of ctx.db.listBotLinks()) {
    if (running.has(`${row.kind}:${row.id}`) || starting.has(row.id)) continue;
    starting.add(row.id);
    const result = await startLink(ctx, row, false, portalId).finally(() => starting.delete(row.id));
    ctx.log.info({ link: row.id, kind: row.kind, ok: result.ok }, result.ok ? "bot link started" : "bot link not started");
  }
}

/** Disconnects the bot sessions of a deleted link (the portal then closes the bot). */
export function stopLinkSessions(ctx: GameContext, kind: BotKind, id: number): number {
  const sessions = ctx.game.loggedIn().filter((s) => s.uid === `${kind}:${id}`);
  for (const s of sessions) ctx.game.disconnect(s, "link deleted");
  return sessions.length;
}

/** Input from a bot session (`bot_data_in`, [text], {type, user, channel}) is posted to the linked channel. */
export function handleBotInput(ctx: GameContext, s: GameSession, name: string, args: unknown[], kwargs: Kwargs): void {
  const link = botLinkOf(s);
  if (!link || name !== "bot_data_in") return;
  const row = ctx.db.getBotLink(link.id);
  if (!row || row.kind !== link.kind) return;
  // Bridge plugins hand over safe markup (IRC colours already converted, `|` escaped): keep it, drop controls.
  const text = cleanText(String(args[0] ?? ""));
  if (text === "") return;
  if (row.kind === "rss") {
    // The feed bot sends `<feed title>: <item title> <link>`: the channel puts `[channel]` before it.
    postToChannel(ctx, row.channel, text, row.id);
    return;
  }
  const type = kwargs.type;
  const user = safeText(String(kwargs.user ?? "?"));
  const who = `${user}@${safeText(String(kwargs.channel ?? ""))}`;
  if (type === "msg") postToChannel(ctx, row.channel, `${who}: ${text}`, row.id, { nick: who, text, kind: "say" });
  else if (type === "action") postToChannel(ctx, row.channel, `${who} ${text}`, row.id, { nick: who, text, kind: "pose" });
  else if (type === "join" || type === "part" || type === "quit") postToChannel(ctx, row.channel, `IRC: ${text}`, row.id);
  else if (type === "privmsg") answerPrivmsg(ctx, s, typeof kwargs.nick === "string" ? kwargs.nick : String(kwargs.user ?? ""), text);
}

/** A private IRC message to the bot: `who` lists online players, `about` names the game. `nick` is the raw IRC nick to answer. */
function answerPrivmsg(ctx: GameContext, bot: GameSession, nick: string, text: string): void {
  const command = text.trim().toLowerCase();
  const reply = (line: string) => ctx.game.msg(bot, [["privmsg", [line], { user: nick }]]);
  if (command === "who") {
    const names = onlineNames(ctx);
    reply(names.length === 0 ? "Nobody is online in the game right now." : `Online (${names.length}): ${names.join(", ")}`);
  } else if (command === "about") reply(`This is ${ctx.settings.serverName}, bridged by Portico.`);
  else reply("I understand 'who' and 'about'.");
}
