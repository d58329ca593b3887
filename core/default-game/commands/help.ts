/** `help` and `help <command>`: what the player may use (admin commands only for admins). */
import type { Command } from "./types.js";

export function helpCommand(list: () => Command[], find: (verb: string) => Command | undefined, isAdmin: (s: Parameters<Command["run"]>[1]) => boolean): Command {
  return {
    key: "help",
    aliases: ["?"],
    summary: "List commands, or explain one: help <command>.",
    run(ctx, s, cmd) {
      const admin = isAdmin(s);
      if (cmd.args !== "") {
        const c = find(cmd.args.toLowerCase().split("/")[0]!);
        if (!c || (c.admin && !admin)) return void ctx.game.msg(s, `There is no command called ${cmd.args.replace(/\|/g, "||")}.`);
        const aka = c.aliases?.length ? ` (also: ${c.aliases.join(", ")})` : "";
        return void ctx.game.msg(s, [`|w${c.key}|n${aka}: ${c.summary}`, ...(c.usage ? [c.usage] : [])].join("\n"));
      }
      const row = (c: Command) => `  ${c.key.padEnd(12)} ${c.summary}`;
      const all = list();
      const lines = ["Commands:", ...all.filter((c) => !c.admin).map(row), "  <channel> <message>  talk on a channel you joined (e.g. public hello)"];
      if (admin) lines.push("Admin commands:", ...all.filter((c) => c.admin).map(row));
      else lines.push("Admins are appointed by the server's operator (on the server: portico admin create <name>, or --promote for an existing account).");
      ctx.game.msg(s, lines.join("\n"));
    },
  };
}
