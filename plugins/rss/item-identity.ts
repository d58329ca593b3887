import type { FeedItem } from "./feed-parser.js";

/** Query parameters that only track where a click came from; they do not change the item. */
const TRACKING = /^(utm_\w+|fbclid|gclid|mc_cid|mc_eid)$/i;

/** A link in one canonical form: lower-case scheme and host, no default port, no fragment, no tracking parameters, no trailing slash. */
export function normalizeLink(link: string): string {
  try {
    const u = new URL(link.trim());
    u.hash = "";
    for (const key of [...u.searchParams.keys()]) if (TRACKING.test(key)) u.searchParams.delete(key);
    u.searchParams.sort();
    if (u.pathname.length > 1 && u.pathname.endsWith("/")) u.pathname = u.pathname.slice(0, -1);
    return u.href;
  } catch {
    return link.trim();
  }
}

/**
 * An item's identity: its guid (RSS) or id (Atom); else its link, normalised; else its title and
 * date. Dates are used only as the last resort, so a publisher editing pubDate does not re-post.
 */
export function identityOf(item: FeedItem): string {
  if (item.guid) return `g:${item.guid.trim()}`;
  if (item.link) return `l:${normalizeLink(item.link)}`;
  return `t:${(item.title ?? "").trim()}|${item.date ?? ""}`;
}
