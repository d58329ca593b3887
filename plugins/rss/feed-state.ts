import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ErrorCodes, PortalError, errorMessage } from "../../core/index.js";
import type { Validators } from "./feed-fetcher.js";

/** What one feed bot remembers across portal restarts and game reloads. */
export interface FeedState {
  url: string;
  /** True once a poll succeeded: later polls post what is new. */
  primed: boolean;
  validators: Validators;
  /** Ids of items seen, oldest first, at most `seenMax`. */
  seen: string[];
}

/**
 * One JSON file per feed bot under `<dataDir>/rss/` (named by a hash of the bot's uid and URL),
 * written atomically (temp file, then rename). An unreadable file starts afresh, primed = false, so a
 * lost file never floods the channel.
 */
export class FeedStateStore {
  private readonly file: string;

  constructor(dataDir: string, uid: string | number, url: string) {
    const dir = join(dataDir, "rss");
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.file = join(dir, `${createHash("sha256").update(`${String(uid)}\n${url}`).digest("hex").slice(0, 32)}.json`);
  }

  load(url: string): FeedState {
    try {
      const s = JSON.parse(readFileSync(this.file, "utf8")) as Partial<FeedState>;
      if (s.url === url && Array.isArray(s.seen) && typeof s.primed === "boolean") {
        return { url, primed: s.primed, validators: { ...(s.validators ?? {}) }, seen: s.seen.filter((x): x is string => typeof x === "string") };
      }
    } catch {
      // none yet, or unreadable: start afresh
    }
    return { url, primed: false, validators: {}, seen: [] };
  }

  /** Writes `state` whole or not at all (the file keeps the last saved state); a failure throws PORTAL_ERR_DATA_DIR. */
  save(state: FeedState): void {
    const tmp = `${this.file}.tmp`;
    try {
      writeFileSync(tmp, JSON.stringify(state), { mode: 0o600 });
      renameSync(tmp, this.file);
    } catch (err) {
      try {
        rmSync(tmp, { force: true }); // a partial write must not hold on to the space of a full disk
      } catch {
        // nothing more to do
      }
      // Node names the temp file's path ("ENOSPC: no space left on device, write"; "..., open '<path>.tmp'"): the state file instead.
      const why = errorMessage(err).replace(/, (open|write|rename|close)\b.*$/s, "");
      throw new PortalError(ErrorCodes.DATA_DIR, `could not save the feed's state in ${this.file}: ${why}`, { file: this.file }, { cause: err });
    }
  }
}

/**
 * The seen list after a poll: the ids in the current document move to the newest end (so an item
 * stays remembered as long as the feed still lists it), then the oldest are dropped past `max`.
 */
export function remember(seen: readonly string[], current: readonly string[], max: number): string[] {
  const now = new Set(current);
  const next = [...seen.filter((id) => !now.has(id)), ...now];
  return next.length > max ? next.slice(next.length - max) : next;
}
