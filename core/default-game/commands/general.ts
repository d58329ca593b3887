/** Everyday commands: look, say, pose, who, quit. */
import type { GameSession } from "../../game/index.js";
import type { GameContext } from "../context.js";
import { onlineNames, players, relayToPlayers } from "../players.js";
import { safeText, shortDuration } from "../text.js";
import type { Command } from "./types.js";

const ROOM_NAME = "The Lobby";
const ROOM_TEXT = "A bright hall of pale stone. Voices carry well here: whatever you say, everyone hears.";

function speakerName(s: GameSession): string {
  return s.uname ?? "Someone";
}

export const look: Command = {
  key: "look",
  aliases: ["l"],
  summary: "Look around.",
  run(ctx, s) {
    ctx.game.msg(s, describeRoom(ctx));
  },
};

export const say: Command = {
  key: "say",
  summary: "Say something to everyone here. Also: \"<text>",
  usage: "say <text>   (or \"<text>)",
  run(ctx, s, cmd) {
    const text = safeText(cmd.args);
    if (text === "") return void ctx.game.msg(s, "Say what?");
    ctx.game.msg(s, `You say, "${text}"`);
    relayToPlayers(ctx, `${speakerName(s)} says, "${text}"`, { sessid: s.sessid });
  },
};

export const pose: Command = {
  key: "pose",
  aliases: ["emote"],
  summary: "Act something out: pose waves  =>  Alice waves. Also: :<text>",
  usage: "pose <action>   (or :<action>)",
  run(ctx, s, cmd) {
    const text = safeText(cmd.args);
    if (text === "") return void ctx.game.msg(s, "Pose what?");
    const joiner = /^[',:;.!?]/.test(text) ? "" : " ";
    relayToPlayers(ctx, `${speakerName(s)}${joiner}${text}`);
  },
};

export const who: Command = {
  key: "who",
  summary: "List who is online.",
  run(ctx, s) {
    const now = Date.now() / 1000;
    const idle = new Map<string, number>();
    for (const p of players(ctx)) {
      const name = p.uname ?? "?";
      idle.set(name, Math.min(idle.get(name) ?? Infinity, now - (p.cmd_last || p.conn_time || now)));
    }
    const names = [...idle.keys()].sort((a, b) => a.localeCompare(b));
    const rows = names.map((n) => `  ${n.padEnd(20)} idle ${shortDuration(idle.get(n)!)}`);
    ctx.game.msg(s, [`Players online (${names.length}):`, ...rows].join("\n"));
  },
};

export const quit: Command = {
  key: "quit",
  preLogin: true,
  summary: "Leave the game.",
  run(ctx, s) {
    ctx.game.disconnect(s, "Goodbye!");
  },
};

export function describeRoom(ctx: GameContext): string {
  const here = onlineNames(ctx);
  return [`|w${ROOM_NAME}|n`, ROOM_TEXT, here.length > 0 ? `Here: ${here.join(", ")}.` : "No one else is here."].join("\n");
}
