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

/** Passwords: 6–128 characters, no control characters (spaces are allowed). */
export function checkPassword(password: string): string | undefined {
  if (hasControlChars(password)) return "Passwords cannot contain control characters.";
  if (password.length < PASSWORD_MIN || password.length > PASSWORD_MAX) {
    return `Passwords must be ${PASSWORD_MIN} to ${PASSWORD_MAX} characters long.`;
  }
  return undefined;
}
