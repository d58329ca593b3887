import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { PORTICO_ROOT } from "../version.js";

const NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
/** Template files copied (relative to plugin-template/); build output and dependencies never are. */
const SKIP = new Set(["node_modules", "dist"]);
const GITIGNORE = "node_modules/\ndist/\n*.tgz\n";

export interface NewPluginOptions {
  name: string;
  /** Target directory; default ./portico-plugin-<name>. */
  dir?: string;
  /** How the new package depends on Portico for its tests: default `file:<this Portico's root>`. */
  porticoSpec?: string;
  /** Where the template and Portico's package.json are read from (tests); default PORTICO_ROOT. */
  root?: string;
}

export interface NewPluginResult {
  dir: string;
  packageName: string;
  path: string;
  files: string[];
}

const pascal = (name: string) => name.split("-").map((p) => p[0]!.toUpperCase() + p.slice(1)).join("");

/** The template's names and what they become for `name` (order matters: longer names first). */
function renames(name: string): [RegExp, string][] {
  const P = pascal(name);
  const c = P[0]!.toLowerCase() + P.slice(1);
  return [
    [/portico-plugin-line/g, `portico-plugin-${name}`],
    [/LineFactory/g, `${P}Factory`],
    [/LineSession/g, `${P}Session`],
    [/LineConfig/g, `${P}Config`],
    [/lineManifest/g, `${c}Manifest`],
    [/lineConfigSchema/g, `${c}ConfigSchema`],
    [/line-factory/g, `${name}-factory`],
    [/line-session/g, `${name}-session`],
    [/"line"/g, `"${name}"`],
    [/\bline plugin\b/g, `${name} plugin`],
  ];
}

function rename(text: string, rules: [RegExp, string][]): string {
  return rules.reduce((t, [from, to]) => t.replace(from, to), text);
}

function listFiles(dir: string, base = dir): string[] {
  return readdirSync(dir).flatMap((entry) => {
    if (SKIP.has(entry)) return [];
    const full = join(dir, entry);
    return statSync(full).isDirectory() ? listFiles(full, base) : [relative(base, full)];
  });
}

/**
 * `portico new-plugin <name> [--dir <path>]`: copies plugin-template/ with its names replaced
 * (package `portico-plugin-<name>`, classes `<Name>Factory`/`<Name>Session`, protocol key
 * `<name>`), depending on this Portico (a `file:` path, or the tarball given), so that
 * `npm install && npm run build && npm test` work there, outside this repository.
 */
export function newPlugin(options: NewPluginOptions): NewPluginResult {
  const { name } = options;
  if (!NAME.test(name) || name.length > 40) {
    throw new Error(`plugin name ${JSON.stringify(name)}: use lower-case letters, digits and single dashes, starting with a letter (e.g. "chat" or "mud-chat")`);
  }
  const root = options.root ?? PORTICO_ROOT;
  const template = join(root, "plugin-template");
  if (!existsSync(join(template, "package.json"))) throw new Error(`the plugin template is missing: ${template}`);
  const dir = resolve(options.dir ?? `portico-plugin-${name}`);
  if (existsSync(dir) && readdirSync(dir).length > 0) throw new Error(`${dir} exists and is not empty; choose another --dir`);
  const portico = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };
  const rules = renames(name);
  const written: string[] = [];
  for (const file of listFiles(template)) {
    const target = join(dir, rename(file, rules));
    let text = rename(readFileSync(join(template, file), "utf8"), rules);
    const spec = options.porticoSpec ?? `file:${root}`;
    if (file === "package.json") text = packageJson(text, name, spec, portico.version);
    if (file === "package-lock.json") {
      // Only a file: link keeps the lockfile (every other package in it is pinned, so an offline install works).
      if (!spec.startsWith("file:") || spec.endsWith(".tgz")) continue;
      text = lockfile(text, name, relative(dir, resolve(spec.slice("file:".length))), portico.version);
    }
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, text);
    written.push(relative(dir, target));
  }
  writeFileSync(join(dir, ".gitignore"), GITIGNORE);
  written.push(".gitignore");
  return { dir, packageName: `portico-plugin-${name}`, path: `portico-plugin-${name}.${pascal(name)}Factory`, files: written.sort() };
}

function packageJson(text: string, name: string, porticoSpec: string, porticoVersion: string): string {
  const pkg = JSON.parse(text) as Record<string, unknown> & { devDependencies: Record<string, string>; peerDependencies: Record<string, string> };
  pkg.version = "0.1.0";
  pkg.description = `A ${name} protocol plugin for Portico`;
  pkg.devDependencies.portico = porticoSpec;
  pkg.peerDependencies.portico = `^${porticoVersion}`;
  return `${JSON.stringify(pkg, null, 2)}\n`;
}

/** The template's lockfile for the new package: its name, and the link to Portico at `porticoPath` (relative). */
function lockfile(text: string, name: string, porticoPath: string, porticoVersion: string): string {
  type Entry = Record<string, unknown> & { devDependencies?: Record<string, string>; peerDependencies?: Record<string, string> };
  const lock = JSON.parse(text) as { name: string; version: string; packages: Record<string, Entry> };
  const packages: Record<string, Entry> = {};
  for (const [key, entry] of Object.entries(lock.packages)) {
    if (key === "") {
      packages[key] = {
        ...entry, name: `portico-plugin-${name}`, version: "0.1.0",
        devDependencies: { ...entry.devDependencies, portico: `file:${porticoPath}` },
        peerDependencies: { ...entry.peerDependencies, portico: `^${porticoVersion}` },
      };
    } else if (key === "node_modules/portico") {
      packages[key] = { ...entry, resolved: porticoPath };
    } else if (!key.startsWith("node_modules/")) {
      packages[porticoPath] = { ...entry, version: porticoVersion }; // the linked Portico itself
    } else {
      packages[key] = entry;
    }
  }
  return `${JSON.stringify({ ...lock, name: `portico-plugin-${name}`, version: "0.1.0", packages }, null, 2)}\n`;
}

/** Prints what was made and what to run next. */
export function newPluginCommand(options: NewPluginOptions): void {
  const r = newPlugin(options);
  process.stdout.write(
    `created ${r.packageName} in ${r.dir} (${r.files.length} files); its plugin path is ${r.path}\n` +
    `next:\n  cd ${relative(process.cwd(), r.dir) || basename(r.dir)}\n  npm install && npm run build && npm test\n`,
  );
}
