/**
 * The default game's limits from the environment (`portico start` passes its own environment on to
 * the game, so an operator sets these where Portico runs). Each has a default; a bad value is an
 * error naming the variable. Times are in seconds, except the failed-login delay (milliseconds).
 */
import { DEFAULT_LIMITS, type DefaultGameOptions } from "./game.js";

type LimitOptions = Pick<
  DefaultGameOptions,
  | "failDelayMs" | "maxFailures" | "failWindowMs" | "accountMaxFailures" | "accountFailWindowMs" | "accountLockoutMs"
  | "accountCreateLimit" | "accountCreateWindowMs" | "channelCreateLimit" | "channelCreateWindowMs" | "limiterMaxKeys"
  | "hashConcurrency" | "maxPendingHashes"
>;

interface EnvSetting {
  name: string;
  option: keyof LimitOptions;
  /** The default in the variable's unit. */
  default: number;
  min: number;
  max: number;
  /** Multiplier from the variable's unit to the option's (1000 for seconds → ms). */
  scale: number;
  what: string;
}

const DAY_S = 86_400;

/** Every variable, its default and meaning (README and docs/security.md list the same). */
export const GAME_ENV_SETTINGS: readonly EnvSetting[] = [
  { name: "PORTICO_GAME_LOGIN_FAIL_DELAY_MS", option: "failDelayMs", default: DEFAULT_LIMITS.failDelayMs, min: 0, max: 60_000, scale: 1, what: "wait before answering a wrong password" },
  { name: "PORTICO_GAME_ADDRESS_MAX_FAILURES", option: "maxFailures", default: DEFAULT_LIMITS.maxFailures, min: 0, max: 1_000_000, scale: 1, what: "failed logins per address within the window (0: no limit)" },
  { name: "PORTICO_GAME_ADDRESS_FAILURE_WINDOW_SECONDS", option: "failWindowMs", default: DEFAULT_LIMITS.failWindowMs / 1000, min: 1, max: 30 * DAY_S, scale: 1000, what: "window of the per-address failed-login limit" },
  { name: "PORTICO_GAME_ACCOUNT_MAX_FAILURES", option: "accountMaxFailures", default: DEFAULT_LIMITS.accountMaxFailures, min: 0, max: 1_000_000, scale: 1, what: "failed logins per account name, from any addresses, within the window (0: no limit)" },
  { name: "PORTICO_GAME_ACCOUNT_FAILURE_WINDOW_SECONDS", option: "accountFailWindowMs", default: DEFAULT_LIMITS.accountFailWindowMs / 1000, min: 1, max: 30 * DAY_S, scale: 1000, what: "window of the per-account failed-login limit" },
  { name: "PORTICO_GAME_ACCOUNT_LOCKOUT_SECONDS", option: "accountLockoutMs", default: DEFAULT_LIMITS.accountLockoutMs / 1000, min: 1, max: 30 * DAY_S, scale: 1000, what: "how long an account name stays locked once its limit is reached" },
  { name: "PORTICO_GAME_ACCOUNT_CREATE_LIMIT", option: "accountCreateLimit", default: DEFAULT_LIMITS.accountCreateLimit, min: 0, max: 1_000_000, scale: 1, what: "accounts created per address within the window (0: no limit)" },
  { name: "PORTICO_GAME_ACCOUNT_CREATE_WINDOW_SECONDS", option: "accountCreateWindowMs", default: DEFAULT_LIMITS.accountCreateWindowMs / 1000, min: 1, max: 30 * DAY_S, scale: 1000, what: "window of the account creation limit" },
  { name: "PORTICO_GAME_CHANNEL_CREATE_LIMIT", option: "channelCreateLimit", default: DEFAULT_LIMITS.channelCreateLimit, min: 0, max: 1_000_000, scale: 1, what: "channels created per address within the window, admins excepted (0: no limit)" },
  { name: "PORTICO_GAME_CHANNEL_CREATE_WINDOW_SECONDS", option: "channelCreateWindowMs", default: DEFAULT_LIMITS.channelCreateWindowMs / 1000, min: 1, max: 30 * DAY_S, scale: 1000, what: "window of the channel creation limit" },
  { name: "PORTICO_GAME_LIMITER_MAX_KEYS", option: "limiterMaxKeys", default: DEFAULT_LIMITS.limiterMaxKeys, min: 100, max: 10_000_000, scale: 1, what: "addresses or names each limiter remembers (least recently used forgotten first)" },
  { name: "PORTICO_GAME_HASH_CONCURRENCY", option: "hashConcurrency", default: 4, min: 1, max: 256, scale: 1, what: "password hashes (scrypt) computed at once" },
  { name: "PORTICO_GAME_HASH_QUEUE_MAX", option: "maxPendingHashes", default: 1000, min: 1, max: 1_000_000, scale: 1, what: "password hashes allowed to wait; beyond it players are told the server is busy" },
];

/** A bad value in one of the variables: `message` names it; `variable` and `problem` apart, for `portico start`'s config error. */
export class GameEnvError extends Error {
  constructor(readonly variable: string, readonly problem: string) {
    super(`${variable} ${problem}`);
    this.name = "GameEnvError";
  }
}

/** The limits set in `env`, as DefaultGameOptions; throws GameEnvError naming the variable for a bad value. */
export function limitsFromEnv(env: NodeJS.ProcessEnv): LimitOptions {
  const out: LimitOptions = {};
  for (const s of GAME_ENV_SETTINGS) {
    const raw = env[s.name];
    if (raw === undefined || raw.trim() === "") continue;
    const value = raw.trim();
    if (!/^\d+$/.test(value) || Number(value) < s.min || Number(value) > s.max) {
      throw new GameEnvError(s.name, `must be a whole number from ${s.min} to ${s.max} (${s.what}), got ${JSON.stringify(raw)}`);
    }
    out[s.option] = Number(value) * s.scale;
  }
  return out;
}
