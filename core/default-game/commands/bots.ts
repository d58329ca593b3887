/** `irc2chan` and `rss2chan` (with /list and /delete): store a link, then ask the portal to start its bot. */
import { isIP } from "node:net";
import type { GameSession } from "../../game/index.js";
import { BOT_LABEL, startLink, stopLinkSessions } from "../bot-links.js";
import type { GameContext } from "../context.js";
import type { BotKind, BotLinkRow } from "../db.js";
import { safeText } from "../text.js";
import { splitAssignment, words, type ParsedCommand } from "./parse.js";
import type { Command } from "./types.js";

const HOST = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const IRC_CHANNEL = /^[#&][^\s,\x00-\x1f|]{1,49}$/;
const NICK = /^[A-Za-z[\]\\`_^{}][A-Za-z0-9[\]\\`_^{}-]{0,29}$/;

export const IRC_USAGE =
  "Usage: irc2chan <channel> = <host> <port> <#ircchannel>[,#more] <botnick> [tls] [selfsigned] [sasl=<account>:<password>] [nickserv=<password>]";

/** Parses an irc2chan request; the options after the nick may come in any order. */
export function parseIrcLink(args: string): { channel: string; config: Record<string, unknown> } | { error: string } {
  const usage = IRC_USAGE;
  const eq = splitAssignment(args);
  if (!eq || eq.left === "") return { error: usage };
  const [host, portText, ircChannels, nick, ...options] = words(eq.right);
  if (!host || !portText || !ircChannels || !nick) return { error: usage };
  let tls = false;
  const extra: Record<string, unknown> = {};
  for (const option of options) {
    const lower = option.toLowerCase();
    if (lower === "tls" || lower === "ssl") tls = true;
    else if (lower === "selfsigned") extra.allowSelfSigned = true;
    else if (lower.startsWith("sasl=") && option.indexOf(":", 5) > 5) {
      const colon = option.indexOf(":", 5);
      extra.sasl = { account: option.slice(5, colon), password: option.slice(colon + 1) };
    } else if (lower.startsWith("nickserv=") && option.length > 9) extra.nickservPassword = option.slice(9);
    else return { error: usage };
  }
  const channels = ircChannels.split(",");
  const ircChannel = channels[0]!;
  if (!HOST.test(host) && isIP(host) === 0) return { error: `${safeText(host)} is not a host name or address.` };
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) return { error: "The port must be a number from 1 to 65535." };
  if (!channels.every((c) => IRC_CHANNEL.test(c)) || channels.length > 20) return { error: "Each IRC channel must start with # (or &) and have no spaces; separate up to 20 with commas." };
  if (!NICK.test(nick)) return { error: "The bot nick must start with a letter and use letters, digits and IRC nick characters (up to 30)." };
  const where = channels.length === 1 ? { channel: ircChannel } : { channels };
  return { channel: eq.left, config: { network: host, port, ...where, botname: nick, ssl: tls, ...extra } };
}

export function parseRssLink(args: string): { channel: string; config: Record<string, unknown> } | { error: string } {
  const usage = "Usage: rss2chan <channel> = <url> [interval seconds, default 600; the portal may raise it to its minimum]";
  const eq = splitAssignment(args);
  if (!eq || eq.left === "") return { error: usage };
  const [url, intervalText, ...extra] = words(eq.right);
  if (!url || extra.length > 0) return { error: usage };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { error: `${safeText(url)} is not a URL.` };
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return { error: "Only http and https feeds are supported." };
  const rate = intervalText === undefined ? 600 : Number(intervalText);
  if (!/^\d+$/.test(intervalText ?? "600") || rate < 1 || rate > 86400) return { error: "The interval must be 1 to 86400 seconds (the portal raises it to its minimum, 60 s unless set lower)." };
  return { channel: eq.left, config: { url: parsed.href, rate } };
}

function describe(ctx: GameContext, row: BotLinkRow): string {
  const c = JSON.parse(row.config) as Record<string, unknown>;
  const ircChannels = Array.isArray(c.channels) ? c.channels.join(",") : String(c.channel);
  const extras = [c.ssl ? "tls" : "", c.allowSelfSigned ? "self-signed ok" : "", c.sasl ? "sasl" : "", c.nickservPassword ? "nickserv" : ""].filter(Boolean);
  const target = row.kind === "irc" ? `${ircChannels} on ${String(c.network)}:${String(c.port)} as ${String(c.botname)}${extras.length ? ` (${extras.join(", ")})` : ""}` : `${String(c.url)} every ${String(c.rate)}s`;
  // The bot's own session reports its connection state (connected, reconnecting: why, failed: why).
  const bot = ctx.game.loggedIn().find((s) => s.uid === `${row.kind}:${row.id}`);
  const state = bot ? String(bot.protocol_flags.BOT_STATE ?? "running") : "not running";
  return `  #${row.id} [${row.channel}] <-> ${safeText(target)}  - ${safeText(state)}`;
}

function botCommand(kind: BotKind, parse: typeof parseIrcLink): Command {
  const label = BOT_LABEL[kind];
  const usage = kind === "irc"
    ? `${IRC_USAGE.replace("Usage: ", "")}\nirc2chan/list\nirc2chan/delete <id>`
    : "rss2chan <channel> = <url> [interval]\nrss2chan/list\nrss2chan/delete <id>";
  return {
    key: `${kind}2chan`,
    admin: true,
    summary: `Link a channel to ${kind === "irc" ? "an IRC channel" : "an RSS feed"} (/list, /delete <id>).`,
    usage,
    async run(ctx: GameContext, s: GameSession, cmd: ParsedCommand) {
      if (cmd.switches.includes("list")) {
        const rows = ctx.db.listBotLinks(kind).map((row) => describe(ctx, row));
        return void ctx.game.msg(s, rows.length ? [`${label} links:`, ...rows].join("\n") : `There are no ${label} links.`);
      }
      if (cmd.switches.includes("delete") || cmd.switches.includes("del")) {
        const id = Number(cmd.args.replace(/^#/, ""));
        if (!Number.isSafeInteger(id) || !ctx.db.deleteBotLink(kind, id)) return void ctx.game.msg(s, `There is no ${label} link ${safeText(cmd.args)}.`);
        const stopped = stopLinkSessions(ctx, kind, id);
        return void ctx.game.msg(s, `Deleted ${label} link #${id}${stopped ? " and stopped its bot" : ""}.`);
      }
      if (cmd.switches.length > 0) return void ctx.game.msg(s, `Unknown switch. Usage:\n${usage}`);
      const parsed = parse(cmd.args);
      if ("error" in parsed) return void ctx.game.msg(s, parsed.error);
      const channel = ctx.db.channelName(parsed.channel);
      if (!channel) return void ctx.game.msg(s, `There is no channel called ${safeText(parsed.channel)}.`);
      const row = ctx.db.addBotLink(kind, channel, parsed.config);
      // A feed is checked before the link is kept: its bot fetches it once while starting.
      const result = await startLink(ctx, row, kind === "rss");
      if (result.refused) {
        ctx.db.deleteBotLink(kind, row.id);
        return void ctx.game.msg(s, result.message);
      }
      ctx.game.msg(s, `Saved ${label} link:\n${describe(ctx, row)}`);
      ctx.game.msg(s, result.message);
    },
  };
}

export const irc2chan = botCommand("irc", parseIrcLink);
export const rss2chan = botCommand("rss", parseRssLink);
