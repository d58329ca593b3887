import { Worker } from "node:worker_threads";
import { ErrorCodes, PortalError } from "../../core/index.js";

/** What the bot keeps of one item. */
export interface FeedItem {
  guid?: string;
  title?: string;
  link?: string;
  date?: string;
}

export interface ParsedFeed {
  title: string;
  /** The first `maxItems` items, in document order (feeds put the newest first). */
  items: FeedItem[];
  /** Items in the document. */
  total: number;
}

export interface ParseLimits {
  timeoutMs: number;
  memoryMb: number;
  maxItems: number;
}

/** Not a feed, malformed, too big to parse in time or memory: the message is for `rss2chan/list`. */
export class FeedParseError extends PortalError {
  constructor(message: string) {
    super(ErrorCodes.FEED_PARSE, message);
  }
}

const WORKER = new URL("./parse-worker.js", import.meta.url);

/**
 * Parses a feed (RSS 0.9x, 1.0/RDF, 2.0, Atom) with rss-parser in a worker thread: the portal's
 * event loop never waits on it, its heap is capped at `memoryMb`, and it is terminated after
 * `timeoutMs`. XML entities are not expanded (rss-parser's XML reader refuses DTD entities).
 */
export function parseFeed(xml: string, limits: ParseLimits, stop?: AbortSignal): Promise<ParsedFeed> {
  return new Promise((resolve, reject) => {
    if (stop?.aborted) return reject(new FeedParseError("stopped"));
    const worker = new Worker(WORKER, {
      workerData: { xml, maxItems: limits.maxItems },
      resourceLimits: { maxOldGenerationSizeMb: limits.memoryMb, maxYoungGenerationSizeMb: Math.min(64, Math.max(8, limits.memoryMb / 4)) },
    });
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
      void worker.terminate();
    };
    const timer = setTimeout(() => finish(() => reject(new FeedParseError(`parsing took longer than ${limits.timeoutMs} ms`))), limits.timeoutMs);
    stop?.addEventListener("abort", () => finish(() => reject(new FeedParseError("stopped"))), { once: true });
    worker.once("message", (m: { ok: true; result: ParsedFeed } | { ok: false; error: string }) =>
      finish(() => (m.ok ? resolve(m.result) : reject(new FeedParseError(`not a feed: ${m.error}`)))));
    worker.once("error", (err: Error & { code?: string }) =>
      finish(() => reject(new FeedParseError(err.code === "ERR_WORKER_OUT_OF_MEMORY" ? `parsing needed more than ${limits.memoryMb} MB` : `parsing failed: ${err.message}`))));
    worker.once("exit", (code) => finish(() => reject(new FeedParseError(`the parser stopped (exit code ${code})`))));
  });
}
