/** Splits a typed line into verb, switches and arguments (`irc2chan/list 3` ⇒ irc2chan, [list], "3"). */
export interface ParsedCommand {
  /** The whole line, trimmed. */
  raw: string;
  /** First word without switches, lower-cased (`@ban`, `say`, `irc2chan`). Empty for an empty line. */
  verb: string;
  /** `/switch` parts after the verb, lower-cased. */
  switches: string[];
  /** Everything after the first word, trimmed. */
  args: string;
  /** The first word as typed (for channel names and error messages). */
  word: string;
}

export function parseCommand(line: string): ParsedCommand {
  const raw = line.trim();
  if (raw.startsWith(":")) return { raw, verb: "pose", switches: [], args: raw.slice(1).trim(), word: ":" };
  if (raw.startsWith('"') || raw.startsWith("'")) return { raw, verb: "say", switches: [], args: raw.slice(1).trim(), word: raw[0]! };
  const m = /^(\S*)\s*([\s\S]*)$/.exec(raw)!;
  const word = m[1]!;
  const [verb = "", ...switches] = word.split("/");
  return { raw, verb: verb.toLowerCase(), switches: switches.filter((x) => x !== "").map((x) => x.toLowerCase()), args: m[2]!.trim(), word };
}

/** Splits `left = right` at the first `=`; undefined when there is none. */
export function splitAssignment(args: string): { left: string; right: string } | undefined {
  const at = args.indexOf("=");
  if (at < 0) return undefined;
  return { left: args.slice(0, at).trim(), right: args.slice(at + 1).trim() };
}

/** Splits arguments on whitespace. */
export function words(args: string): string[] {
  return args.split(/\s+/).filter((w) => w !== "");
}

/** First word and the rest (`"Bob being rude"` ⇒ ["Bob", "being rude"]). */
export function firstAndRest(args: string): [string, string] {
  const m = /^(\S*)\s*([\s\S]*)$/.exec(args.trim())!;
  return [m[1]!, m[2]!.trim()];
}
