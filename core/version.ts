import { readFileSync } from "node:fs";

/** This Portico's version (package.json), for User-Agent headers and status. */
export const PORTICO_VERSION: string = (() => {
  try {
    return (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;
  } catch {
    return "0.0.0";
  }
})();
