import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";

export interface FeedRoute {
  status?: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Answered 304 when the request's If-None-Match / If-Modified-Since matches. */
  etag?: string;
  lastModified?: string;
  /** Never answer (the socket stays open until the server closes). */
  hang?: boolean;
  /** 302 to this location. */
  redirect?: string;
  /** Stream this many bytes of a never-ending document, in 64 KiB chunks, while the client reads. */
  streamBytes?: number;
}

export interface SeenRequest {
  path: string;
  headers: IncomingMessage["headers"];
}

/** An HTTP server on 127.0.0.1 serving feeds a test sets per path, recording every request. */
export class FeedServer {
  readonly routes = new Map<string, FeedRoute>();
  readonly requests: SeenRequest[] = [];
  /** Body bytes written per path (for the size-cap test). */
  readonly written = new Map<string, number>();
  private readonly sockets = new Set<Socket>();
  port = 0;

  private constructor(private readonly server: Server) {}

  static async start(): Promise<FeedServer> {
    let self: FeedServer | undefined;
    const server = createServer((req, res) => self!.handle(req, res));
    self = new FeedServer(server);
    server.on("connection", (s: Socket) => {
      self!.sockets.add(s);
      s.on("error", () => undefined);
      s.on("close", () => self!.sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    self.port = (server.address() as { port: number }).port;
    return self;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  set(path: string, route: FeedRoute): void {
    this.routes.set(path, route);
  }

  requestsFor(path: string): SeenRequest[] {
    return this.requests.filter((r) => r.path === path);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? "/").split("?")[0]!;
    this.requests.push({ path, headers: req.headers });
    const route = this.routes.get(path);
    if (!route) {
      res.writeHead(404).end("not found");
      return;
    }
    if (route.hang) return;
    if (route.redirect) {
      res.writeHead(302, { location: route.redirect }).end();
      return;
    }
    if ((route.etag && req.headers["if-none-match"] === route.etag) || (route.lastModified && req.headers["if-modified-since"] === route.lastModified)) {
      res.writeHead(304).end();
      return;
    }
    const headers: Record<string, string> = { "content-type": "application/rss+xml; charset=utf-8", ...route.headers };
    if (route.etag) headers.etag = route.etag;
    if (route.lastModified) headers["last-modified"] = route.lastModified;
    if (route.streamBytes !== undefined) return this.stream(path, res, headers, route.streamBytes);
    res.writeHead(route.status ?? 200, headers).end(route.body ?? "");
  }

  private stream(path: string, res: ServerResponse, headers: Record<string, string>, total: number): void {
    res.writeHead(200, headers);
    const chunk = Buffer.alloc(64 * 1024, "<!-- padding -->".repeat(4096));
    let sent = 0;
    const pump = () => {
      while (sent < total && !res.destroyed) {
        sent += chunk.length;
        this.written.set(path, sent);
        if (!res.write(chunk)) return void res.once("drain", pump);
      }
      res.end();
    };
    res.write('<?xml version="1.0"?><rss version="2.0"><channel><title>big</title>');
    pump();
  }
}

export interface ItemSpec {
  title?: string;
  link?: string;
  guid?: string;
  date?: string;
  description?: string;
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** An RSS 2.0 document (items newest first, as feeds list them). */
export function rss2(title: string, items: ItemSpec[], version = "2.0"): string {
  const item = (i: ItemSpec) => `<item>${i.title !== undefined ? `<title>${esc(i.title)}</title>` : ""}${i.link ? `<link>${esc(i.link)}</link>` : ""}${i.guid ? `<guid isPermaLink="false">${esc(i.guid)}</guid>` : ""}${i.date ? `<pubDate>${i.date}</pubDate>` : ""}${i.description ? `<description>${esc(i.description)}</description>` : ""}</item>`;
  return `<?xml version="1.0" encoding="utf-8"?>\n<rss version="${version}"><channel><title>${esc(title)}</title><link>http://example.test/</link><description>d</description>${items.map(item).join("")}</channel></rss>`;
}

/** An Atom document. */
export function atom(title: string, items: ItemSpec[]): string {
  const entry = (i: ItemSpec) => `<entry><title>${esc(i.title ?? "")}</title>${i.link ? `<link href="${esc(i.link)}"/>` : ""}<id>${esc(i.guid ?? i.link ?? i.title ?? "")}</id><updated>${i.date ?? "2026-12-01T00:00:00Z"}</updated></entry>`;
  return `<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom"><title>${esc(title)}</title><id>urn:feed</id><updated>2026-12-01T00:00:00Z</updated>${items.map(entry).join("")}</feed>`;
}

/** An RSS 1.0 (RDF) document. */
export function rdf(title: string, items: ItemSpec[]): string {
  const item = (i: ItemSpec) => `<item rdf:about="${esc(i.link ?? "")}"><title>${esc(i.title ?? "")}</title><link>${esc(i.link ?? "")}</link></item>`;
  return `<?xml version="1.0"?>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"><channel rdf:about="http://example.test/"><title>${esc(title)}</title><link>http://example.test/</link><description>d</description></channel>${items.map(item).join("")}</rdf:RDF>`;
}
