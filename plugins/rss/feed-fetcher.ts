import { ErrorCodes, PortalError } from "../../core/index.js";

export interface FetchLimits {
  timeoutMs: number;
  maxBytes: number;
  maxRedirects: number;
  userAgent: string;
}

/** What the last successful fetch said, for a conditional GET. */
export interface Validators {
  etag?: string;
  lastModified?: string;
}

export type FetchResult =
  | { status: "not-modified"; url: string }
  | { status: "ok"; url: string; body: string; validators: Validators; bytes: number };

/** A failed fetch: the message is for `rss2chan/list`; `retryAfterMs` when the server asked for a pause. */
export class FeedFetchError extends PortalError {
  constructor(message: string, readonly retryAfterMs?: number) {
    super(ErrorCodes.FEED_FETCH, message);
  }
}

/** `Retry-After`: seconds, or an HTTP date; undefined when absent or unreadable. Capped at one day. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (header === null || header.trim() === "") return undefined;
  const trimmed = header.trim();
  const ms = /^\d+$/.test(trimmed) ? Number(trimmed) * 1000 : Date.parse(trimmed) - now;
  return Number.isFinite(ms) && ms > 0 ? Math.min(ms, 86_400_000) : undefined;
}

/** The charset a body is in: the Content-Type header's, else the XML declaration's, else UTF-8. */
export function charsetOf(contentType: string | null, head: Buffer): string {
  const fromHeader = /charset\s*=\s*"?([\w.:-]+)"?/i.exec(contentType ?? "")?.[1];
  if (fromHeader) return fromHeader.toLowerCase();
  const decl = /^\s*<\?xml[^>]*encoding\s*=\s*["']([\w.:-]+)["']/i.exec(head.subarray(0, 200).toString("latin1"))?.[1];
  return decl ? decl.toLowerCase() : "utf-8";
}

function decode(body: Buffer, charset: string): string {
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(charset);
  } catch {
    decoder = new TextDecoder("utf-8");
  }
  return decoder.decode(body).replace(/^\uFEFF/, "");
}

/** Reads a response body, stopping (and cancelling the download) as soon as it passes `maxBytes`. */
async function readCapped(res: Response, maxBytes: number): Promise<Buffer> {
  const declared = Number(res.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await res.body?.cancel().catch(() => undefined);
    throw new FeedFetchError(`the feed is larger than ${maxBytes} bytes (${declared} announced)`);
  }
  const reader = res.body?.getReader();
  if (!reader) return Buffer.alloc(0);
  const parts: Buffer[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new FeedFetchError(`the feed is larger than ${maxBytes} bytes (stopped reading)`);
    }
    parts.push(Buffer.from(value));
  }
  return Buffer.concat(parts, total);
}

/**
 * GETs a feed with Node's fetch: one deadline for everything (connect, redirects, body), redirects
 * followed by hand (at most `maxRedirects`, http and https only), a conditional GET with the last
 * validators (a 304 is `not-modified`, no body read), the body capped while it streams and decoded
 * in its charset. Failures throw FeedFetchError with a short reason.
 */
export async function fetchFeed(url: string, validators: Validators, limits: FetchLimits, stop?: AbortSignal): Promise<FetchResult> {
  const deadline = AbortSignal.timeout(limits.timeoutMs);
  const signal = stop ? AbortSignal.any([deadline, stop]) : deadline;
  let current = url;
  try {
    for (let hop = 0; ; hop++) {
      const target = new URL(current);
      if (target.protocol !== "http:" && target.protocol !== "https:") throw new FeedFetchError(`refused to fetch ${target.protocol} URL (http and https only)`);
      const headers: Record<string, string> = { "user-agent": limits.userAgent, accept: "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5" };
      if (validators.etag) headers["if-none-match"] = validators.etag;
      if (validators.lastModified) headers["if-modified-since"] = validators.lastModified;
      const res = await fetch(target, { headers, redirect: "manual", signal });
      if (res.status >= 300 && res.status < 400 && res.status !== 304) {
        await res.body?.cancel().catch(() => undefined);
        const location = res.headers.get("location");
        if (!location) throw new FeedFetchError(`HTTP ${res.status} without a Location`);
        if (hop >= limits.maxRedirects) throw new FeedFetchError(`more than ${limits.maxRedirects} redirects`);
        current = new URL(location, target).href;
        continue;
      }
      if (res.status === 304) {
        await res.body?.cancel().catch(() => undefined);
        return { status: "not-modified", url: current };
      }
      if (!res.ok) {
        await res.body?.cancel().catch(() => undefined);
        throw new FeedFetchError(`HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ""}`, retryAfterMs(res.headers.get("retry-after")));
      }
      const raw = await readCapped(res, limits.maxBytes);
      const next: Validators = {};
      const etag = res.headers.get("etag");
      const lastModified = res.headers.get("last-modified");
      if (etag) next.etag = etag;
      if (lastModified) next.lastModified = lastModified;
      return { status: "ok", url: current, body: decode(raw, charsetOf(res.headers.get("content-type"), raw)), validators: next, bytes: raw.length };
    }
  } catch (err) {
    if (err instanceof FeedFetchError) throw err;
    const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
    if (stop?.aborted) throw new FeedFetchError("stopped");
    if (e.name === "TimeoutError" || deadline.aborted) throw new FeedFetchError(`no complete answer within ${limits.timeoutMs} ms`);
    throw new FeedFetchError(e.cause?.code ? `${e.cause.code}${e.cause.message ? `: ${e.cause.message}` : ""}` : e.message ?? String(err));
  }
}
