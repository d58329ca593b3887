/** Delivering channel messages: to online members, and to the bots linked to the channel. */
import type { GameContext } from "./context.js";
import { botLinkOf, players } from "./players.js";

/**
 * Sends `[channel] <line>` to every online member, and `line` to each bot session linked to the
 * channel (as the `channel` output instruction), except the bot link it came from.
 * `line` must already be safe markup (player text escaped).
 */
export function postToChannel(ctx: GameContext, channel: string, line: string, fromLinkId?: number): void {
  const members = ctx.db.membersOf(channel);
  const text = `[${channel}] ${line}`;
  for (const s of players(ctx)) if (members.has(s.uid as number)) ctx.game.msg(s, text);
  const links = linksFor(ctx, channel);
  if (links.size === 0) return;
  for (const s of ctx.game.loggedIn()) {
    const link = botLinkOf(s);
    if (link && link.kind === "irc" && links.has(link.id) && link.id !== fromLinkId) ctx.game.msg(s, { channel: line });
  }
}

function linksFor(ctx: GameContext, channel: string): Set<number> {
  const lower = channel.toLowerCase();
  return new Set(ctx.db.listBotLinks("irc").filter((l) => l.channel.toLowerCase() === lower).map((l) => l.id));
}
