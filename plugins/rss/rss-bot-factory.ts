import { Backoff, ErrorCodes, OutboundBot, PortalError, errorMessage, type TimerHandle } from "../../core/index.js";
import type { RssConfig } from "./config.js";
import { fetchFeed, FeedFetchError } from "./feed-fetcher.js";
import { parseFeed, type FeedItem } from "./feed-parser.js";
import { FeedStateStore, remember, type FeedState } from "./feed-state.js";
import { identityOf } from "./item-identity.js";
import { feedText, formatItem } from "./item-text.js";
import { RssBotSession } from "./rss-bot-session.js";

/** `2026-12-04T17:40:01Z`: times in the bot's state line. */
const stamp = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

/**
 * One feed bot: polls a feed at its interval (never below the operator's minimum), primes silently on
 * its first poll, posts only new items (oldest first, paced, at most `maxPostsPerPoll` per poll), keeps
 * a bounded seen-set and the conditional-GET validators in the data directory, and backs off (with
 * jitter, never faster than the interval, Retry-After honoured) while the feed fails. Failures are
 * shown in the bot's state and logged, never posted.
 */
export class RssBotFactory extends OutboundBot<RssConfig, RssBotSession> {
  private store: FeedStateStore | undefined;
  private feed: FeedState | undefined;
  private backoff: Backoff | undefined;
  private pollTimer: TimerHandle | undefined;
  private postTimer: TimerHandle | undefined;
  private readonly queue: string[] = [];
  private readonly halt = new AbortController();
  private polling = false;
  private readonly stats = {
    fetches: 0, notModified: 0, parses: 0, failures: 0, totalFailures: 0, posted: 0, items: 0,
    lastFetchAt: 0, lastFetch: "", lastNewAt: 0, lastError: "", nextPollAt: 0,
  };

  /** The poll interval in ms: the configured one, raised to the minimum. */
  private get intervalMs(): number {
    return Math.max(this.config.intervalSeconds, this.config.minIntervalSeconds) * 1000;
  }

  protected createSession(): RssBotSession {
    return new RssBotSession(this.config);
  }

  protected async connect(): Promise<void> {
    const { config } = this;
    this.backoff = new Backoff(config.backoff);
    if (this.ctx.portal.dataDir === "") throw new FeedFetchError("the portal has no data directory to keep the feed's state in");
    this.store = new FeedStateStore(this.ctx.portal.dataDir, config.uid, config.url);
    this.feed = this.store.load(config.url);
    if (config.intervalSeconds < config.minIntervalSeconds) {
      this.logger.info({ interval: config.intervalSeconds, minimum: config.minIntervalSeconds }, "feed interval raised to the minimum");
    }
    if (config.validate) await this.poll(true);
    else this.schedule(0);
  }

  protected disconnect(): void {
    this.halt.abort();
    this.ctx.clock.clearTimeout(this.pollTimer);
    this.ctx.clock.clearTimeout(this.postTimer);
    this.pollTimer = this.postTimer = undefined;
    this.queue.length = 0;
  }

  override status(): Record<string, unknown> {
    const { stats } = this;
    return {
      ...super.status(), url: this.config.url, intervalSeconds: this.intervalMs / 1000,
      fetches: stats.fetches, notModified: stats.notModified, parses: stats.parses, failures: stats.failures, totalFailures: stats.totalFailures,
      posted: stats.posted, items: stats.items, queued: this.queue.length,
      lastFetch: stats.lastFetchAt ? stamp(stats.lastFetchAt) : null, lastNewItem: stats.lastNewAt ? stamp(stats.lastNewAt) : null,
      lastError: stats.lastError || null, nextPoll: stats.nextPollAt ? stamp(stats.nextPollAt) : null,
    };
  }

  // ---- polling ----

  private schedule(delayMs: number): void {
    if (this.halt.signal.aborted) return;
    const clock = this.ctx.clock;
    clock.clearTimeout(this.pollTimer);
    this.stats.nextPollAt = clock.now() + delayMs;
    this.pollTimer = clock.setTimeout(() => {
      this.pollTimer = undefined;
      void this.poll(false);
    }, delayMs);
    this.showState();
  }

