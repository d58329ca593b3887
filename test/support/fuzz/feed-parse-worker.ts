/**
 * The feed fuzz target's bulk parser (test/torture/fuzz-feed.test.ts), in a worker thread with a
 * heap limit like the plugin's own parse worker: for each case number it regenerates the document
 * from the run's seed, parses it with the plugin's reader (plugins/rss/feed-reader.ts) and keeps what
 * the plugin's parse-worker.ts keeps of each item (the same field choices), plus the time it took.
 */
import { performance } from "node:perf_hooks";
import { parentPort } from "node:worker_threads";
import type { FeedItem } from "../../../plugins/rss/feed-parser.js";
import { feedReader } from "../../../plugins/rss/feed-reader.js";
import { Rng } from "../prng.js";
import { docSeed, feedDoc } from "./feed-docs.js";

export interface BulkResult {
  i: number;
  ms: number;
  bytes: number;
  ok: boolean;
  error?: string;
  title?: string;
  items?: FeedItem[];
  total?: number;
}

const str = (v: unknown): string | undefined => (typeof v === "string" && v.trim() !== "" ? v : undefined);

parentPort!.on("message", (job: { seed: number; from: number; count: number; maxItems: number }) => {
  void (async () => {
    const out: BulkResult[] = [];
    for (let i = job.from; i < job.from + job.count; i++) {
      const xml = feedDoc(new Rng(docSeed(job.seed, i)));
      const t0 = performance.now();
      try {
        const feed = await feedReader().parseString(xml);
        const items: FeedItem[] = (feed.items ?? []).slice(0, job.maxItems).map((raw) => {
          const it = raw as Record<string, unknown>;
          const guid = str(it.guid) ?? str(it.id);
          const date = str(it.isoDate) ?? str(it.pubDate);
          return { ...(guid !== undefined ? { guid } : {}), ...(str(it.title) !== undefined ? { title: str(it.title)! } : {}), ...(str(it.link) !== undefined ? { link: str(it.link)! } : {}), ...(date !== undefined ? { date } : {}) };
        });
        out.push({ i, ms: performance.now() - t0, bytes: xml.length, ok: true, title: str(feed.title) ?? "", items, total: feed.items?.length ?? 0 });
      } catch (err) {
        out.push({ i, ms: performance.now() - t0, bytes: xml.length, ok: false, error: err instanceof Error ? err.message.split("\n")[0] : String(err) });
      }
    }
    parentPort!.postMessage(out);
  })();
});
