import { atom, rdf, rss2, type ItemSpec } from "../feed-server.js";
import { Rng } from "../prng.js";
import { NASTY_STRINGS, mutateText, randomText } from "./mutate.js";

/**
 * Random and mutated feed documents (RSS 0.91/2.0, RSS 1.0/RDF, Atom) for the feed fuzz target
 * (test/torture/fuzz-feed.test.ts): hostile titles and links, odd dates, unescaped markup, DTDs
 * with internal and external entities, CDATA, deep nesting, huge attributes, truncation and
 * text-level mutation. Document `i` of a run comes from its own seed (docSeed), so one case can be
 * regenerated alone.
 */

/** The seed of document `i` of a run seeded with `seed`. */
export function docSeed(seed: number, i: number): number {
  return (seed + Math.imul(i, 0x9e3779b1)) >>> 0;
}

const LINKS = [
  "http://example.test/a?utm_source=x&b=1#frag", "https://EXAMPLE.test:443/b/", "javascript:alert(1)", "ftp://example.test/x", " http://example.test/a b ",
  "", "http://[::1]:80/", "http://例え.テスト/パス", "data:text/html,<b>x</b>", "http://user:pass@example.test/", "//example.test/x", "http://example.test/|pipe|",
  "http://example.test/\u202e", "http://example.test/\x1b[31m",
];
const DATES = ["Mon, 01 Jan 2026 00:00:00 GMT", "2026-12-04T17:40:01Z", "garbage", "2026-13-45T99:99:99Z", "", "0", "Fri, 31 Dec 9999 23:59:59 GMT", "-1"];

function field(rng: Rng, pool: readonly string[]): string | undefined {
  if (rng.chance(0.15)) return undefined;
  return rng.chance(0.6) ? rng.pick(pool) : rng.chance(0.5) ? rng.pick(NASTY_STRINGS) : randomText(rng, rng.int(rng.chance(0.05) ? 5000 : 80));
}

function item(rng: Rng, probe?: string): ItemSpec {
  const spec: ItemSpec = {};
  const title = probe ?? field(rng, ["Hello world", "<b>bold</b> &amp; &#x1F600; &bogus; &#0;", "|r red |n", "\x1b[2J clear", "line\nbreak\r\nx", "\u202eevil\u202c", "a".repeat(3000)]);
  if (title !== undefined) spec.title = title;
  const link = field(rng, LINKS);
  if (link !== undefined) spec.link = link;
  const guid = probe ?? (rng.chance(0.5) ? field(rng, ["g1", "g1", " spaced ", "urn:uuid:1", ""]) : undefined);
  if (guid !== undefined) spec.guid = guid;
  const date = field(rng, DATES);
  if (date !== undefined) spec.date = date;
  const description = rng.chance(0.5) ? field(rng, ["<p>para</p>", "<![CDATA[ <x> ]]>", "&lt;script&gt;"]) : undefined;
  if (description !== undefined) spec.description = description;
  return spec;
}

/** A feed document: a valid one of a random format, then (often) made hostile or broken. */
export function feedDoc(rng: Rng, probe?: string): string {
  const items = Array.from({ length: rng.int(rng.chance(0.02) ? 400 : 8) }, () => item(rng));
  if (probe !== undefined) items.unshift(item(rng, probe));
  const title = field(rng, ["News", "Feed & co", "|h|r hi", "<i>t</i>"]) ?? "";
  let xml = rng.pick([
    () => rss2(title, items), () => rss2(title, items, "0.91"), () => atom(title, items), () => rdf(title, items),
  ])();
  if (probe !== undefined) return xml;
  switch (rng.int(14)) {
    case 0:
      // Entities declared in a DTD: internal (nested, "billion laughs"-style) and external.
      xml = xml.replace(/^<\?xml[^>]*\?>\n?/, `<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY a "${"x".repeat(50)}"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;"><!ENTITY ext SYSTEM "file:///etc/passwd">]>\n`)
        .replace(/<title>/, "<title>&d;&ext;");
      break;
    case 1: xml = xml.replace(/<title>([^<]*)<\/title>/, `<title><![CDATA[ ${rng.pick(NASTY_STRINGS)} ]]]]><![CDATA[> <b>x</b> ]]></title>`); break;
    case 2: xml = xml.replace(/(<channel[^>]*>|<feed[^>]*>)/, `$1${"<x>".repeat(rng.range(100, 3000))}`); break;
    case 3: xml = xml.replace(/<(rss|feed|rdf:RDF)/, `<$1 huge="${"A".repeat(rng.range(1000, 200_000))}"`); break;
    case 4: xml = xml.slice(0, rng.int(xml.length)); break;
    case 5: case 6: case 7: xml = mutateText(rng, xml); break;
    case 8: xml = `\uFEFF${xml}`.replace(/utf-8/, rng.pick(["latin1", "utf-16", "x-bogus", "ebcdic"])); break;
    case 9: xml = xml.replace(/<title>[^<]*<\/title>/, `<title>${rng.pick(["<b>raw</b>", "&#55296;", "&#x110000;", "&amp;amp;", "a & b", "<![CDATA[", "\u0000", "&lt;/title&gt;"])}</title>`); break;
    case 10: xml = randomText(rng, rng.int(500)); break;
    case 11: xml = rng.pick(["", " ", "<rss/>", "<rss><channel/></rss>", "<feed/>", "<?xml version='1.0'?>", "{\"json\":true}", "<html><body>not a feed</body></html>"]); break;
    default: break;
  }
  return xml;
}
