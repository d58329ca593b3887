import type { FeedItem } from "./feed-parser.js";

/** A Map: entity names come from the feed, and must not find Object.prototype's members. */
const NAMED: ReadonlyMap<string, string> = new Map([
  ["amp", "&"], ["lt", "<"], ["gt", ">"], ["quot", '"'], ["apos", "'"], ["nbsp", " "], ["hellip", "…"], ["mdash", "—"], ["ndash", "–"],
  ["rsquo", "’"], ["lsquo", "‘"], ["rdquo", "”"], ["ldquo", "“"],
]);

/** Decodes HTML entities: the common named ones and every numeric one (invalid code points become U+FFFD). */
export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]{1,6}|#\d{1,7}|[a-z]{2,8});/gi, (m, body: string) => {
    if (body[0] === "#") {
      const code = body[1] === "x" || body[1] === "X" ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      return code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff) ? String.fromCodePoint(code) : "\uFFFD";
    }
    return NAMED.get(body.toLowerCase()) ?? m;
  });
}

/**
 * Feed text as safe game markup on one line: HTML tags removed, entities decoded, ANSI escapes,
 * control and bidi-override characters removed, whitespace collapsed, `|` doubled (Portico markup is
 * shown literally), cut to `max` characters with an ellipsis.
 */
export function feedText(raw: string | undefined, max: number): string {
  let t = (raw ?? "").replace(/<[^>]*>/g, " ");
  t = decodeEntities(t);
  t = t.replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, "").replace(/[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g, " ");
  t = t.replace(/\s+/g, " ").trim();
  const chars = [...t];
  if (chars.length > max) t = chars.slice(0, max - 1).join("").trimEnd() + "…";
  return t.replace(/\|/g, "||");
}

/** A link fit to post: http(s) only, no spaces or controls; else nothing. */
export function safeLink(link: string | undefined): string {
  if (!link) return "";
  try {
    const u = new URL(link.trim());
    if (u.protocol !== "http:" && u.protocol !== "https:") return "";
    return u.href.replace(/\|/g, "%7C");
  } catch {
    return "";
  }
}

/** The line posted for one item, from the template ({feed}, {title}, {link}, {date}). */
export function formatItem(template: string, feedTitle: string, item: FeedItem, maxTitle: number): string {
  const fields: Record<string, string> = {
    feed: feedText(feedTitle, maxTitle) || "feed",
    title: feedText(item.title, maxTitle) || "(untitled)",
    link: safeLink(item.link),
    date: feedText(item.date, 40),
  };
  return template.replace(/\{(feed|title|link|date)\}/g, (_m, k: string) => fields[k] ?? "").replace(/\s+/g, " ").trim();
}
