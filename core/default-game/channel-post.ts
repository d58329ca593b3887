/** Delivering channel messages: to online members, and to the bots linked to the channel. */
import type { GameContext } from "./context.js";
import { botLinkOf, players } from "./players.js";
import { systemLine, unmarked } from "./text.js";

/** Who said what, so a bridge can format the line its own way (e.g. IRC's `[public] Alice: hello`). */
export interface Speaker {
  nick: string;
  /** The message itself (safe markup), without the speaker. */
  text: string;
  kind: "say" | "pose";
}

/**
 * Sends `[channel] <line>` to every online member, and the message to each bot session linked to
 * the channel (as the `channel` output instruction, with `{channel, nick, kind}` when the speaker
 * is known), except the bot link it came from. `line` must already be safe markup. A line that
 * starts with an asterisk (a bridged RSS title, an odd IRC nick) loses its leading asterisks, so only
 * `noticeToChannel` lines start with the system prefix after the channel tag.
 */
export function postToChannel(ctx: GameContext, channel: string, line: string, fromLinkId?: number, speaker?: Speaker): void {
  deliver(ctx, channel, unmarked(line), fromLinkId, speaker);
}

/** A system notice on a channel (`[ooc] *** Bob has joined the channel.`), to its members and linked bots. */
export function noticeToChannel(ctx: GameContext, channel: string, line: string): void {
  deliver(ctx, channel, systemLine(line));
}

function deliver(ctx: GameContext, channel: string, line: string, fromLinkId?: number, speaker?: Speaker): void {
  const members = ctx.db.membersOf(channel);
  const text = `[${channel}] ${line}`;
  ctx.game.msgMany(players(ctx).filter((s) => members.has(s.uid as number)), text);
  const links = linksFor(ctx, channel);
  if (links.size === 0) return;
  const instruction = speaker
    ? ["channel", [speaker.text], { channel, nick: speaker.nick, kind: speaker.kind }]
    : ["channel", [line], { channel }];
  for (const s of ctx.game.loggedIn()) {
    const link = botLinkOf(s);
    if (link && link.kind === "irc" && links.has(link.id) && link.id !== fromLinkId) ctx.game.msg(s, [instruction as [string, unknown[], Record<string, unknown>]]);
  }
}

function linksFor(ctx: GameContext, channel: string): Set<number> {
  const lower = channel.toLowerCase();
  return new Set(ctx.db.listBotLinks("irc").filter((l) => l.channel.toLowerCase() === lower).map((l) => l.id));
}
