import { closeSync, existsSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { ErrorCodes } from "../errors/error-codes.js";
import { PortalError, errorMessage } from "../errors/portal-error.js";

/** What a running `portico start` publishes in its data directory for the other CLI commands. */
export interface RuntimeInfo {
  pid: number;
  startedAt: string;
  admin: { host: string; port: number } | null;
  link: { host: string; port: number } | null;
  listeners: { plugin: string; port: unknown }[];
}

const LOCK = "portico.pid";
const RUNTIME = "portico.runtime.json";

/** True when `pid` is a running portico (on Linux the command line is checked, so a reused pid does not count). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("portico");
  } catch {
    return true; // no /proc: trust the signal check
  }
}

/** Takes the data directory for this process; refuses while another live portico holds it. Returns a release function. */
export function acquireLock(dataDir: string): () => void {
  const path = join(dataDir, LOCK);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, "wx", 0o644);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => {
        try {
          if (readFileSync(path, "utf8").trim() === String(process.pid)) unlinkSync(path);
        } catch {
          /* already gone */
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") {
        throw new PortalError(ErrorCodes.DATA_DIR, `cannot create ${path}: ${errorMessage(err)}`, { path });
      }
      const pid = Number.parseInt(readFileSync(path, "utf8"), 10);
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw new PortalError(ErrorCodes.ALREADY_RUNNING, `another portico (pid ${pid}) is already running on ${dataDir}; stop it first with "portico stop"`, { pid });
      }
      unlinkSync(path); // stale lock from a process that is gone
    }
  }
  throw new PortalError(ErrorCodes.ALREADY_RUNNING, `cannot take the lock ${path}`, { path });
}

export function writeRuntime(dataDir: string, info: RuntimeInfo): void {
  const path = join(dataDir, RUNTIME);
  const fd = openSync(`${path}.tmp`, "w", 0o600);
  writeSync(fd, JSON.stringify(info, null, 2));
  closeSync(fd);
  renameSync(`${path}.tmp`, path); // atomic: readers never see half a file
}

export function removeRuntime(dataDir: string): void {
  try {
    unlinkSync(join(dataDir, RUNTIME));
  } catch {
    /* not there */
  }
}

/** The running portico's runtime info, or a NOT_RUNNING error naming the data directory. */
export function readRuntime(dataDir: string): RuntimeInfo {
  const path = join(dataDir, RUNTIME);
  if (!existsSync(path)) throw new PortalError(ErrorCodes.NOT_RUNNING, `portico is not running on ${dataDir} (no ${RUNTIME})`, { path });
  const info = JSON.parse(readFileSync(path, "utf8")) as RuntimeInfo;
  if (!alive(info.pid)) throw new PortalError(ErrorCodes.NOT_RUNNING, `portico is not running on ${dataDir} (pid ${info.pid} is gone)`, { path });
  return info;
}
