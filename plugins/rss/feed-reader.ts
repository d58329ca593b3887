import Parser from "rss-parser";

/**
 * rss-parser for the parse worker. rss-parser turns an Atom entry's <published> or <updated> into an
 * ISO date without a guard, so one unreadable date made the whole feed "not a feed" (Invalid time
 * value); such a date is dropped from its entry instead, as rss-parser already does for RSS dates.
 */
export function feedReader(): Parser {
  const parser = new Parser();
  const atom = parser as unknown as { parseItemAtom(entry: Record<string, unknown>): unknown };
  const parseItemAtom = atom.parseItemAtom.bind(parser);
  atom.parseItemAtom = (entry) => {
    for (const key of ["published", "updated"]) {
      const v = entry[key] as { length?: number }[] | undefined;
      if (Array.isArray(v) && v[0]?.length && Number.isNaN(new Date(v[0] as unknown as string).getTime())) delete entry[key];
    }
    return parseItemAtom(entry);
  };
  return parser;
}
