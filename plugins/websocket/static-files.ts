import { readFile, realpath, stat } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { extname, resolve, sep } from "node:path";

const TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".json": "application/json; charset=utf-8",
};

/** Headers on every answer: the page loads nothing from elsewhere and talks only to this server. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

export function answer(res: ServerResponse, status: number, body: string, type = "text/plain; charset=utf-8", extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, "content-type": type, "content-length": Buffer.byteLength(body), ...extra });
  res.end(body);
}

/**
 * Serves files below `root` only: the path is percent-decoded once, must not hold NUL or a backslash,
 * is resolved against the root, and must stay inside it after symlinks are followed. Anything else is
 * 400 or 404, never a file outside the folder. Only GET and HEAD.
 */
export async function serveStatic(root: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== "GET" && req.method !== "HEAD") return answer(res, 405, "Method Not Allowed\n", undefined, { allow: "GET, HEAD" });
  const rawPath = (req.url ?? "/").split("?")[0]!;
  let path: string;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    return answer(res, 400, "Bad Request\n");
  }
  if (path.includes("\0") || path.includes("\\") || !path.startsWith("/")) return answer(res, 400, "Bad Request\n");
  if (path.endsWith("/")) path += "index.html";
  const base = await realpath(root);
  const candidate = resolve(base, `.${path}`);
  if (!candidate.startsWith(base + sep)) return answer(res, 404, "Not Found\n");
  let file: string;
  try {
    file = await realpath(candidate);
    if (!file.startsWith(base + sep) || !(await stat(file)).isFile()) return answer(res, 404, "Not Found\n");
  } catch {
    return answer(res, 404, "Not Found\n");
  }
  const body = await readFile(file);
  const type = TYPES[extname(file).toLowerCase()] ?? "application/octet-stream";
  res.writeHead(200, { ...SECURITY_HEADERS, "content-type": type, "content-length": body.length, "cache-control": "no-cache" });
  res.end(req.method === "HEAD" ? undefined : body);
}
