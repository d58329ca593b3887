import { parsePluginConfig, z } from "../../core/index.js";

const P = "plugins.rss.RssBotFactory";
const int = (min: number, max: number) => z.int().min(min).max(max);

const httpUrl = z.string().refine((v) => {
  try {
    const u = new URL(v);
    return (u.protocol === "http:" || u.protocol === "https:") && u.hostname !== "";
  } catch {
    return false;
  }
}, "must be an http:// or https:// URL");

/** Evennia's key `rate` (seconds) is accepted for the interval. */
const aliases = (raw: unknown): unknown => {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return raw;
  const { rate, ...rest } = raw as Record<string, unknown>;
  return rate !== undefined && rest.intervalSeconds === undefined ? { ...rest, intervalSeconds: rate } : raw;
};

/** One feed bot's config: what the game sends with server-connect, under the operator's `plugins.settings`. */
export const rssConfigSchema = z.preprocess(aliases, z.strictObject({
  uid: z.union([z.string().min(1), z.number()]).describe("The game's id for this bot's session (it starts logged in with it), e.g. \"rss:3\"."),
  url: httpUrl.describe("The feed's address (RSS 0.9x, 1.0, 2.0 or Atom)."),
  intervalSeconds: int(1, 86_400).default(600).describe("Seconds between polls (Evennia: rate); raised to minIntervalSeconds."),
  minIntervalSeconds: int(1, 86_400).default(60).describe("The shortest interval allowed; set it in plugins.settings so the game cannot lower it."),
  validate: z.boolean().default(false).describe("Fetch and parse once while starting, and refuse to start when the URL is not a feed (used when a link is created)."),
  primeCount: int(0, 50).default(0).describe("On the first poll, post this many of the newest items (0: prime silently)."),
  template: z.string().min(1).max(500).refine((t) => /\{title\}|\{link\}/.test(t) && !/[\r\n\0]/.test(t), "must contain {title} or {link} and no line breaks")
    .default("{feed}: {title} {link}").describe("A posted item: {feed}, {title}, {link}, {date}; the game puts [channel] before it."),
  maxTitleLength: int(10, 2000).default(200).describe("Longer feed and item titles are cut (with …)."),
  maxPostsPerPoll: int(1, 1000).default(10).describe("New items posted per poll at most (the newest); the rest are counted in one line."),
  postIntervalMs: int(0, 60_000).default(1000).describe("Pause between two posts of one poll."),
  seenMax: int(10, 1_000_000).default(2000).describe("Item ids remembered per feed (persisted in the data directory)."),
  timeoutMs: int(100, 600_000).default(30_000).describe("A fetch (connect, redirects and body) is aborted after this long."),
  maxBytes: int(1024, 1024 * 1024 * 1024).default(5 * 1024 * 1024).describe("Larger feed bodies are refused; reading stops at the limit."),
  maxRedirects: int(0, 20).default(5).describe("Redirects followed per fetch."),
  maxItems: int(1, 1_000_000).default(1000).describe("Items of one document considered (the first ones, where feeds put the newest)."),
  parseTimeoutMs: int(100, 600_000).default(10_000).describe("Parsing (in a worker thread) is given up after this long."),
  parseMemoryMb: int(16, 4096).default(256).describe("Heap limit of the parsing worker."),
  backoff: z.strictObject({
    initialMs: int(100, 86_400_000).default(60_000),
    factor: z.number().min(1).max(10).default(2),
    maxMs: int(100, 86_400_000).default(6 * 3_600_000),
    jitter: z.number().min(0).max(1).default(0.2),
  }).prefault({}).describe("Retry delays after failed polls (never shorter than the poll interval)."),
}));

export type RssConfig = z.output<typeof rssConfigSchema>;

export function parseRssConfig(raw: unknown): RssConfig {
  return parsePluginConfig(P, rssConfigSchema, raw);
}
