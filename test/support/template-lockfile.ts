import { readFileSync } from "node:fs";
import { join } from "node:path";

export type LockEntry = Record<string, unknown> & {
  version?: string;
  dev?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
};
export interface Lockfile {
  name: string;
  version: string;
  lockfileVersion: number;
  requires?: boolean;
  packages: Record<string, LockEntry>;
}

/** Where `name` resolves from the lock entry at `from` (Node's lookup: nested node_modules first, then up). */
function resolveKey(packages: Record<string, LockEntry>, from: string, name: string): string | undefined {
  let base = from;
  for (;;) {
    const key = base === "" ? `node_modules/${name}` : `${base}/node_modules/${name}`;
    if (packages[key]) return key;
    if (base === "") return undefined;
    const cut = base.lastIndexOf("/node_modules/");
    base = cut < 0 ? "" : base.slice(0, cut);
  }
}

/**
 * The entry with the registry address of its tarball filled in (Portico's lockfile leaves it out):
 * with it and the integrity, npm takes the tarball from its cache without asking the registry.
 */
function withTarballUrl(key: string, entry: LockEntry): LockEntry {
  if (entry.resolved !== undefined || entry.link || typeof entry.version !== "string") return entry;
  const name = key.slice(key.lastIndexOf("node_modules/") + "node_modules/".length);
  const base = name.slice(name.indexOf("/") + 1);
  return { ...entry, resolved: `https://registry.npmjs.org/${name}/-/${base}-${entry.version}.tgz` };
}

/**
 * The entries of Portico's lockfile that `names` (top-level packages) need, with everything they
 * depend on, at the same versions and tree places: a valid tree for a project that depends on just
 * those, and one whose every tarball Portico's `npm ci` already put in the npm cache.
 */
export function lockClosure(lock: Lockfile, names: Readonly<Record<string, string>>): Record<string, LockEntry> {
  const out: Record<string, LockEntry> = {};
  const queue: [string, string][] = Object.keys(names).map((n) => ["", n]);
  while (queue.length > 0) {
    const [from, name] = queue.shift()!;
    const key = resolveKey(lock.packages, from, name);
    if (!key) {
      if (from === "") throw new Error(`${name} is not in Portico's lockfile: add it to Portico's dependencies`);
      continue; // an optional dependency npm skipped
    }
    if (out[key]) continue;
    const entry = withTarballUrl(key, lock.packages[key]!);
    if (from === "" && entry.version !== names[name]) {
      throw new Error(`${name}@${names[name]} is wanted but Portico's lockfile has ${entry.version}: pin the same version`);
    }
    out[key] = entry;
    for (const dep of Object.keys({ ...entry.dependencies, ...entry.optionalDependencies, ...entry.peerDependencies })) queue.push([key, dep]);
  }
  return out;
}

export function readLock(root: string): Lockfile {
  return JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8")) as Lockfile;
}

export function lockText(name: string, version: string, lockfileVersion: number, packages: Record<string, LockEntry>): string {
  const sorted = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b))));
  return `${JSON.stringify({ name, version, lockfileVersion, requires: true, packages: sorted }, null, 2)}\n`;
}

/**
 * The plugin template's package-lock.json, built from Portico's own: the template's dev tools
 * (mocha, typescript, types) exactly as Portico's lockfile has them, so a plugin scaffolded from
 * the template installs offline from the npm cache Portico's `npm ci` filled; and a link to
 * Portico (`..`) for its tests. `npm run template:lock` writes it; a unit test keeps it in step.
 */
export function buildTemplateLockfile(root: string): string {
  const lock = readLock(root);
  const portico = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as LockEntry & { version: string };
  const tpl = JSON.parse(readFileSync(join(root, "plugin-template", "package.json"), "utf8")) as {
    name: string; version: string; license?: string; devDependencies: Record<string, string>; peerDependencies: Record<string, string>; engines?: unknown;
  };
  const { portico: _link, ...tools } = tpl.devDependencies;
  return lockText(tpl.name, tpl.version, lock.lockfileVersion, {
    "": { name: tpl.name, version: tpl.version, license: tpl.license, devDependencies: tpl.devDependencies, peerDependencies: tpl.peerDependencies, engines: tpl.engines },
    "..": {
      name: "portico", version: portico.version, dev: true, license: portico.license,
      dependencies: portico.dependencies, bin: portico.bin, devDependencies: portico.devDependencies, engines: portico.engines,
    },
    "node_modules/portico": { resolved: "..", link: true },
    ...lockClosure(lock, tools),
  });
}

/**
 * The lockfile of a Portico installation made from tarballs (`npm pack` of this repository and of a
 * plugin): Portico's runtime dependencies as Portico's own lockfile has them, so `npm ci --offline`
 * installs it from the npm cache, without reaching the registry.
 */
export function installationLockfile(root: string, tarballs: { portico: string; plugins: { name: string; version: string; file: string }[] }): string {
  const lock = readLock(root);
  const portico = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as LockEntry & { version: string; dependencies: Record<string, string> };
  const deps: Record<string, string> = { portico: `file:${tarballs.portico}` };
  const packages: Record<string, LockEntry> = {
    "node_modules/portico": { version: portico.version, resolved: `file:${tarballs.portico}`, license: portico.license, dependencies: portico.dependencies, bin: portico.bin, engines: portico.engines },
  };
  for (const p of tarballs.plugins) {
    deps[p.name] = `file:${p.file}`;
    packages[`node_modules/${p.name}`] = { version: p.version, resolved: `file:${p.file}`, peerDependencies: { portico: `^${portico.version}` } };
  }
  for (const [key, entry] of Object.entries(lockClosure(lock, portico.dependencies))) {
    const { dev: _dev, ...rest } = entry;
    packages[key] = rest;
  }
  packages[""] = { name: "portico-installation", version: "1.0.0", dependencies: deps };
  return lockText("portico-installation", "1.0.0", lock.lockfileVersion, packages);
}
