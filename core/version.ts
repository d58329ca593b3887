import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The Portico package's root (where package.json and plugin-template/ are), from this file compiled to dist/core/. */
export const PORTICO_ROOT: string = fileURLToPath(new URL("../../", import.meta.url));

/** This Portico's version (package.json), for User-Agent headers and status. */
export const PORTICO_VERSION: string = (() => {
  try {
    return (JSON.parse(readFileSync(join(PORTICO_ROOT, "package.json"), "utf8")) as { version: string }).version;
  } catch {
    return "0.0.0";
  }
})();