  /** One fetch-parse-post round; `rethrow`: a failure rejects (the validating first poll at start). */
  private async poll(rethrow: boolean): Promise<void> {
    if (this.polling || this.halt.signal.aborted) return;
    this.polling = true;
    const { config, ctx } = this;
    const stop = this.halt.signal;
    try {
      const res = await fetchFeed(config.url, this.feed!.validators, {
        timeoutMs: rethrow ? Math.min(config.timeoutMs, 8000) : config.timeoutMs, maxBytes: config.maxBytes,
        maxRedirects: config.maxRedirects, userAgent: `Portico/${ctx.portal.version} (feed reader; ${ctx.portal.serverName})`,
      }, stop);
      this.stats.fetches += 1;
      this.stats.lastFetchAt = ctx.clock.now();
      if (res.status === "not-modified") {
        this.stats.notModified += 1;
        this.stats.lastFetch = "not modified";
      } else {
        this.stats.parses += 1;
        const feed = await parseFeed(res.body, { timeoutMs: config.parseTimeoutMs, memoryMb: config.parseMemoryMb, maxItems: config.maxItems }, stop);
        this.stats.items = feed.total;
        this.stats.lastFetch = `${feed.total} item${feed.total === 1 ? "" : "s"}`;
        this.take(feed.title, feed.items, res.validators);
      }
      this.stats.failures = 0;
      this.backoff!.reset();
      this.schedule(this.intervalMs);
    } catch (err) {
      if (stop.aborted) return;
      this.failed(err);
      if (rethrow) throw err;
    } finally {
      this.polling = false;
    }
  }

  /**
   * Diffs the items against the seen-set, saves the new state, and only then remembers it and queues what is new. A
   * save that fails throws (PORTAL_ERR_DATA_DIR, a failed poll) with nothing remembered or posted: the next poll finds
   * the same entries new and tries again, so none is lost and none is posted twice.
   */
  private take(feedTitle: string, items: FeedItem[], validators: FeedState["validators"]): void {
    const { config } = this;
    const state = this.feed!;
    const ids = items.map(identityOf);
    let posts: FeedItem[] = [];
    let skipped = 0;
    if (!state.primed) {
      posts = items.slice(0, config.primeCount).reverse();
    } else {
      const seen = new Set(state.seen);
      const fresh: FeedItem[] = [];
      items.forEach((item, i) => {
        if (seen.has(ids[i]!)) return;
        seen.add(ids[i]!); // a duplicate id within one document is one item
        fresh.push(item);
      });
      posts = fresh.slice(0, config.maxPostsPerPoll).reverse();
      skipped = fresh.length - posts.length;
    }
    const next: FeedState = { url: state.url, primed: true, validators, seen: remember(state.seen, ids, config.seenMax) };
    // Saved before posting: a crash now loses at most these posts, and never posts them twice.
    this.store!.save(next);
    this.feed = next;
    if (posts.length === 0) return;
    this.stats.lastNewAt = this.ctx.clock.now();
    const feed = feedText(feedTitle, config.maxTitleLength) || "feed";
    if (skipped > 0) this.queue.push(`${feed}: ${skipped} more new item${skipped === 1 ? "" : "s"} not shown`);
    for (const item of posts) this.queue.push(formatItem(config.template, feedTitle, item, config.maxTitleLength));
    this.drain();
  }

  private drain(): void {
    if (this.postTimer !== undefined || this.halt.signal.aborted) return;
    const line = this.queue.shift();
    if (line === undefined) return;
    this.session?.post(line, { feed: this.config.url });
    this.stats.posted += 1;
    if (this.queue.length === 0) return;
    this.postTimer = this.ctx.clock.setTimeout(() => {
      this.postTimer = undefined;
      this.drain();
    }, this.config.postIntervalMs);
  }

  private failed(err: unknown): void {
    const stats = this.stats;
    stats.failures += 1;
    stats.totalFailures += 1;
    const message = errorMessage(err).split("\n")[0]!.slice(0, 200);
    stats.lastError = `${stamp(this.ctx.clock.now())} ${message}`;
    const code = err instanceof PortalError ? err.code : ErrorCodes.FEED_FETCH;
    this.logger.warn({ code, url: this.config.url, failures: stats.failures }, `feed poll failed: ${message}`);
    // The state could not be saved: the feed is fine, so no back-off; the next poll (one log line per interval) tries again.
    if (code === ErrorCodes.DATA_DIR) return this.schedule(this.intervalMs);
    const retryAfter = err instanceof FeedFetchError ? err.retryAfterMs ?? 0 : 0;
    this.schedule(Math.max(this.intervalMs, this.backoff!.next(), retryAfter));
  }

  /** The one-line state `rss2chan/list` shows (the session's BOT_STATE). */
  private showState(): void {
    const s = this.stats;
    const parts = [
      s.failures > 0 ? `failing (${s.failures} in a row)` : s.fetches > 0 ? "ok" : "starting",
      `every ${this.intervalMs / 1000}s`,
      `last fetch ${s.lastFetchAt ? `${stamp(s.lastFetchAt)} (${s.lastFetch})` : "never"}`,
      `last new item ${s.lastNewAt ? stamp(s.lastNewAt) : "none yet"}`,
      `${s.totalFailures} failure${s.totalFailures === 1 ? "" : "s"}${s.lastError ? `, last: ${s.lastError}` : ""}`,
      `next poll ${s.nextPollAt ? stamp(s.nextPollAt) : "-"}`,
    ];
    this.session?.setBotState(parts.join("; "));
  }
}
