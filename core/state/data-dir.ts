import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { ErrorCodes } from "../errors/error-codes.js";
import { PortalError, errorMessage } from "../errors/portal-error.js";

/** What a portal id may be (config key portalId). */
export const PORTAL_ID = /^[A-Za-z0-9_-]{1,32}$/;

/** Files the portal keeps in its data directory. */
export class DataDir {
  constructor(readonly path: string) {}

  ensure(): void {
    try {
      mkdirSync(this.path, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw new PortalError(ErrorCodes.DATA_DIR, `cannot create data directory ${this.path}: ${errorMessage(err)}`, { path: this.path });
    }
  }

  file(name: string): string {
    return join(this.path, name);
  }

  /** Writes through a temporary file and a rename, so a crash never leaves half a file. */
  writeAtomic(name: string, content: string, mode = 0o600): void {
    const target = this.file(name);
    const tmp = `${target}.${process.pid}.tmp`;
    try {
      writeFileSync(tmp, content, { mode });
      renameSync(tmp, target);
    } catch (err) {
      throw new PortalError(ErrorCodes.DATA_DIR, `cannot write ${target}: ${errorMessage(err)}`, { path: target });
    }
  }

  read(name: string): string | undefined {
    const target = this.file(name);
    if (!existsSync(target)) return undefined;
    try {
      return readFileSync(target, "utf8");
    } catch (err) {
      throw new PortalError(ErrorCodes.DATA_DIR, `cannot read ${target}: ${errorMessage(err)}`, { path: target });
    }
  }

  /** Raises and returns the portal run number (1 on the first start). */
  nextRun(): number {
    const text = this.read("portal-run")?.trim() ?? "0";
    const previous = /^\d{1,15}$/.test(text) ? Number(text) : Number.NaN;
    if (!Number.isSafeInteger(previous)) {
      // Guessing would risk reusing session ids; make the operator look.
      throw new PortalError(ErrorCodes.DATA_DIR, `${this.file("portal-run")} is not a run number (${JSON.stringify(text.slice(0, 20))}); fix or delete it`, { path: this.file("portal-run") });
    }
    const run = previous + 1;
    this.writeAtomic("portal-run", `${run}\n`, 0o644);
    return run;
  }

  /**
   * This portal's id when the config names none (over NATS, where portals serving one game must
   * differ): `<host name>-<4 hex>`, made on the first start and kept in `portal-id`, so the id (and
   * every session id it prefixes) stays the same across restarts of this portal.
   */
  portalId(hostname: string): string {
    const existing = this.read("portal-id")?.trim();
    if (existing !== undefined) {
      if (PORTAL_ID.test(existing)) return existing;
      throw new PortalError(ErrorCodes.DATA_DIR, `${this.file("portal-id")} is not a portal id (${JSON.stringify(existing.slice(0, 40))}); fix or delete it`, { path: this.file("portal-id") });
    }
    const host = hostname.toLowerCase().replace(/[^a-z0-9_-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 27) || "portal";
    const id = `${host}-${randomBytes(2).toString("hex")}`;
    this.writeAtomic("portal-id", `${id}\n`, 0o644);
    return id;
  }

  /** The link's shared secret, created (64 hex characters, mode 0600) on first start. */
  linkSecret(): string {
    const existing = this.read("link.secret")?.trim();
    if (existing) return existing;
    const secret = randomBytes(32).toString("hex");
    this.writeAtomic("link.secret", `${secret}\n`, 0o600);
    return secret;
  }
}

/** Reads a link secret file written by the portal (for game processes). */
export function readLinkSecret(dataDirPath: string): string {
  const secret = new DataDir(dataDirPath).read("link.secret")?.trim();
  if (!secret) throw new PortalError(ErrorCodes.DATA_DIR, `no link secret in ${dataDirPath} (start the portal first)`, { path: dataDirPath });
  return secret;
}
