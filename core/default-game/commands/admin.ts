/** Admin commands: @sessions, @kick, @ban, @unban, @announce, @reload, @shutdown. */
import { isIP } from "node:net";
import type { GameSession } from "../../game/index.js";
import type { GameContext } from "../context.js";
import { checkName } from "../names.js";
import { botLinkOf, players } from "../players.js";
import { normalizeAddress, safeText, shortDuration, systemLine } from "../text.js";
import { firstAndRest } from "./parse.js";
import type { Command } from "./types.js";

function sessionsNamed(ctx: GameContext, name: string): GameSession[] {
  const lower = name.toLowerCase();
  return players(ctx).filter((p) => (p.uname ?? "").toLowerCase() === lower);
}

export const sessions: Command = {
  key: "@sessions",
  admin: true,
  summary: "List every connection.",
  run(ctx, s) {
    const now = Date.now() / 1000;
    const rows = [...ctx.game.sessions.values()].map((p) => {
      const who = botLinkOf(p) ? `(bot ${String(p.uid)})` : p.logged_in ? (p.uname ?? "?") : "(not logged in)";
      const idle = shortDuration(now - (p.cmd_last || p.conn_time || now));
      return `  ${p.sessid.padEnd(16)} ${p.protocol_key.padEnd(8)} ${safeText(p.address ?? "-").padEnd(16)} ${who.padEnd(20)} idle ${idle}`;
    });
    ctx.game.msg(s, [`Sessions (${rows.length}):`, ...rows].join("\n"));
  },
};

export const kick: Command = {
  key: "@kick",
  admin: true,
  summary: "Disconnect a player.",
  usage: "@kick <name> [reason]",
  run(ctx, s, cmd) {
    const [name, reason] = firstAndRest(cmd.args);
    if (name === "") return void ctx.game.msg(s, "Usage: @kick <name> [reason]");
    if (name.toLowerCase() === (s.uname ?? "").toLowerCase()) return void ctx.game.msg(s, "You cannot kick yourself; use quit.");
    const targets = sessionsNamed(ctx, name);
    if (targets.length === 0) return void ctx.game.msg(s, `No one called ${safeText(name)} is online.`);
    const why = safeText(reason);
    for (const t of targets) ctx.game.disconnect(t, why ? `You have been kicked: ${why}` : "You have been kicked.");
    ctx.game.msg(s, `Kicked ${targets[0]!.uname} (${targets.length} connection${targets.length === 1 ? "" : "s"}).`);
  },
};

export const ban: Command = {
  key: "@ban",
  admin: true,
  summary: "Ban an account name or an IP address (enforced at connect and login); no argument lists bans.",
  usage: "@ban                     list bans\n@ban <name|ip> [reason]  ban and disconnect matching connections",
  run(ctx, s, cmd) {
    const [target, reasonRaw] = firstAndRest(cmd.args);
    if (target === "") {
      const rows = ctx.db.listBans().map((b) => `  ${b.kind.padEnd(5)} ${b.value.padEnd(40)} ${safeText(b.reason ?? "")}`);
      return void ctx.game.msg(s, rows.length ? ["Bans:", ...rows].join("\n") : "No bans.");
    }
    const reason = safeText(reasonRaw) || null;
    const ip = isIP(normalizeAddress(target)) !== 0;
    const value = ip ? normalizeAddress(target) : target;
    if (!ip) {
      const bad = checkName(value);
      if (bad) return void ctx.game.msg(s, `That is neither an IP address nor a valid name. ${bad}`);
      if (value.toLowerCase() === (s.uname ?? "").toLowerCase()) return void ctx.game.msg(s, "You cannot ban yourself.");
    } else if (value === normalizeAddress(s.address)) {
      return void ctx.game.msg(s, "That is your own address; ban it from another one.");
    }
    if (!ctx.db.addBan(ip ? "ip" : "name", value, reason)) return void ctx.game.msg(s, `${value} is already banned.`);
    const hit = ip
      ? [...ctx.game.sessions.values()].filter((p) => !botLinkOf(p) && normalizeAddress(p.address) === value)
      : sessionsNamed(ctx, value);
    const notice = ip ? "Your address has been banned from this server." : "This account has been banned.";
    for (const t of hit) ctx.game.disconnect(t, reason ? `${notice} Reason: ${reason}` : notice);
    ctx.game.msg(s, `Banned ${ip ? "address" : "name"} ${value}${hit.length ? ` and disconnected ${hit.length} connection${hit.length === 1 ? "" : "s"}` : ""}.`);
  },
};

export const unban: Command = {
  key: "@unban",
  admin: true,
  summary: "Lift a ban on a name or address.",
  usage: "@unban <name|ip>",
  run(ctx, s, cmd) {
    const target = cmd.args;
    if (target === "") return void ctx.game.msg(s, "Usage: @unban <name|ip>");
    const value = isIP(normalizeAddress(target)) !== 0 ? normalizeAddress(target) : target;
    const n = ctx.db.removeBan(value);
    ctx.game.msg(s, n > 0 ? `Lifted the ban on ${safeText(value)}.` : `There is no ban on ${safeText(value)}.`);
  },
};

export const announce: Command = {
  key: "@announce",
  admin: true,
  summary: "Send a message to every connection.",
  usage: "@announce <text>",
  run(ctx, s, cmd) {
    const text = safeText(cmd.args);
    if (text === "") return void ctx.game.msg(s, "Usage: @announce <text>");
    ctx.game.announce(systemLine(`|yAnnouncement from ${s.uname}:|n ${text}`));
  },
};

export const reload: Command = {
  key: "@reload",
  admin: true,
  summary: "Restart the game process; everyone stays connected.",
  async run(ctx) {
    ctx.game.announce(systemLine("|yThe game is reloading; you stay connected.|n"), true);
    await ctx.requestStop("reload");
  },
};

export const shutdown: Command = {
  key: "@shutdown",
  admin: true,
  summary: "Shut down the portal and the game (everyone is disconnected).",
  run(ctx) {
    ctx.game.announce(systemLine("|rThe server is shutting down.|n"));
    ctx.requestPortalShutdown();
  },
};
