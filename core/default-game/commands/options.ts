/** `options`: show the session's protocol flags; `options <FLAG>=<value>` sets the ones players may change. */
import type { GameSession } from "../../game/index.js";
import { escapeMarkup } from "../text.js";
import { splitAssignment, words } from "./parse.js";
import type { Command } from "./types.js";

type Setter = (value: string) => { value: unknown } | { error: string };

function integer(flag: string, min: number, max: number): Setter {
  return (v) => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || n < min || n > max) return { error: `${flag} must be a whole number from ${min} to ${max}.` };
    return { value: { 0: n } };
  };
}

function boolean(flag: string): Setter {
  return (v) => {
    const lower = v.toLowerCase();
    if (["on", "true", "yes", "1"].includes(lower)) return { value: true };
    if (["off", "false", "no", "0"].includes(lower)) return { value: false };
    return { error: `${flag} must be on or off.` };
  };
}

/**
 * The encodings a player may pick, by the names accepted. Maps, not plain objects: what a player
 * types is looked up, and `__proto__`, `constructor` or `toString` must be unknown names, not
 * Object.prototype's members.
 */
const ENCODINGS: ReadonlyMap<string, string> = new Map([["utf-8", "utf-8"], ["utf8", "utf-8"], ["latin-1", "latin-1"], ["latin1", "latin-1"], ["iso-8859-1", "latin-1"]]);

/** The flags a player may set, and how each value is read. */
export const SETTABLE: ReadonlyMap<string, Setter> = new Map<string, Setter>([
  ["SCREENWIDTH", integer("SCREENWIDTH", 10, 1000)],
  ["SCREENHEIGHT", integer("SCREENHEIGHT", 5, 1000)],
  ["NOCOLOR", boolean("NOCOLOR")],
  ["SCREENREADER", boolean("SCREENREADER")],
  ["NOPKEEPALIVE", boolean("NOPKEEPALIVE")],
  ["LOCALECHO", boolean("LOCALECHO")],
  ["ENCODING", (v) => {
    const e = ENCODINGS.get(v.toLowerCase());
    return e ? { value: e } : { error: "ENCODING must be utf-8 or latin-1." };
  }],
]);

const SETTABLE_LIST = [...SETTABLE.keys()].join(", ");

/** Reads `FLAG=value` or `FLAG value`; the result to apply, or a message. */
export function parseOptionSetting(args: string): { flag: string; value: unknown } | { error: string } {
  const eq = splitAssignment(args);
  const [flagWord, valueWord] = eq ? [eq.left, eq.right] : words(args);
  const flag = (flagWord ?? "").toUpperCase();
  const setter = SETTABLE.get(flag);
  if (!setter) return { error: `You cannot set ${escapeMarkup(flagWord ?? "")}. Settable: ${SETTABLE_LIST}.` };
  if (valueWord === undefined || valueWord === "") return { error: `Usage: options ${flag}=<value>` };
  const result = setter(valueWord);
  return "error" in result ? result : { flag, value: result.value };
}

function show(value: unknown): string {
  if (typeof value === "object" && value !== null && !Array.isArray(value) && Object.hasOwn(value, "0")) return String((value as Record<string, unknown>)["0"]);
  return typeof value === "string" ? value : (JSON.stringify(value) ?? String(value));
}

export function describeOptions(s: GameSession): string {
  const flags = Object.keys(s.protocol_flags).sort();
  const rows = flags.map((k) => `  ${escapeMarkup(k).padEnd(16)} ${escapeMarkup(show(s.protocol_flags[k]))}`);
  return [`Options for this connection (${escapeMarkup(s.protocol_key || "?")}):`, ...rows, `Set one with: options <FLAG>=<value>  (${SETTABLE_LIST})`].join("\n");
}

export const options: Command = {
  key: "options",
  preLogin: true,
  summary: "Show or set your connection options (screen width, colour, encoding...).",
  usage: "options                  show them\noptions <FLAG>=<value>   e.g. options SCREENWIDTH=100, options NOCOLOR=on, options ENCODING=latin-1",
  run(ctx, s, cmd) {
    if (cmd.args === "") return void ctx.game.msg(s, describeOptions(s));
    const result = parseOptionSetting(cmd.args);
    if ("error" in result) return void ctx.game.msg(s, result.error);
    s.protocol_flags[result.flag] = result.value;
    ctx.game.syncSession(s);
    ctx.game.msg(s, `${result.flag} is now ${show(result.value)}.`);
  },
};
