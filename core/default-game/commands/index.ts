/** The command table and the dispatcher for logged-in players. */
import type { GameSession } from "../../game/index.js";
import type { GameContext } from "../context.js";
import { isAdmin } from "../players.js";
import { safeText } from "../text.js";
import { announce, ban, kick, reload, sessions, shutdown, unban } from "./admin.js";
import { irc2chan, rss2chan } from "./bots.js";
import { channelMessage, channels, joinCommand, leave } from "./channels.js";
import { look, pose, quit, say, who } from "./general.js";
import { helpCommand } from "./help.js";
import { options } from "./options.js";
import { parseCommand } from "./parse.js";
import type { Command } from "./types.js";

export class CommandTable {
  private readonly byVerb = new Map<string, Command>();
  private readonly list: Command[] = [];

  constructor(private readonly ctx: GameContext) {
    const isCommand = (verb: string) => this.byVerb.has(verb);
    const help = helpCommand(() => this.list, (v) => this.byVerb.get(v), (s) => isAdmin(ctx, s));
    for (const c of [look, say, pose, who, help, options, channels, joinCommand(isCommand), leave, quit, sessions, kick, ban, unban, announce, reload, shutdown, irc2chan, rss2chan]) {
      this.add(c);
    }
  }

  private add(c: Command): void {
    this.list.push(c);
    for (const verb of [c.key, ...(c.aliases ?? [])]) this.byVerb.set(verb, c);
  }

  /** Runs one line from a logged-in player. */
  async run(s: GameSession, line: string): Promise<void> {
    const cmd = parseCommand(line);
    if (cmd.verb === "") return;
    const c = this.byVerb.get(cmd.verb);
    if (c && (!c.admin || isAdmin(this.ctx, s))) {
      await c.run(this.ctx, s, cmd);
      return;
    }
    if (channelMessage(this.ctx, s, cmd)) return;
    this.ctx.game.msg(s, `Unknown command '${safeText(cmd.word.slice(0, 40))}'. Type help for the list of commands.`);
  }

  /** Runs a command allowed before login; false when the verb is not one of them. */
  async runPreLogin(s: GameSession, line: string): Promise<boolean> {
    const cmd = parseCommand(line);
    const c = this.byVerb.get(cmd.verb);
    if (!c?.preLogin) return false;
    await c.run(this.ctx, s, cmd);
    return true;
  }
}
