import { expect } from "chai";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { sleep, waitFor } from "../../core/testing/wait-for.js";
import { rss2, type ItemSpec } from "../support/feed-server.js";
import { Canary, LONG, MemoryWatch, Rig, TortureReport, expectUnharmed, fuzzSeed, pick } from "../support/torture.js";

/**
 * Fault: the feed goes away. The RSS bot (plugins.rss, Node fetch + rss-parser in a worker) polls a
 * real node:http server on loopback, which then fails in each of the ways a feed host does, on the
 * same port: closed (connection refused), hanging (accepts, reads the request, never answers), HTTP
 * 500, and then back with new entries. What plugins/rss/README.md and docs/errors.md promise:
 * - no crash; each failed poll is one warn line (PORTAL_ERR_FEED_FETCH, the url, failures in a row,
 *   the reason: ECONNREFUSED, `no complete answer within <timeoutMs> ms`, `HTTP 500 ...`), shown in
 *   BOT_STATE (`failing (n in a row)`, `last: <time> <reason>`), never posted to the channel;
 * - polls while failing follow the back-off (never sooner than the interval), so the log and the
 *   requests are bounded by the schedule, not one per retry in a loop;
 * - a hanging server is given up at timeoutMs and its connection closed (no pile of open sockets);
 * - when the feed is back, the entries that are new are posted exactly once, the ones seen before
 *   the outage never again, and the bot is `ok` with its failure count reset;
 * - a logged-in telnet canary is answered throughout; timers and sockets come back to their level.
 * Short form: one failed poll per kind of failure; PORTICO_TORTURE=long: several per kind, twice over.
 */
const SEED = fuzzSeed(20261214);
const BOT = "plugins.rss.RssBotFactory";
const TIMEOUT_MS = 700;
const BACKOFF = { initialMs: 500, factor: 1.5, maxMs: 1500, jitter: 0 };
const INTERVAL_MS = 1000;

type Mode = "up" | "hang" | "500";

/** A feed host on one port that can be up, hanging, failing with 500, or closed altogether (refusing connections). */
class FlakyFeed {
  mode: Mode = "up";
  body = "";
  port = 0;
  readonly requests: { time: number; mode: Mode }[] = [];
  /** Connections open right now, and the most there ever were at once. */
  readonly sockets = new Set<Socket>();
  maxOpen = 0;
  private server: Server | undefined;

  url(): string {
    return `http://127.0.0.1:${this.port}/feed.xml`;
  }

  /** Listens on the port it had (port 0 the first time); a port still in use is retried for a while. */
  async open(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const server = createServer((req, res) => this.handle(req, res));
      server.on("connection", (s: Socket) => {
        this.sockets.add(s);
        this.maxOpen = Math.max(this.maxOpen, this.sockets.size);
        s.on("error", () => undefined);
        s.on("close", () => this.sockets.delete(s));
      });
      try {
        await new Promise<void>((resolve, reject) => {
          server.once("error", reject);
          server.listen(this.port, "127.0.0.1", () => resolve());
        });
        this.server = server;
        this.port = (server.address() as { port: number }).port;
        return;
      } catch (err) {
        if (attempt >= 50) throw new Error(`the feed server could not listen on port ${this.port} again: ${(err as Error).message}`);
        await sleep(100);
      }
    }
  }

  /** Stops listening and drops every connection: from now on connections are refused. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    this.requests.push({ time: Date.now(), mode: this.mode });
    req.resume();
    if (this.mode === "hang") return; // never answered; the client must give up
    if (this.mode === "500") return void res.writeHead(500, { "content-type": "text/plain" }).end("upstream exploded");
    res.writeHead(200, { "content-type": "application/rss+xml; charset=utf-8" }).end(this.body);
  }
}

const item = (n: number): ItemSpec => ({ title: `PROBE item ${n}`, guid: `fault-${SEED}-${n}`, link: `http://example.test/items/${n}` });
/** The feed lists the newest first. */
const feed = (...ns: number[]) => rss2("Fault feed", ns.slice().reverse().map(item));

/** Active timers and sockets of this process (the portal runs in it). */
function resources(): { timers: number; sockets: number } {
  const all = process.getActiveResourcesInfo();
  return { timers: all.filter((r) => r === "Timeout").length, sockets: all.filter((r) => r === "TCPSocketWrap").length };
}

