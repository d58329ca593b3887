import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { ErrorCodes } from "../errors/error-codes.js";
import { PortalError, errorMessage } from "../errors/portal-error.js";
import { looksLikeManifest, type PluginManifest } from "./plugin-manifest.js";
import type { PluginRegistry } from "./plugin-registry.js";

export interface PackageOptions {
  /** Packages loaded at start; their manifests are registered (and their namespaces allowed). */
  packages: readonly string[];
  /** Namespaces (package names, or `@scope/*`) whose paths the game may start on demand. */
  allowPackages: readonly string[];
  /** Where packages are resolved from (its node_modules); default the working directory. */
  resolveFrom?: string;
}

/** Splits `@scope/pkg.Export` / `pkg.Export` into package and export name. */
export function splitPackagePath(path: string): { pkg: string; exportName: string } | undefined {
  const dot = path.lastIndexOf(".");
  if (dot <= 0 || dot === path.length - 1) return undefined;
  return { pkg: path.slice(0, dot), exportName: path.slice(dot + 1) };
}

/** A bare npm package name (`name` or `@scope/name`): no subpaths, no `.`/`..` segments. */
const PACKAGE_NAME = /^(@[a-z0-9][\w.~-]*\/)?[a-z0-9][\w.~-]*$/i;

/**
 * Loads community plugins from npm packages: each package's exported manifests are registered
 * under paths in the package's own namespace (`<package>.<Name>`). Paths starting with `plugins.`
 * are the bundled plugins' and never looked up in packages.
 */
export class PackageLoader {
  private readonly loaded = new Map<string, Promise<readonly string[]>>();

  constructor(private readonly registry: PluginRegistry, private readonly options: PackageOptions) {}

  /** Whether `pkg` may be loaded: listed in `packages`, or inside an `allowPackages` namespace. */
  allowed(pkg: string): boolean {
    if (!PACKAGE_NAME.test(pkg)) return false;
    const entries = [...this.options.packages, ...this.options.allowPackages];
    return entries.some((entry) => entry === pkg || (entry.endsWith("/*") && pkg.startsWith(entry.slice(0, -1))));
  }

  /** Loads `pkg` once and registers its manifests; resolves with their paths. Rejects with a coded error naming the package. */
  load(pkg: string): Promise<readonly string[]> {
    let p = this.loaded.get(pkg);
    if (!p) {
      p = this.importAndRegister(pkg);
      this.loaded.set(pkg, p);
      p.catch(() => this.loaded.delete(pkg));
    }
    return p;
  }

  /** The manifest for `path` when it names an allowed package's export; undefined when `path` is not a package path. */
  async manifestFor(path: string): Promise<PluginManifest | undefined> {
    const parts = splitPackagePath(path);
    if (!parts || path.startsWith("plugins.")) return undefined;
    const { pkg } = parts;
    if (!this.allowed(pkg)) {
      throw new PortalError(ErrorCodes.PLUGIN_NOT_ALLOWED, `ServerConnect: protocol factory '${path}' not found (package ${pkg} is not in plugins.packages or plugins.allowPackages).`, { path, package: pkg });
    }
    const paths = await this.load(pkg);
    const manifest = this.registry.get(path);
    if (!manifest) {
      throw new PortalError(ErrorCodes.UNKNOWN_PROTOCOL, `ServerConnect: protocol factory '${path}' not found (package ${pkg} provides ${paths.join(", ") || "no plugin"}).`, { path, package: pkg });
    }
    return manifest;
  }

  private async importAndRegister(pkg: string): Promise<readonly string[]> {
    const fail = (code: (typeof ErrorCodes)[keyof typeof ErrorCodes], why: string, cause?: unknown): never => {
      throw new PortalError(code, `plugin package ${pkg}: ${why}`, { package: pkg }, { cause });
    };
    if (!PACKAGE_NAME.test(pkg)) fail(ErrorCodes.PLUGIN_PACKAGE, "is not an npm package name");
    const from = this.options.resolveFrom ?? process.cwd();
    let file = "";
    try {
      file = createRequire(join(from, "noop.js")).resolve(pkg);
    } catch (err) {
      fail(ErrorCodes.PLUGIN_PACKAGE, `is not installed where Portico looks for it (${from}); run \`npm install ${pkg}\` there (${errorMessage(err).split("\n")[0]})`, err);
    }
    let mod: Record<string, unknown> = {};
    try {
      mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    } catch (err) {
      fail(ErrorCodes.PLUGIN_PACKAGE, `failed to load: ${errorMessage(err)}`, err);
    }
    const manifests = [...new Set(Object.values(mod).flatMap((v) => (Array.isArray(v) ? v : [v])).filter(looksLikeManifest))];
    if (manifests.length === 0) fail(ErrorCodes.PLUGIN_PACKAGE, "exports no plugin manifest (export the value of definePlugin(...))");
    const paths: string[] = [];
    for (const candidate of manifests) {
      const path = (candidate as { path: string }).path;
      if (!path.startsWith(`${pkg}.`)) {
        fail(ErrorCodes.PLUGIN_MANIFEST, `declares path ${JSON.stringify(path)}, outside its namespace: its paths must start with "${pkg}."`);
      }
      if (this.registry.get(path) === candidate) {
        paths.push(path);
        continue;
      }
      this.registry.register(candidate, `package ${pkg}`);
      paths.push(path);
    }
    return paths;
  }
}
