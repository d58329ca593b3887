import { expect } from "chai";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { sleep, waitFor } from "../../core/testing/wait-for.js";
import { FeedParseError, parseFeed } from "../../plugins/rss/feed-parser.js";
import { remember } from "../../plugins/rss/feed-state.js";
import { identityOf } from "../../plugins/rss/item-identity.js";
import { feedText, formatItem, safeLink } from "../../plugins/rss/item-text.js";
import { FeedServer, rss2, type FeedRoute } from "../support/feed-server.js";
import { docSeed, feedDoc } from "../support/fuzz/feed-docs.js";
import type { BulkResult } from "../support/fuzz/feed-parse-worker.js";
import { randomText } from "../support/fuzz/mutate.js";
import { Rng } from "../support/prng.js";
import { Canary, LONG, MemoryWatch, Rig, TortureReport, caseCount, expectUnharmed, fuzzSeed, pick, replayHint } from "../support/torture.js";

/**
 * Fuzzing of the RSS plugin's feed handling: random and mutated documents (every format, hostile
 * text and links, DTD entities, CDATA, deep nesting, huge attributes, truncation) through rss-parser
 * and the plugin's item handling (identity, text, links, the seen list) in bulk; a share of them
 * through the plugin's own parse worker (parseFeed: time and heap limits); and live feed bots polling
 * a feed server that answers with mutated documents, odd statuses, charsets, redirects and headers,
 * while a telnet canary keeps getting answers. Short form in `npm test`; PORTICO_TORTURE=long parses
 * >= 100 000 documents in bulk (the worker and live parts are bounded by time: a worker per parse and
 * a poll per second per bot are what the plugin does).
 */