describe("torture: fault: the feed host refuses, hangs, fails and comes back (plugins.rss)", function () {
  this.timeout(LONG ? 600_000 : 60_000);
  let rig: Rig;
  let host: FlakyFeed;
  let canary: Canary | undefined;

  beforeEach(async () => {
    host = new FlakyFeed();
    await host.open();
    rig = await Rig.start({ portal: { limits: { maxCommandRate: 0 } } });
    canary = await Canary.telnet(rig.port(), "canary");
  });

  afterEach(async () => {
    canary?.close();
    canary = undefined;
    await rig.stop();
    await host.close();
  });

  const status = () => rig.portal.launcher.list().find((p) => p.path === BOT)!.status as Record<string, unknown> & { totalFailures: number; failures: number; fetches: number; posted: number; bot: string };
  /** What the game received from the bot (the echo game prints bot input containing PROBE). */
  const posts = () => rig.game!.output.filter((l) => l.startsWith("BOT rssbot ")).map((l) => l.slice("BOT rssbot ".length));
  const postsOf = (n: number) => posts().filter((p) => p === `Fault feed: PROBE item ${n} http://example.test/items/${n}`).length;
  /** The warn lines of failed polls (CountingLogger keeps the first 50 warn/error entries with their fields). */
  const pollWarnings = () => rig.logger.notable.filter((e) => e.level === "warn" && e.msg.startsWith("feed poll failed: "));

  it("closed, hanging, 500, back with new entries: one clear warn line per failed poll on the back-off schedule, new entries posted once, none re-posted, the canary served", async () => {
    const rounds = pick(1, 2);
    const perKind = pick(1, 3);
    const report = new TortureReport("fault/feed-down", SEED, new MemoryWatch());
    let next = 1;
    const listed: number[] = [];
    const add = (k: number) => {
      for (let i = 0; i < k; i++) listed.push(next++);
      host.body = feed(...listed);
    };
    add(3); // 1..3: remembered silently on the first poll
    await rig.portal.launcher.launch(BOT, {
      uid: "rss:fault", url: host.url(), intervalSeconds: 1, minIntervalSeconds: 1, primeCount: 0, postIntervalMs: 0,
      timeoutMs: TIMEOUT_MS, backoff: BACKOFF,
    });
    await waitFor(() => status().fetches >= 1, 5000, "the first poll");
    add(1); // 4: posted once before any outage
    await waitFor(() => postsOf(4) === 1, 5000, () => `item 4 posted (posts: ${JSON.stringify(posts())})`);
    const before = resources();
    canary!.start(50, 5000);

    const failures: { kind: string; round: number; time: number; state: string }[] = [];
    let round = 0;
    /** Waits for `n` more failed polls, noting the state each leaves. */
    const fail = async (kind: string, n: number) => {
      for (let i = 0; i < n; i++) {
        const had = status().totalFailures;
        await waitFor(() => status().totalFailures > had, 4 * BACKOFF.maxMs + TIMEOUT_MS, () => `a failed poll (${kind}; status ${JSON.stringify(status())})`, 10);
        failures.push({ kind, round, time: Date.now(), state: status().bot });
        report.count(kind);
      }
    };
    const outages: { from: number; to: number; newItems: number[] }[] = [];
    for (let r = 0; r < rounds; r++) {
      round = r;
      const from = Date.now();
      const seenBefore = listed.slice();
      await host.close();
      await fail("refused", perKind);
      add(1); // the feed moves on while the bot cannot see it
      host.mode = "hang";
      await host.open();
      await fail("hang", perKind);
      expect(host.maxOpen, "connections open at once at the hanging host").to.be.at.most(2);
      add(1);
      host.mode = "500";
      await fail("http500", perKind);
      add(2);
      host.mode = "up";
      const fresh = listed.filter((n) => !seenBefore.includes(n));
      await waitFor(() => fresh.every((n) => postsOf(n) >= 1), 4 * BACKOFF.maxMs, () => `items ${fresh.join(", ")} posted after the outage (posts: ${JSON.stringify(posts())}; status ${JSON.stringify(status())})`);
      outages.push({ from, to: Date.now(), newItems: fresh });
      // Another poll of the same document: nothing more is posted.
      const fetched = status().fetches;
      await waitFor(() => status().fetches >= fetched + 1, 5000, "another poll");
      await sleep(100);
    }
    const canaryResult = await canary!.stop();
    await sleep(300);
    const after = resources();
    const warnings = pollWarnings();
    const s = status();

    Object.assign(report.notes, {
      polls: host.requests.length, failures: failures.length, maxOpenAtHost: host.maxOpen, reasons: [...new Set(warnings.map((w) => w.msg.replace(/\d+/g, "N")))],
      outagesMs: outages.map((o) => o.to - o.from), resources: { before, after }, state: s.bot, log: rig.logger.counts,
    });
    await report.memory.finish();
    await report.finish([canaryResult]);

    // Every item that was ever new is posted exactly once; the ones from before an outage never again.
    const counts = Object.fromEntries(listed.map((n) => [n, postsOf(n)]));
    expect(counts, `posts: ${JSON.stringify(posts())}`).to.deep.equal(Object.fromEntries(listed.map((n) => [n, n <= 3 ? 0 : 1])));
    expect(posts().filter((p) => !p.startsWith("Fault feed: PROBE item ")), "anything else posted (a failure must never be)").to.deep.equal([]);
    // One warn line per failed poll, coded, with the url, the count in a row, and the reason.
    expect(warnings.length, "warn lines of failed polls").to.equal(failures.length);
    expect(rig.logger.counts.warn, `all warnings: ${JSON.stringify(rig.logger.top())}`).to.equal(failures.length);
    const reasons: Record<string, RegExp> = { refused: /ECONNREFUSED/, hang: new RegExp(`no complete answer within ${TIMEOUT_MS} ms`), http500: /HTTP 500 Internal Server Error/ };
    for (const [i, f] of failures.entries()) {
      const inARow = failures.slice(0, i + 1).filter((g) => g.round === f.round).length; // the count starts again after a good poll
      const w = warnings[i]!;
      expect(w.msg, `failure ${i} (${f.kind})`).to.match(reasons[f.kind]!);
      expect(JSON.parse(w.fields), `failure ${i} fields`).to.deep.include({ code: "PORTAL_ERR_FEED_FETCH", url: host.url(), failures: inARow });
      expect(f.state, `BOT_STATE after failure ${i}`).to.match(new RegExp(`^failing \\(${inARow} in a row\\);.*last: \\S+ ${reasons[f.kind]!.source}`));
    }
    // The polls while failing follow the back-off: after the k-th failure in a row the next poll waits
    // max(interval, initialMs × factor^(k-1), capped at maxMs), so the log and the requests are bounded by it.
    for (const [r, o] of outages.entries()) {
      const inRound = failures.filter((f) => f.round === r);
      for (let k = 1; k < inRound.length; k++) {
        const wait = Math.max(INTERVAL_MS, Math.min(BACKOFF.maxMs, BACKOFF.initialMs * BACKOFF.factor ** (k - 1)));
        const gap = inRound[k]!.time - inRound[k - 1]!.time;
        expect(gap, `round ${r}: time between failures ${k} and ${k + 1} (the wait is ${wait} ms)`).to.be.at.least(wait - 50);
      }
      const served = host.requests.filter((q) => q.time > o.from && q.time < o.to && q.mode !== "up").length;
      expect(served, `round ${r}: requests the hanging or failing host got`).to.equal(2 * perKind);
    }
    const polls = host.requests.length;
    expect(polls, "polls in all").to.be.at.most(Math.ceil(report.elapsedMs / INTERVAL_MS) + 8);
    expect(s, "the bot after the outages").to.deep.include({ failures: 0, state: "running" });
    expect(s.bot, "BOT_STATE after the outages").to.match(/^ok; /);
    expect(after.timers, `timers ${JSON.stringify({ before, after })}`).to.be.at.most(before.timers + 2);
    expect(after.sockets, `sockets ${JSON.stringify({ before, after })}`).to.be.at.most(before.sockets + 1);
    expect(host.sockets.size, "connections left open at the host").to.be.at.most(1);
    await expectUnharmed(rig, [canary!], report.memory);
  });
});
