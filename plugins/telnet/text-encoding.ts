/** Encodes output text with the session's ENCODING; characters latin-1 cannot hold become "?". */
export function encodeOutput(text: string, encoding: unknown): Buffer {
  const label = String(encoding ?? "utf-8").toLowerCase();
  if (label === "latin-1" || label === "latin1" || label === "iso-8859-1" || label === "ascii") {
    const out = Buffer.allocUnsafe(text.length);
    let o = 0;
    for (const ch of text) {
      const code = ch.codePointAt(0)!;
      out[o++] = code <= 0xff && (label !== "ascii" || code < 0x80) ? code : 0x3f;
    }
    return out.subarray(0, o);
  }
  return Buffer.from(text, "utf8");
}

/** Line endings normalised to exactly one CR LF each. */
export function crlf(text: string): string {
  return text.replace(/\r\n|\n\r|\r|\n/g, "\r\n");
}

const HTTP_REQUEST = /^(GET|HEAD|POST|PUT|DELETE|TRACE|OPTIONS|CONNECT|PATCH) \S+ HTTP\/\d\.\d$/i;

export function isHttpRequestLine(line: string): boolean {
  return HTTP_REQUEST.test(line);
}

export const HTTP_REPLY =
  "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n" +
  "This is a telnet port for a text game, not a web server. Connect with a MUD or telnet client, " +
  "or open the game's web client on its web port instead.\r\n";