const SEED = fuzzSeed(20261207);
const BAD_CHARS = /[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/;

/** Everything the plugin makes of one parsed document must be safe to post; returns what is wrong. */
function checkParsed(r: BulkResult): string[] {
  const problems: string[] = [];
  const items = r.items ?? [];
  for (const item of items) {
    const line = formatItem("{feed}: {title} {link} {date}", r.title ?? "", item, 200);
    if (BAD_CHARS.test(line)) problems.push(`control, bidi or line-break character in ${JSON.stringify(line.slice(0, 200))}`);
    if (line.replace(/\|\|/g, "").includes("|")) problems.push(`single | (markup) in ${JSON.stringify(line.slice(0, 200))}`);
    const title = feedText(item.title, 200);
    if ([...title.replace(/\|\|/g, "|")].length > 200) problems.push(`title of ${[...title].length} characters`);
    const link = safeLink(item.link);
    if (link !== "" && !/^https?:\/\//.test(link)) problems.push(`link ${JSON.stringify(link)} posted`);
    if (typeof identityOf(item) !== "string") problems.push("identity not a string");
  }
  const seen = remember(["a", "b"], items.map(identityOf), 50);
  if (seen.length > 50) problems.push(`seen list of ${seen.length}`);
  return problems;
}

describe("torture: feed fuzz (plugins.rss)", function () {
  this.timeout(LONG ? 600_000 : 60_000);

  it("bulk: mutated documents through rss-parser and the plugin's item handling: nothing throws, nothing unsafe is posted", async () => {
    const report = new TortureReport("feed/parse", SEED, new MemoryWatch());
    const cases = caseCount(2000, 100_000);
    const worker = new Worker(new URL("../support/fuzz/feed-parse-worker.js", import.meta.url), { resourceLimits: { maxOldGenerationSizeMb: 256 } });
    const failed = new Promise<never>((_, reject) => {
      worker.once("error", (err) => reject(new Error(`bulk parse worker died: ${err.message} (seed ${SEED}; replay: ${replayHint(SEED)})`)));
    });
    const batch = 250;
    let ok = 0;
    let rejected = 0;
    let items = 0;
    let slowest = { ms: 0, i: 0, bytes: 0 };
    const errors = new Map<string, number>();
    try {
      for (let from = 0; from < cases; from += batch) {
        const count = Math.min(batch, cases - from);
        let timer: NodeJS.Timeout | undefined;
        const results = await Promise.race([
          new Promise<BulkResult[]>((resolve) => {
            worker.once("message", resolve);
            worker.postMessage({ seed: SEED, from, count, maxItems: 1000 });
          }),
          failed,
          new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`documents ${from}..${from + count - 1} not parsed within 60 s (seed ${SEED})`)), 60_000))),
        ]);
        clearTimeout(timer);
        for (const r of results) {
          if (r.ms > slowest.ms) slowest = { ms: Math.round(r.ms), i: r.i, bytes: r.bytes };
          if (!r.ok) {
            rejected += 1;
            const key = (r.error ?? "").replace(/\d+/g, "N").slice(0, 60);
            errors.set(key, (errors.get(key) ?? 0) + 1);
            continue;
          }
          ok += 1;
          items += r.items?.length ?? 0;
          const problems = checkParsed(r);
          if (problems.length > 0) expect.fail(`document ${r.i} (docSeed ${docSeed(SEED, r.i)}, seed ${SEED}; replay: ${replayHint(SEED)}): ${problems.slice(0, 3).join("; ")}`);
        }
      }
    } finally {
      await worker.terminate();
    }
    report.count("documents", cases);
    Object.assign(report.notes, { parsed: ok, rejected, items, slowest, topErrors: Object.fromEntries([...errors].sort((a, b) => b[1] - a[1]).slice(0, 6)) });
    await report.memory.finish();
    await report.finish();
    expect(ok, "documents parsed").to.be.greaterThan(cases / 5);
    expect(rejected, "documents refused").to.be.greaterThan(cases / 50);
    expect(slowest.ms, `slowest document: ${JSON.stringify(slowest)}`).to.be.below(10_000);
  });

  it("the plugin's parse worker (parseFeed): each document parsed or refused with FeedParseError, within its time and heap limits, no worker left", async () => {
    const rng = new Rng(SEED ^ 0x0f0f);
    const report = new TortureReport("feed/worker", SEED, new MemoryWatch());
    const cases = pick(40, 800);
    const workersBefore = process.getActiveResourcesInfo().filter((r) => r === "MessagePort" || r === "Worker").length;
    const outcome = { parsed: 0, refused: 0 };
    const refusals = new Map<string, number>();
    let next = 0;
    const lane = async () => {
      while (next < cases) {
        const i = next++;
        const xml = rng.chance(0.02) ? `<?xml version="1.0"?><rss><channel>${"<item><title>t</title></item>".repeat(rng.range(20_000, 60_000))}</channel></rss>` : feedDoc(new Rng(docSeed(SEED ^ 0x0f0f, i)));
        try {
          const feed = await parseFeed(xml, { timeoutMs: 5000, memoryMb: 32, maxItems: 1000 });
          expect(feed.items.length, `document ${i}`).to.be.at.most(1000);
          expect(feed.total, `document ${i}`).to.be.at.least(feed.items.length);
          outcome.parsed += 1;
        } catch (err) {
          if (!(err instanceof FeedParseError)) throw new Error(`document ${i} (seed ${SEED}): ${(err as Error).stack}`);
          outcome.refused += 1;
          const key = err.message.replace(/\d+/g, "N").slice(0, 50);
          refusals.set(key, (refusals.get(key) ?? 0) + 1);
        }
      }
    };
    await Promise.all([lane(), lane(), lane()]);
    await sleep(200);
    const workersAfter = process.getActiveResourcesInfo().filter((r) => r === "MessagePort" || r === "Worker").length;
    report.count("documents", cases);
    Object.assign(report.notes, { ...outcome, refusals: Object.fromEntries(refusals) });
    await report.memory.finish();
    await report.finish();
    expect(outcome.parsed + outcome.refused).to.equal(cases);
    expect(workersAfter, "workers left running").to.be.at.most(workersBefore);
  });
});

