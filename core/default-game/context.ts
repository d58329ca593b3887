/** What every part of the default game shares: the SDK handle, the store, the services and settings. */
import type { GameSessionHandler, StopMode } from "../game/index.js";
import type { AccountService } from "./accounts.js";
import type { AttemptLimiter } from "./attempt-limiter.js";
import type { GameDb } from "./db.js";
import type { GameLogger } from "./log.js";

export interface GameSettings {
  serverName: string;
  /** Wait before answering a wrong password. */
  failDelayMs: number;
}

export interface GameContext {
  readonly game: GameSessionHandler;
  readonly db: GameDb;
  readonly accounts: AccountService;
  /** Failed logins per address. */
  readonly limiter: AttemptLimiter;
  /** Failed logins per account name (lower-cased), from any address; locks the name for a cooldown. */
  readonly accountLimiter: AttemptLimiter;
  /** Accounts created per address. */
  readonly createLimiter: AttemptLimiter;
  /** Channels created per address. */
  readonly channelLimiter: AttemptLimiter;
  readonly settings: GameSettings;
  readonly log: GameLogger;
  /** When this game process started (ms epoch). */
  readonly startedAt: number;
  /** True once a stop began: input is no longer taken. */
  readonly stopping: boolean;
  /** Stops this game process: announce the stop, hand sessions back, close the store, exit 0. */
  requestStop(mode: StopMode): Promise<void>;
  /** Asks the portal to shut down, then stops this process once the link drops. */
  requestPortalShutdown(): void;
}
