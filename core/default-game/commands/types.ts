import type { GameSession } from "../../game/index.js";
import type { GameContext } from "../context.js";
import type { ParsedCommand } from "./parse.js";

/** One command players type. */
export interface Command {
  key: string;
  aliases?: string[];
  /** Only admins may use (and see) it. */
  admin?: boolean;
  /** Usable before logging in as well. */
  preLogin?: boolean;
  /** One line for `help`. */
  summary: string;
  /** Longer text for `help <command>`. */
  usage?: string;
  run(ctx: GameContext, session: GameSession, cmd: ParsedCommand): void | Promise<void>;
}
