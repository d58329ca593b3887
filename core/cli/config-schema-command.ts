import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { buildConfigJsonSchema, type PluginConfigSchema } from "../config/config-json-schema.js";
import { loadAppConfig } from "../config/load-config.js";
import { errorMessage } from "../errors/portal-error.js";
import { PackageLoader } from "../plugins/package-loader.js";
import type { PluginManifest } from "../plugins/plugin-manifest.js";
import { PluginRegistry } from "../plugins/plugin-registry.js";

/** The manifests' config schemas, as buildConfigJsonSchema takes them. */
export function pluginConfigSchemas(manifests: readonly PluginManifest[]): PluginConfigSchema[] {
  return manifests.map((m) => ({ path: m.path, description: m.description, config: m.config }));
}

/**
 * The bundled manifests plus those of the packages in the config's `plugins.packages` (installed
 * where Portico runs). A package that cannot be loaded, or a config that cannot be read, is
 * reported on stderr and left out: the schema is most needed while the config is being fixed.
 */
export async function installedManifests(bundled: readonly PluginManifest[], configPath?: string): Promise<PluginManifest[]> {
  const registry = new PluginRegistry();
  for (const m of bundled) registry.register(m, "bundled");
  let packages: readonly string[] = [];
  try {
    packages = loadAppConfig(configPath === undefined ? {} : { configPath }).config.plugins.packages;
  } catch (err) {
    process.stderr.write(`portico: config not read (${errorMessage(err)}); the schema lists the bundled plugins only\n`);
  }
  const loader = new PackageLoader(registry, { packages, allowPackages: [] });
  const found: PluginManifest[] = [...bundled];
  for (const pkg of packages) {
    try {
      for (const path of await loader.load(pkg)) found.push(registry.get(path)!);
    } catch (err) {
      process.stderr.write(`portico: ${errorMessage(err)}\n`);
    }
  }
  return found;
}

/** `portico config-schema [--out <file>]`: the JSON Schema of portico.config.json, on stdout or into `out`. */
export function configSchemaCommand(manifests: readonly PluginManifest[], out?: string): void {
  const text = `${JSON.stringify(buildConfigJsonSchema(pluginConfigSchemas(manifests)), null, 2)}\n`;
  if (out === undefined) {
    process.stdout.write(text);
    return;
  }
  const path = resolve(out);
  writeFileSync(path, text);
  process.stdout.write(`wrote the JSON Schema of portico.config.json to ${path}\n`);
}
