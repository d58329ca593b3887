import type { Readable } from "node:stream";

/**
 * Decodes `stream` as UTF-8 and appends each complete line (split at `separator`) to `lines`; an
 * unfinished last line waits for the rest of it.
 */
export function collectLines(stream: Readable | null | undefined, lines: string[], separator: string | RegExp = "\n"): void {
  if (!stream) return;
  let partial = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    const parts = (partial + chunk).split(separator);
    partial = parts.pop() ?? "";
    lines.push(...parts);
  });
}
