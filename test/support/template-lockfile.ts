import { readFileSync } from "node:fs";
import { join } from "node:path";

type LockEntry = Record<string, unknown> & {
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
};
interface Lockfile {
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
 * The plugin template's package-lock.json, built from Portico's own: the template's dev tools
 * (mocha, typescript, types) at exactly the versions and tree places Portico's lockfile has, so a
 * plugin scaffolded from the template installs offline from the npm cache Portico's `npm ci`
 * filled; and a link to Portico (`..`) for its tests. `npm run template:lock` writes it;
 * test/unit/template-lockfile.test.ts keeps it in step.
 */
export function buildTemplateLockfile(root: string): string {
  const lock = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8")) as Lockfile;
  const portico = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as LockEntry & { version: string };
  const tpl = JSON.parse(readFileSync(join(root, "plugin-template", "package.json"), "utf8")) as {
    name: string; version: string; license?: string; devDependencies: Record<string, string>; peerDependencies: Record<string, string>; engines?: unknown;
  };
  const packages: Record<string, LockEntry> = {
    "": { name: tpl.name, version: tpl.version, license: tpl.license, devDependencies: tpl.devDependencies, peerDependencies: tpl.peerDependencies, engines: tpl.engines },
    "..": {
      name: "portico", version: portico.version, dev: true, license: portico.license,
      dependencies: portico.dependencies, bin: portico.bin, devDependencies: portico.devDependencies, engines: portico.engines,
    },
    "node_modules/portico": { resolved: "..", link: true },
  };
  const queue: [string, string][] = Object.keys(tpl.devDependencies).filter((n) => n !== "portico").map((n) => ["", n]);
  while (queue.length > 0) {
    const [from, name] = queue.shift()!;
    const key = resolveKey(lock.packages, from, name);
    if (!key) {
      if (from === "") throw new Error(`${name} is a dev dependency of the template but not in Portico's lockfile: add it to Portico's devDependencies`);
      continue; // an optional dependency npm skipped
    }
    if (packages[key]) continue;
    const entry = lock.packages[key]!;
    if (from === "" && entry.version !== tpl.devDependencies[name]) {
      throw new Error(`the template pins ${name}@${tpl.devDependencies[name]} but Portico's lockfile has ${entry.version}: pin the same version`);
    }
    packages[key] = entry;
    for (const dep of Object.keys({ ...entry.dependencies, ...entry.optionalDependencies, ...entry.peerDependencies })) queue.push([key, dep]);
  }
  const sorted = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b))));
  const out = { name: tpl.name, version: tpl.version, lockfileVersion: lock.lockfileVersion, requires: true, packages: sorted };
  return `${JSON.stringify(out, null, 2)}\n`;
}
