/** Channels: list, join (creating is limited per address), leave, and `<channel> <message>` for channels you are on. */
import type { GameSession } from "../../game/index.js";
import { aboutMinutes, addressKey } from "../attempt-limiter.js";
import { noticeToChannel, postToChannel } from "../channel-post.js";
import type { GameContext } from "../context.js";
import { accountIdOf, isAdmin } from "../players.js";
import { checkNewChannelName } from "../names.js";
import { normalizeAddress, safeText } from "../text.js";
import type { ParsedCommand } from "./parse.js";
import type { Command } from "./types.js";

export const channels: Command = {
  key: "channels",
  aliases: ["chan"],
  summary: "List the channels and which ones you are on.",
  run(ctx, s) {
    const mine = new Set(ctx.db.channelsOf(accountIdOf(s)!).map((c) => c.toLowerCase()));
    const rows = ctx.db.listChannels().map((c) => {
      const on = mine.has(c.name.toLowerCase()) ? "  (joined)" : "";
      return `  ${c.name.padEnd(20)} ${c.members} member${c.members === 1 ? "" : "s"}${on}`;
    });
    const hint = "Talk on a channel you joined with: <channel> <message>";
    ctx.game.msg(s, rows.length ? ["Channels:", ...rows, hint].join("\n") : "There are no channels.");
  },
};

/** Returns a message when `name` cannot be a new channel (bad shape, a reserved name, or the name of a command). */
export function badChannelName(name: string, isCommand: (verb: string) => boolean, serverName = "Portico"): string | undefined {
  return checkNewChannelName(name, serverName) ?? (isCommand(name.toLowerCase()) ? `${name} is a command name; pick another channel name.` : undefined);
}

export function joinCommand(isCommand: (verb: string) => boolean): Command {
  return {
    key: "join",
    summary: "Join a channel (a new name creates it).",
    usage: "join <channel>",
    run(ctx, s, cmd) {
      const name = cmd.args;
      if (name === "") return void ctx.game.msg(s, "Usage: join <channel>");
      const exists = ctx.db.channelName(name) !== undefined;
      const bad = exists ? undefined : badChannelName(name, isCommand, ctx.settings.serverName);
      if (bad) return void ctx.game.msg(s, bad);
      // Creating a channel counts against the address's limit (admins are not limited).
      const key = addressKey(s.address);
      const limited = !exists && !isAdmin(ctx, s);
      if (limited && !ctx.channelLimiter.begin(key)) {
        ctx.log.debug({ name: s.uname, address: normalizeAddress(s.address), channel: name }, "channel creation refused: the address's limit is reached");
        const wait = aboutMinutes(ctx.channelLimiter.retryAfterMs(key));
        return void ctx.game.msg(s, `Too many channels have been created from your address recently; ${name} was not created. Try again in ${wait}; joining existing channels still works.`);
      }
      let result: ReturnType<typeof ctx.db.joinChannel>;
      try {
        result = ctx.db.joinChannel(accountIdOf(s)!, name);
      } catch (err) {
        if (limited) ctx.channelLimiter.release(key);
        throw err;
      }
      if (limited && !result.created) ctx.channelLimiter.release(key); // someone else created it meanwhile
      if (result.created) {
        ctx.log.info({ name: s.uname, address: normalizeAddress(s.address), channel: result.name }, "channel created");
        if (limited && ctx.channelLimiter.blocked(key)) ctx.log.info({ address: normalizeAddress(s.address) }, "channel creation limit reached for this address");
      }
      if (!result.joined) return void ctx.game.msg(s, `You are already on [${result.name}].`);
      ctx.game.msg(s, `You join [${result.name}]. Talk with: ${result.name} <message>`);
      noticeToChannel(ctx, result.name, `${s.uname} has joined the channel.`);
    },
  };
}

export const leave: Command = {
  key: "leave",
  summary: "Leave a channel.",
  usage: "leave <channel>",
  run(ctx, s, cmd) {
    const name = cmd.args;
    if (name === "") return void ctx.game.msg(s, "Usage: leave <channel>");
    const channel = ctx.db.channelName(name);
    if (!channel || !ctx.db.leaveChannel(accountIdOf(s)!, channel)) return void ctx.game.msg(s, `You are not on a channel called ${safeText(name)}.`);
    ctx.game.msg(s, `You leave [${channel}].`);
    noticeToChannel(ctx, channel, `${s.uname} has left the channel.`);
  },
};

/** `<channel> <message>`: true when the first word is a channel the player is on (the line is then handled). */
export function channelMessage(ctx: GameContext, s: GameSession, cmd: ParsedCommand): boolean {
  if (cmd.switches.length > 0 || cmd.word === "") return false;
  const channel = ctx.db.channelName(cmd.word);
  if (!channel || !ctx.db.isMember(accountIdOf(s)!, channel)) return false;
  const text = safeText(cmd.args);
  if (text === "") {
    ctx.game.msg(s, `Say what on [${channel}]?`);
    return true;
  }
  // `<channel> :waves` poses on the channel; anything else is said.
  if (text.startsWith(":") && text.length > 1) {
    const action = text.slice(1).trim();
    postToChannel(ctx, channel, `${s.uname} ${action}`, undefined, { nick: s.uname ?? "?", text: action, kind: "pose" });
  } else postToChannel(ctx, channel, `${s.uname}: ${text}`, undefined, { nick: s.uname ?? "?", text, kind: "say" });
  return true;
}
