import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Temporary data directories not yet removed, for removeTempDirsNow. */
const dirs = new Set<string>();

/** A fresh directory under the system temp dir, remembered until removeTempDir. */
export function makeTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.add(dir);
  return dir;
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  dirs.delete(dir);
}

/** Last resort on a signal or a watchdog timeout: removes every temporary directory still there. */
export function removeTempDirsNow(): void {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs.clear();
}