describe("torture: feed fuzz against live feed bots", function () {
  this.timeout(LONG ? 600_000 : 60_000);
  let rig: Rig;
  let feeds: FeedServer;
  let canary: Canary | undefined;

  beforeEach(async () => {
    feeds = await FeedServer.start();
    rig = await Rig.start({ portal: { limits: { maxCommandRate: 0 } } });
  });

  afterEach(async () => {
    canary?.close();
    canary = undefined;
    await rig.stop();
    await feeds.close();
  });

  /** What a route answers next: mostly a (mutated) document, sometimes an error, redirect, odd headers, a hang or an endless body. */
  function route(rng: Rng, bots: number): FeedRoute {
    const headers: Record<string, string> = {};
    if (rng.chance(0.3)) headers["content-type"] = rng.pick(["application/rss+xml; charset=x-bogus", "text/xml; charset=\"latin1\"", "text/html", "application/atom+xml; charset=utf-16", "", "charset=;;;"]);
    if (rng.chance(0.1)) headers["retry-after"] = rng.pick(["0", "-5", "abc", "1", "1.5", "Wed, 21 Oct 2015 07:28:00 GMT"]);
    const k = rng.int(40);
    if (k === 0) return { status: rng.pick([404, 410, 500, 503, 429, 418]), headers, body: randomText(rng, 50) };
    if (k === 1) return { redirect: rng.pick([`/f${rng.int(bots)}`, "/loop", "ftp://127.0.0.1/x", "javascript:x", "http://127.0.0.1:1/", ""]) };
    if (k === 2) return { hang: true };
    if (k === 3) return { streamBytes: 2 * 1024 * 1024 };
    if (k === 4) return { status: 200, headers, body: Buffer.from(rng.bytes(rng.int(2000))) };
    return { status: 200, headers, body: feedDoc(rng), ...(rng.chance(0.2) ? { etag: rng.pick(['"e1"', "", 'W/"x"', `"${rng.int(1e9)}"`, "no quotes"]) } : {}), ...(rng.chance(0.1) ? { lastModified: rng.pick(["garbage", "Wed, 21 Oct 2015 07:28:00 GMT"]) } : {}) };
  }

  it("feed bots polling mutated documents, statuses and headers: no crash, fresh items still posted, the canary is answered throughout", async () => {
    const rng = new Rng(SEED ^ 0xfeed);
    const bots = pick(4, 10);
    const fuzzMs = pick(6000, 45_000);
    for (let b = 0; b < bots; b++) feeds.set(`/f${b}`, route(rng, bots));
    feeds.set("/loop", { redirect: "/loop" });
    canary = await Canary.telnet(rig.port(), "canary");
    for (let b = 0; b < bots; b++) {
      await rig.portal.launcher.launch("plugins.rss.RssBotFactory", {
        uid: `rss:${b}`, url: feeds.url(`/f${b}`), intervalSeconds: 1, minIntervalSeconds: 1, primeCount: 2, maxPostsPerPoll: 3, postIntervalMs: 0,
        timeoutMs: 2000, maxBytes: 256 * 1024, parseTimeoutMs: 3000, parseMemoryMb: 32, backoff: { initialMs: 100, factor: 1.5, maxMs: 1000, jitter: 0 },
      });
    }
    const report = new TortureReport("feed/live", SEED, new MemoryWatch());
    canary.start(50, 5000);
    const started = Date.now();
    while (Date.now() - started < fuzzMs) {
      for (let b = 0; b < bots; b++) feeds.set(`/f${b}`, route(rng, bots));
      await sleep(250);
    }

    // Every bot must still post a fresh item: a clean document with a new item (twice, in case a poll was in flight).
    const game = rig.game!;
    for (let round = 0; round < 2; round++) {
      for (let b = 0; b < bots; b++) feeds.set(`/f${b}`, { status: 200, body: rss2(`feed ${b}`, [{ title: `PROBE ${b} final`, guid: `probe-${SEED}-${b}`, link: "http://example.test/p" }]) });
      await sleep(1500);
    }
    await waitFor(() => Array.from({ length: bots }, (_, b) => b).every((b) => game.output.some((l) => l.startsWith("BOT rssbot ") && l.includes(`PROBE ${b} final`))), 10_000,
      () => `every bot posting its probe (got: ${JSON.stringify(game.output.filter((l) => l.startsWith("BOT ")))})`);
    const canaryResult = await canary.stop();
    report.count("polls", feeds.requests.length);
    const states = rig.portal.launcher.list().filter((p) => p.path === "plugins.rss.RssBotFactory").map((p) => p.status);
    const stateDir = join(rig.dataDir, "rss");
    const seenStateKb = Math.round(readdirSync(stateDir).reduce((a, f) => a + statSync(join(stateDir, f)).size, 0) / 1024);
    Object.assign(report.notes, {
      bots, seenStateKb, fetches: states.reduce((a, s) => a + Number(s.fetches ?? 0), 0), parses: states.reduce((a, s) => a + Number(s.parses ?? 0), 0),
      failures: states.reduce((a, s) => a + Number(s.totalFailures ?? 0), 0), posted: states.reduce((a, s) => a + Number(s.posted ?? 0), 0), traffic: rig.traffic, log: rig.logger.counts, topWarnings: rig.logger.top(),
    });
    await rig.settleSessions(1 + bots);
    await report.memory.finish();
    await report.finish([canaryResult]);

    await expectUnharmed(rig, [canary], report.memory);
  });
});
