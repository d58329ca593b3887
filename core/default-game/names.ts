/** Rules for account names, channel names and passwords; each check returns a message or undefined. */
import { hasControlChars } from "./text.js";

export const NAME_MIN = 3;
export const NAME_MAX = 20;
export const PASSWORD_MIN = 6;
export const PASSWORD_MAX = 128;

const NAME_SHAPE = /^[A-Za-z][A-Za-z0-9_-]*$/;

function checkShape(value: string, what: string, min: number, max: number): string | undefined {
  if (value.length === 0) return `Please give a ${what}.`;
  if (hasControlChars(value)) return `${cap(what)}s cannot contain control characters.`;
  if (value.includes("|")) return `${cap(what)}s cannot contain '|' (it is used for colour codes).`;
  if (value.length < min || value.length > max) return `${cap(what)}s must be ${min} to ${max} characters long.`;
  if (!/^[A-Za-z]/.test(value)) return `${cap(what)}s must start with a letter.`;
  if (!NAME_SHAPE.test(value)) return `${cap(what)}s may only contain letters, digits, underscores and hyphens.`;
  return undefined;
}

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** Account names: 3–20 characters, letters/digits/underscore/hyphen, starting with a letter. */
export function checkName(name: string): string | undefined {
  return checkShape(name, "name", NAME_MIN, NAME_MAX);
}

/** Channel names follow the same shape, 2–20 characters. */
export function checkChannelName(name: string): string | undefined {
  return checkShape(name, "channel name", 2, NAME_MAX);
}

/**
 * Names that look like the system speaking, refused for new accounts and new channels (existing ones
 * keep working). Compared after `foldName`, so case, separators, look-alike digits and letters and
 * trailing digits do not get around it (`ADMIN`, `Ad-min`, `Adm1n`, `Ann0uncement`, `System2`,
 * `Admins`); the configured server name is added to them. `You`, `Someone`, `IRC` and `RSS` are here
 * because the game itself starts lines with them ("You say, ...", "IRC: ..."). Names that merely
 * contain one of these (`AdminFan`, `Rooted`) are allowed: every system line starts with `*** `,
 * which no player line can, so the names are a second guard, not the only one.
 */
export const RESERVED_NAMES: readonly string[] = [
  "Admin", "Administrator", "Announcement", "Announce", "System", "Server", "Portico", "Portal",
  "Moderator", "Mod", "Staff", "Root", "Sysop", "Operator", "Owner", "Console", "Notice", "Game",
  "Everyone", "Someone", "You", "IRC", "RSS", "Bot", "Wizard", "Superuser",
];

/** Digits and symbols read as letters, after lower-casing (`0`→o, `1`/`i`/`!`→l, `3`→e, `4`/`@`→a, `5`/`$`→s, `7`→t, `8`→b). */
const LOOK_ALIKE: Readonly<Record<string, string>> = { "0": "o", "1": "l", i: "l", "!": "l", "|": "l", "3": "e", "4": "a", "@": "a", "5": "s", $: "s", "7": "t", "8": "b" };

/**
 * The form names are compared in for reservation: Unicode compatibility folding (NFKC, so fullwidth
 * and styled letters become plain ones) then accents removed, lower-cased, spaces/`_`/`-`/`.` removed,
 * look-alike digits and letters mapped to one letter, `rn`→`m` and `vv`→`w`.
 */
export function foldName(name: string): string {
  const plain = name.normalize("NFKC").normalize("NFD").replace(/\p{M}/gu, "").toLowerCase().replace(/[\s_.\-]+/g, "");
  let out = "";
  for (const ch of plain) out += Object.hasOwn(LOOK_ALIKE, ch) ? LOOK_ALIKE[ch] : ch;
  return out.replace(/rn/g, "m").replace(/vv/g, "w");
}

/** The reserved words (plus `serverName`) as folded forms. */
function reservedForms(serverName: string): Set<string> {
  const forms = new Set(RESERVED_NAMES.map(foldName));
  const server = foldName(serverName);
  if (server.length >= 2) forms.add(server);
  return forms;
}

/** The reserved word `name` stands for, or undefined. Trailing digits, `_` and `-` and a plural `s` are ignored. */
export function reservedWord(name: string, serverName = "Portico"): string | undefined {
  const forms = reservedForms(serverName);
  const candidates = new Set<string>();
  for (const base of [name, name.replace(/[\d_\-\s]+$/u, "")]) {
    const folded = foldName(base);
    candidates.add(folded);
    if (folded.endsWith("s")) candidates.add(folded.slice(0, -1));
  }
  for (const c of candidates) {
    if (!forms.has(c)) continue;
    return RESERVED_NAMES.find((r) => foldName(r) === c) ?? serverName;
  }
  return undefined;
}

function reservedMessage(name: string, what: string, serverName: string): string | undefined {
  const word = reservedWord(name, serverName);
  return word === undefined ? undefined : `The ${what} ${name} is reserved: it looks like ${word === serverName ? "the server's name" : `"${word}"`}, which only the system uses. Please pick another.`;
}

/** A new account's name: `checkName`, then not a reserved name (existing accounts with such names keep working). */
export function checkNewName(name: string, serverName: string): string | undefined {
  return checkName(name) ?? reservedMessage(name, "name", serverName);
}

/** A new channel's name: `checkChannelName`, then not a reserved name. */
export function checkNewChannelName(name: string, serverName: string): string | undefined {
  return checkChannelName(name) ?? reservedMessage(name, "channel name", serverName);
}

/** Passwords: 6–128 characters, no control characters (spaces are allowed). */
export function checkPassword(password: string): string | undefined {
  if (hasControlChars(password)) return "Passwords cannot contain control characters.";
  if (password.length < PASSWORD_MIN || password.length > PASSWORD_MAX) {
    return `Passwords must be ${PASSWORD_MIN} to ${PASSWORD_MAX} characters long.`;
  }
  return undefined;
}
