/**
 * Parses one feed document off the portal's main thread (rss-parser's parseString is synchronous
 * and slow on big feeds) and posts back only what the bot uses. Runs in a worker thread with a heap
 * limit; the parent terminates it on a timeout.
 */
import { parentPort, workerData } from "node:worker_threads";
import type { FeedItem, ParsedFeed } from "./feed-parser.js";
import { feedReader } from "./feed-reader.js";

const { xml, maxItems } = workerData as { xml: string; maxItems: number };

const str = (v: unknown): string | undefined => (typeof v === "string" && v.trim() !== "" ? v : undefined);

async function main(): Promise<ParsedFeed> {
  const feed = await feedReader().parseString(xml);
  const items: FeedItem[] = [];
  for (const raw of (feed.items ?? []).slice(0, maxItems)) {
    const item = raw as Record<string, unknown>;
    const guid = str(item.guid) ?? str(item.id);
    items.push({
      ...(guid !== undefined ? { guid } : {}),
      ...(str(item.title) !== undefined ? { title: str(item.title)! } : {}),
      ...(str(item.link) !== undefined ? { link: str(item.link)! } : {}),
      ...(str(item.isoDate) ?? str(item.pubDate) ? { date: (str(item.isoDate) ?? str(item.pubDate))! } : {}),
    });
  }
  return { title: str(feed.title) ?? "", items, total: feed.items?.length ?? 0 };
}

main().then(
  (result) => parentPort!.postMessage({ ok: true, result }),
  (err: unknown) => parentPort!.postMessage({ ok: false, error: err instanceof Error ? err.message.split("\n")[0] : String(err) }),
);
