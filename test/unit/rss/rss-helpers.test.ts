import { expect } from "chai";
import { parseRssConfig } from "../../../plugins/rss/config.js";
import { charsetOf, retryAfterMs } from "../../../plugins/rss/feed-fetcher.js";
import { parseFeed } from "../../../plugins/rss/feed-parser.js";
import { feedReader } from "../../../plugins/rss/feed-reader.js";
import { remember } from "../../../plugins/rss/feed-state.js";
import { identityOf, normalizeLink } from "../../../plugins/rss/item-identity.js";
import { decodeEntities, feedText, formatItem, safeLink } from "../../../plugins/rss/item-text.js";
import { atom } from "../../support/feed-server.js";

describe("RSS helpers", () => {
  it("identity: guid/id, else the normalised link, else title and date", () => {
    expect(identityOf({ guid: " abc ", link: "http://x/1", title: "t" })).to.equal("g:abc");
    expect(identityOf({ link: "HTTP://Example.test:80/a/?utm_source=rss&b=2&a=1#frag", title: "t" })).to.equal("l:http://example.test/a?a=1&b=2");
    expect(identityOf({ title: "T", date: "Mon" })).to.equal("t:T|Mon");
    expect(normalizeLink("https://example.test/")).to.equal("https://example.test/");
    expect(normalizeLink("https://example.test/path/")).to.equal("https://example.test/path");
    expect(normalizeLink("not a url ")).to.equal("not a url");
  });

  it("text: tags removed, entities decoded, escapes and controls and bidi overrides removed, markup escaped, cut with an ellipsis", () => {
    expect(decodeEntities("&amp;&lt;&#65;&#x42;&#0;&#xD800;&bogus;&hellip;")).to.equal("&<AB\uFFFD\uFFFD&bogus;…");
    expect(feedText("<p>Tom &amp; <b>Jerry</b></p>\n\t|r\x1b[31mred\x07 \u202Eevil", 100)).to.equal("Tom & Jerry ||rred evil");
    expect(feedText("abcdefghij", 5)).to.equal("abcd…");
    expect(feedText("😀😀😀😀😀😀", 4)).to.equal("😀😀😀…");
    expect(feedText(undefined, 10)).to.equal("");
    expect(safeLink("javascript:alert(1)")).to.equal("");
    expect(safeLink("http://x.test/a|b")).to.equal("http://x.test/a%7Cb");
    expect(formatItem("{feed}: {title} {link}", "F", { title: "T" }, 50)).to.equal("F: T");
    expect(formatItem("{title} ({date})", "F", { title: "" , date: "D" }, 50)).to.equal("(untitled) (D)");
  });

  it("the seen list keeps what the feed still lists, drops the oldest past its bound", () => {
    expect(remember(["a", "b", "c"], ["b", "d"], 10)).to.deep.equal(["a", "c", "b", "d"]);
    expect(remember(["a", "b", "c"], ["d", "e"], 3)).to.deep.equal(["c", "d", "e"]);
    expect(remember(["a", "b"], ["a"], 1)).to.deep.equal(["a"]);
  });

  it("Retry-After in seconds or as a date, capped at a day; charsets from the header or the XML declaration", () => {
    expect(retryAfterMs("120")).to.equal(120_000);
    expect(retryAfterMs(new Date(Date.now() + 60_000).toUTCString())).to.be.within(58_000, 61_000);
    expect(retryAfterMs("9999999")).to.equal(86_400_000);
    expect(retryAfterMs(null)).to.equal(undefined);
    expect(retryAfterMs("soon")).to.equal(undefined);
    expect(charsetOf("text/xml; charset=ISO-8859-1", Buffer.from("<?xml ?>"))).to.equal("iso-8859-1");
    expect(charsetOf("application/xml", Buffer.from('<?xml version="1.0" encoding="windows-1251"?><rss/>'))).to.equal("windows-1251");
    expect(charsetOf(null, Buffer.from("<rss/>"))).to.equal("utf-8");
  });

  it("config: Evennia's `rate`, http(s) only, a template that names an item", () => {
    expect(parseRssConfig({ uid: "rss:1", url: "https://example.test/f", rate: 300 }).intervalSeconds).to.equal(300);
    for (const url of ["file:///etc/passwd", "data:text/xml,<rss/>", "ftp://example.test/f", "http://", "nope"]) {
      expect(() => parseRssConfig({ uid: 1, url }), url).to.throw('plugins.rss.RssBotFactory config "url": must be an http:// or https:// URL');
    }
    expect(() => parseRssConfig({ uid: 1, url: "http://x.test/", template: "{feed}" })).to.throw('config "template"');
  });
  it("an Atom entry with an unreadable date: the feed is still read, that entry without a date (fuzz-feed regression)", async () => {
    // Found by test/torture/fuzz-feed.test.ts: rss-parser threw "Invalid time value" for the whole
    // feed when one Atom entry's <updated> or <published> was not a date.
    const xml = atom("Dated", [
      { title: "good", guid: "urn:1", date: "2026-12-01T10:00:00Z" },
      { title: "bad updated", guid: "urn:2", date: "yesterday-ish" },
      { title: "bad year", guid: "urn:3", date: "2026-13-45T99:99:99Z" },
    ]).replace("<entry><title>bad year</title>", "<entry><title>bad year</title><published>not a date</published>");
    const direct = await feedReader().parseString(xml);
    expect(direct.items.map((i) => [i.title, i.pubDate ?? null])).to.deep.equal([["good", "2026-12-01T10:00:00.000Z"], ["bad updated", null], ["bad year", null]]);
    const parsed = await parseFeed(xml, { timeoutMs: 5000, memoryMb: 64, maxItems: 10 });
    expect(parsed.items).to.deep.equal([
      { guid: "urn:1", title: "good", date: "2026-12-01T10:00:00.000Z" },
      { guid: "urn:2", title: "bad updated" },
      { guid: "urn:3", title: "bad year" },
    ]);
  });
});
