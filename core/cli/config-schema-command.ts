import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import type * as z from "zod";
import { ircConfigSchema } from "../../plugins/irc/config.js";
import { telnetConfigSchema } from "../../plugins/telnet/config.js";
import { buildConfigJsonSchema, type PluginConfigSchema } from "../config/config-json-schema.js";
import type { PluginManifest } from "../plugins/plugin-manifest.js";

// TODO(contract): take manifest.config once manifests carry their schema
const CONFIG_SCHEMAS: Readonly<Record<string, z.ZodType>> = {
  "plugins.telnet.TelnetFactory": telnetConfigSchema,
  "plugins.irc.IrcBotFactory": ircConfigSchema,
};

/** The manifests whose config schema is known, as buildConfigJsonSchema takes them. */
export function pluginConfigSchemas(manifests: readonly PluginManifest[]): PluginConfigSchema[] {
  return manifests.flatMap((m) => {
    const config = Object.hasOwn(CONFIG_SCHEMAS, m.path) ? CONFIG_SCHEMAS[m.path] : undefined;
    return config ? [{ path: m.path, description: m.description, config }] : [];
  });
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
