import { expect } from "chai";
import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PortalError } from "../../core/index.js";
import { PluginTestBed, sleep, waitFor, type LaunchedPlugin } from "../../core/testing/index.js";
import { rssManifest } from "../../plugins/rss/index.js";
import { atom, FeedServer, rdf, rss2, type ItemSpec } from "../support/feed-server.js";

// The feed bot against real HTTP on 127.0.0.1 (node:http fixture feeds), with a scripted fake game:
// priming, new items once each in order, restarts, conditional GET, every failure a feed server can
// produce, and hostile documents. Polls run every second (minIntervalSeconds 1).
describe("RSS bot (plugins.rss.RssBotFactory) against node:http feeds", function () {
  this.timeout(30_000);
  let server: FeedServer;
  let dataDir: string;
  let bed: PluginTestBed | undefined;
  const beds: PluginTestBed[] = [];

  const items = (...n: number[]): ItemSpec[] => n.map((i) => ({ title: `Item ${i}`, guid: `id-${i}`, link: `http://example.test/${i}` }));

  function newBed(settings: Record<string, unknown> = {}): PluginTestBed {
    const b = new PluginTestBed({ plugins: [rssManifest], dataDir, launcher: { settings: { "plugins.rss.RssBotFactory": settings } } });
    beds.push(b);
    bed = b;
    return b;
  }

  async function launch(config: Record<string, unknown> = {}, path = "/feed.xml", b = bed ?? newBed()): Promise<LaunchedPlugin> {
    return b.launch("plugins.rss.RssBotFactory", { uid: "rss:1", url: server.url(path), intervalSeconds: 1, minIntervalSeconds: 1, postIntervalMs: 0, ...config });
  }

  const posts = (b = bed!) => b.game.inputs.filter((i) => i.name === "bot_data_in").map((i) => String(i.args[0]));
  const status = (p: LaunchedPlugin) => p.status() as Record<string, number | string | null>;
  const polls = (path = "/feed.xml") => server.requestsFor(path).length;
  async function waitPolls(n: number, path = "/feed.xml"): Promise<void> {
    await waitFor(() => polls(path) >= n, 5000, `${n} polls of ${path}`);
    await sleep(150); // the parse and post of that poll
  }

  beforeEach(async () => {
    server = await FeedServer.start();
    dataDir = mkdtempSync(join(tmpdir(), "portico-rss-"));
    bed = undefined;
  });

  afterEach(async () => {
    for (const b of beds.splice(0)) await b.stop();
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("reads RSS 0.91, RSS 1.0 (RDF), RSS 2.0 and Atom: each primes silently, then posts a new item as `<feed>: <title> <link>`", async () => {
    const formats: [string, (t: string, i: ItemSpec[]) => string][] = [
      ["/091.xml", (t, i) => rss2(t, i, "0.91")], ["/rdf.xml", rdf], ["/rss2.xml", (t, i) => rss2(t, i)], ["/atom.xml", atom],
    ];
    newBed();
    for (const [path, make] of formats) server.set(path, { body: make(`Feed ${path}`, items(1, 2)) });
    for (const [path] of formats) await launch({ uid: `rss:${path}` }, path);
    for (const [path] of formats) await waitPolls(1, path);
    expect(posts()).to.deep.equal([]);
    for (const [path, make] of formats) server.set(path, { body: make(`Feed ${path}`, items(3, 1, 2)) });
    await waitFor(() => posts().length === 4, 5000, "one post per format");
    expect(posts().sort()).to.deep.equal(formats.map(([path]) => `Feed ${path}: Item 3 http://example.test/3`).sort());
    expect(bed!.game.inputs.find((i) => i.name === "bot_data_in")!.kwargs).to.include({ type: "rss" });
  });

  it("posts two new items once each, oldest first; later polls and a restart of the portal re-post nothing", async () => {
    server.set("/feed.xml", { body: rss2("News", items(1)) });
    const plugin = await launch();
    await waitPolls(1);
    expect(posts()).to.deep.equal([]);
    server.set("/feed.xml", { body: rss2("News", items(3, 2, 1)) });
    await waitFor(() => posts().length === 2, 5000, "two posts");
    await waitPolls(polls() + 2);
    expect(posts()).to.deep.equal(["News: Item 2 http://example.test/2", "News: Item 3 http://example.test/3"]);
    expect(status(plugin)).to.include({ posted: 2, failures: 0 });
    expect(String(plugin.factory && status(plugin).lastNewItem)).to.match(/^\d{4}-\d\d-\d\dT/);

    await bed!.stop();
    const again = newBed();
    await launch({}, "/feed.xml", again);
    await waitPolls(polls() + 2);
    expect(posts(again)).to.deep.equal([]);
    server.set("/feed.xml", { body: rss2("News", items(4, 3, 2, 1)) });
    await waitFor(() => posts(again).length === 1, 5000, "the new item after the restart");
    expect(posts(again)).to.deep.equal(["News: Item 4 http://example.test/4"]);
  });

  it("a state file that cannot be saved: PORTAL_ERR_DATA_DIR, no crash, nothing posted or remembered; once it can, the entries are posted exactly once", async () => {
    server.set("/feed.xml", { body: rss2("News", items(1)) });
    const plugin = await launch({ backoff: { initialMs: 1000, factor: 10, maxMs: 60_000, jitter: 0 } });
    await waitPolls(1);
    // Saving fails, as root too: the state directory becomes a regular file (ENOTDIR), the real one is set aside.
    const dir = join(dataDir, "rss");
    renameSync(dir, `${dir}.aside`);
    writeFileSync(dir, "not a directory");
    server.set("/feed.xml", { body: rss2("News", items(3, 2, 1)) });
    await waitFor(() => Number(status(plugin).totalFailures) >= 2, 5000, () => `two polls that could not save (status ${JSON.stringify(status(plugin))})`);
    expect(posts(), "posted while the state could not be saved").to.deep.equal([]);
    expect(String(status(plugin).lastError)).to.match(new RegExp(`could not save the feed's state in ${dir}/[0-9a-f]{32}\\.json: ENOTDIR: not a directory$`));
    expect(bed!.session(bed!.game.sessions[0]!.sessid)!.protocol_flags.BOT_STATE).to.match(/^failing \(\d+ in a row\); /);
    const warned = bed!.logger.entries.filter((e) => e.level === "warn" && e.fields.code === "PORTAL_ERR_DATA_DIR");
    expect(warned.length, "one warn line per failed poll").to.equal(Number(status(plugin).totalFailures));
    expect(warned[0]!.fields).to.deep.include({ url: server.url("/feed.xml"), failures: 1 });
    // The feed is fine, so no back-off (it would be 10 s now): the next poll, at the interval, tries again.
    expect(Date.parse(String(status(plugin).nextPoll)) - Date.now(), "the next poll in").to.be.at.most(1500);

    rmSync(dir);
    renameSync(`${dir}.aside`, dir);
    await waitFor(() => posts().length === 2, 5000, () => `the entries once the state can be saved (status ${JSON.stringify(status(plugin))})`);
    await waitPolls(polls() + 1);
    expect(posts()).to.deep.equal(["News: Item 2 http://example.test/2", "News: Item 3 http://example.test/3"]);
    expect(status(plugin)).to.include({ failures: 0, posted: 2 });

    // They were saved: a restart of the portal posts them no more.
    await bed!.stop();
    const again = newBed();
    await launch({}, "/feed.xml", again);
    await waitPolls(polls() + 1);
    expect(posts(again)).to.deep.equal([]);
  });

  it("primeCount posts the newest N on the first poll, oldest first", async () => {
    server.set("/feed.xml", { body: rss2("News", items(5, 4, 3, 2, 1)) });
    await launch({ primeCount: 2 });
    await waitFor(() => posts().length === 2, 5000, "two primed posts");
    expect(posts()).to.deep.equal(["News: Item 4 http://example.test/4", "News: Item 5 http://example.test/5"]);
  });

  it("asks with If-None-Match (ETag) and If-Modified-Since (Last-Modified); a 304 costs no parse", async () => {
    server.set("/etag.xml", { body: rss2("E", items(1)), etag: '"v1"' });
    server.set("/lm.xml", { body: rss2("L", items(1)), lastModified: "Wed, 02 Dec 2026 10:00:00 GMT" });
    newBed();
    const e = await launch({ uid: "rss:e" }, "/etag.xml");
    const l = await launch({ uid: "rss:l" }, "/lm.xml");
    await waitPolls(3, "/etag.xml");
    await waitPolls(3, "/lm.xml");
    expect(server.requestsFor("/etag.xml").slice(1).every((r) => r.headers["if-none-match"] === '"v1"')).to.equal(true);
    expect(server.requestsFor("/lm.xml").slice(1).every((r) => r.headers["if-modified-since"] === "Wed, 02 Dec 2026 10:00:00 GMT")).to.equal(true);
    for (const p of [e, l]) {
      expect(status(p).parses).to.equal(1);
      expect(Number(status(p).notModified)).to.be.at.least(2);
    }
    expect(server.requestsFor("/etag.xml")[0]!.headers["user-agent"]).to.match(/^Portico\/\d+\.\d+\.\d+ \(feed reader; /);
  });

  it("a server that hangs is given up after timeoutMs; the bot keeps polling and recovers; nothing is posted about it", async () => {
    server.set("/feed.xml", { hang: true });
    const plugin = await launch({ timeoutMs: 300, backoff: { initialMs: 200 } });
    await waitFor(() => Number(status(plugin).failures) >= 1, 5000, "a failure");
    expect(String(status(plugin).lastError)).to.contain("no complete answer within 300 ms");
    expect(bed!.session(bed!.game.sessions[0]!.sessid)!.protocol_flags.BOT_STATE).to.match(/^failing \(1 in a row\); every 1s; /);
    server.set("/feed.xml", { body: rss2("Back", items(1)) });
    await waitFor(() => status(plugin).failures === 0 && Number(status(plugin).parses) >= 1, 8000, "recovery");
    expect(posts()).to.deep.equal([]);
    expect(bed!.logger.codes()).to.include("PORTAL_ERR_FEED_FETCH");
  });

  it("a 50 MB body is refused at maxBytes and the bot stops reading it; an announced size over the cap is not read at all", async () => {
    server.set("/big.xml", { streamBytes: 50 * 1024 * 1024 });
    server.set("/announced.xml", { body: "x".repeat(2 * 1024 * 1024), headers: { "content-length": String(2 * 1024 * 1024) } });
    newBed();
    const big = await launch({ uid: "rss:big", maxBytes: 1024 * 1024 }, "/big.xml");
    const announced = await launch({ uid: "rss:ann", maxBytes: 1024 * 1024 }, "/announced.xml");
    await waitFor(() => Number(status(big).failures) >= 1 && Number(status(announced).failures) >= 1, 8000, "both refused");
    expect(String(status(big).lastError)).to.contain("larger than 1048576 bytes (stopped reading)");
    expect(String(status(announced).lastError)).to.contain("(2097152 announced)");
    await sleep(200);
    expect(server.written.get("/big.xml") ?? 0).to.be.lessThan(16 * 1024 * 1024);
  });

  it("malformed XML, a binary body, an HTML page and XML with DTD entities (billion laughs, an external file) are `not a feed`; no file is read", async () => {
    const bodies: Record<string, string | Buffer> = {
      "/broken.xml": '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item><title>x</item></channel>',
      "/binary.xml": Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)),
      "/page.html": "<!doctype html><html><head><title>Blog</title></head><body><p>hello</p></body></html>",
      "/lol.xml": '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><rss version="2.0"><channel><title>&c;</title></channel></rss>',
      "/xxe.xml": '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><rss version="2.0"><channel><title>&x;</title><item><title>&x;</title><guid>1</guid></item></channel></rss>',
    };
    newBed();
    const plugins: LaunchedPlugin[] = [];
    for (const [path, body] of Object.entries(bodies)) {
      server.set(path, { body, headers: path.endsWith(".html") ? { "content-type": "text/html" } : {} });
      plugins.push(await launch({ uid: `rss:${path}` }, path));
    }
    await waitFor(() => plugins.every((p) => Number(status(p).failures) >= 1), 8000, "every document refused");
    for (const p of plugins) expect(String(status(p).lastError), String(status(p).url)).to.match(/not a feed: /);
    expect(JSON.stringify(bed!.game.inputs) + JSON.stringify(plugins.map(status))).to.not.contain("root:");
    expect(posts()).to.deep.equal([]);
  });

  it("follows a redirect chain; a redirect loop is refused", async () => {
    server.set("/a", { redirect: "/b" });
    server.set("/b", { redirect: server.url("/feed.xml") });
    server.set("/feed.xml", { body: rss2("Moved", items(1)) });
    server.set("/loop1", { redirect: "/loop2" });
    server.set("/loop2", { redirect: "/loop1" });
    newBed();
    const chain = await launch({ uid: "rss:chain" }, "/a");
    const loop = await launch({ uid: "rss:loop" }, "/loop1");
    await waitFor(() => Number(status(chain).parses) >= 1 && Number(status(loop).failures) >= 1, 5000, "both polled");
    expect(status(chain).failures).to.equal(0);
    expect(String(status(loop).lastError)).to.contain("more than 5 redirects");
  });

  it("items without guids are known by their link, else by title and date; a publisher changing pubDate does not re-post", async () => {
    const noGuid = [{ title: "A", link: "http://example.test/a?utm_source=x#top" }, { title: "B", date: "Mon, 30 Nov 2026 10:00:00 GMT" }];
    server.set("/feed.xml", { body: rss2("F", [...noGuid, { title: "C", guid: "c", date: "Mon, 30 Nov 2026 10:00:00 GMT" }]) });
    await launch();
    await waitPolls(1);
    server.set("/feed.xml", { body: rss2("F", [{ title: "A (edited)", link: "http://example.test/a" }, noGuid[1]!, { title: "C", guid: "c", date: "Tue, 01 Dec 2026 09:00:00 GMT" }]) });
    await waitPolls(polls() + 2);
    expect(posts()).to.deep.equal([]);
    server.set("/feed.xml", { body: rss2("F", [{ title: "B", date: "Wed, 02 Dec 2026 10:00:00 GMT" }]) });
    await waitFor(() => posts().length === 1, 5000, "the title+date item counted as new");
  });

  it("honours the document's charset and neutralises HTML, entities, control codes and markup in titles; long titles are cut", async () => {
    const latin1 = Buffer.from('<?xml version="1.0" encoding="ISO-8859-1"?><rss version="2.0"><channel><title>Caf\xe9 news</title><item><title>Cr\xe8me</title><guid>1</guid></item></channel></rss>', "latin1");
    server.set("/latin1.xml", { body: latin1, headers: { "content-type": "application/xml" } });
    server.set("/feed.xml", { body: rss2("T", []) });
    newBed();
    await launch({ uid: "rss:l1", primeCount: 1 }, "/latin1.xml");
    await launch({ maxTitleLength: 20 });
    await waitPolls(1);
    server.set("/feed.xml", { body: rss2("T", [{ title: "<b>Tom &amp; Jerry</b> |r red \x1b[31m&#9731; \u202Eevil", guid: "1", link: "http://example.test/x|y" }, { title: "x".repeat(50), guid: "2" }]) });
    await waitFor(() => posts().length === 3, 5000, "three posts");
    expect(posts()).to.include("Café news: Crème");
    expect(posts()).to.include("T: xxxxxxxxxxxxxxxxxxx…");
    expect(posts()).to.include("T: Tom & Jerry ||r red… http://example.test/x%7Cy");
  });

  it("paces a poll's posts and posts at most maxPostsPerPoll, saying how many more there were", async () => {
    server.set("/feed.xml", { body: rss2("P", items(1)) });
    await launch({ postIntervalMs: 250, maxPostsPerPoll: 3 });
    await waitPolls(1);
    server.set("/feed.xml", { body: rss2("P", items(6, 5, 4, 3, 2, 1)) });
    const times: number[] = [];
    await waitFor(() => {
      while (times.length < posts().length) times.push(Date.now());
      return posts().length === 4;
    }, 5000, "four posts", 2);
    expect(posts()).to.deep.equal(["P: 2 more new items not shown", "P: Item 4 http://example.test/4", "P: Item 5 http://example.test/5", "P: Item 6 http://example.test/6"]);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).to.be.at.least(200);
  });

  it("backs off after failures (never faster than the interval) and honours Retry-After", async () => {
    server.set("/down.xml", { status: 500, body: "oops" });
    server.set("/busy.xml", { status: 503, body: "later", headers: { "retry-after": "4" } });
    newBed();
    const down = await launch({ uid: "rss:down", backoff: { initialMs: 1500, factor: 2, jitter: 0 } }, "/down.xml");
    const busy = await launch({ uid: "rss:busy" }, "/busy.xml");
    await waitFor(() => Number(status(busy).failures) >= 1 && Number(status(down).failures) >= 1, 5000, "first failures");
    expect(String(status(down).lastError)).to.contain("HTTP 500");
    const nextBusy = Date.parse(String(status(busy).nextPoll));
    expect(nextBusy - Date.now()).to.be.greaterThan(2500);
    await waitFor(() => Number(status(down).failures) >= 2, 5000, "a second failure");
    expect(Date.parse(String(status(down).nextPoll)) - Date.now()).to.be.greaterThan(2000);
  });

  it("validate: a start that fetches once refuses what is not a feed (FEED_PARSE) or cannot be fetched (FEED_FETCH), and primes a good one", async () => {
    server.set("/page.html", { body: "<html><body>no feed here</body></html>", headers: { "content-type": "text/html" } });
    server.set("/feed.xml", { body: rss2("Good", items(2, 1)) });
    newBed();
    const codeOf = async (config: Record<string, unknown>, path: string) => {
      try {
        await launch({ validate: true, ...config }, path);
        return "started";
      } catch (err) {
        return (err as PortalError).code;
      }
    };
    expect(await codeOf({ uid: "rss:a" }, "/page.html")).to.equal("PORTAL_ERR_FEED_PARSE");
    expect(await codeOf({ uid: "rss:b" }, "/missing.xml")).to.equal("PORTAL_ERR_FEED_FETCH");
    expect(await codeOf({ uid: "rss:c", url: "file:///etc/passwd" }, "/x")).to.equal("PORTAL_ERR_PLUGIN_CONFIG");
    expect(await codeOf({ uid: "rss:d", url: "data:text/xml,<rss/>" }, "/x")).to.equal("PORTAL_ERR_PLUGIN_CONFIG");
    expect(await codeOf({ uid: "rss:e" }, "/feed.xml")).to.equal("started");
    expect(posts()).to.deep.equal([]);
  });

  it("a feed of 100 000 items is parsed off the main thread within its limits; only maxItems are considered", async () => {
    const many = Array.from({ length: 100_000 }, (_, i) => ({ title: `i${i}`, guid: `g${i}` }));
    server.set("/feed.xml", { body: rss2("Many", many) });
    const plugin = await launch({ maxItems: 500, maxBytes: 20 * 1024 * 1024 });
    let maxGap = 0;
    let last = Date.now();
    const ticker = setInterval(() => {
      maxGap = Math.max(maxGap, Date.now() - last);
      last = Date.now();
    }, 10);
    try {
      await waitFor(() => Number(status(plugin).parses) >= 1 && status(plugin).items === 100_000, 15_000, "the big feed parsed");
    } finally {
      clearInterval(ticker);
    }
    expect(maxGap).to.be.lessThan(250);
    expect(status(plugin).failures).to.equal(0);
  });

  it("the operator's minimum interval (plugins.settings) wins over what the game asks", async () => {
    server.set("/feed.xml", { body: rss2("F", items(1)) });
    newBed({ minIntervalSeconds: 60 });
    const plugin = await launch({ intervalSeconds: 1, minIntervalSeconds: 1 });
    await waitPolls(1);
    expect(status(plugin).intervalSeconds).to.equal(60);
    const next = Date.parse(String(status(plugin).nextPoll));
    expect(next - Date.now()).to.be.greaterThan(50_000);
  });
});
