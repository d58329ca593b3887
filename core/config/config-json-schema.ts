import * as z from "zod";
import { portalConfigSchema } from "./portal-config.js";

/** A plugin as the JSON Schema sees it: its dotted path and the zod schema of its listener config. */
export interface PluginConfigSchema {
  path: string;
  description?: string;
  config: z.ZodType;
}

type Json = Record<string, unknown>;

export const CONFIG_SCHEMA_ID = "urn:portico:portico.config.json";

/** What a user writes, so defaults are optional and transforms are described by their input. */
function inputSchema(schema: z.ZodType): Json {
  return z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as Json;
}

/** Drops the `$schema` keyword (the dialect); only the document's root carries it. */
function withoutDialect(schema: Json): Json {
  const { $schema: _dialect, ...rest } = schema;
  return rest;
}

function pluginSchema(plugin: PluginConfigSchema): Json {
  const schema = withoutDialect(inputSchema(plugin.config));
  // A schema with $defs refers to them as "#/$defs/..."; its own $id keeps those refs inside it.
  if ("$defs" in schema && !("$id" in schema)) schema.$id = `urn:portico:plugin-config:${plugin.path}`;
  if (plugin.description && !("description" in schema)) schema.description = plugin.description;
  return schema;
}

/**
 * The JSON Schema of `portico.config.json`: the portal's keys, and for each listener whose
 * `plugin` is one of `plugins`, that plugin's config. Editors suggest the known paths; another
 * path (an npm package) is not flagged, and its config is left unchecked.
 */
export function buildConfigJsonSchema(plugins: readonly PluginConfigSchema[]): Json {
  const root = inputSchema(portalConfigSchema);
  const properties = root.properties as Record<string, Json>;
  const items = (properties.listeners as { items: Json & { properties: Record<string, Json> } }).items;
  const plugin = items.properties.plugin as Json;
  items.properties.plugin = {
    description: plugin.description,
    anyOf: [
      { enum: plugins.map((p) => p.path), description: "A plugin this portal knows." },
      { ...plugin, description: "Any other plugin path, e.g. <npm package>.<export>." },
    ],
  };
  if (plugins.length > 0) {
    items.allOf = plugins.map((p) => ({
      if: { properties: { plugin: { const: p.path } }, required: ["plugin"] },
      then: { properties: { config: pluginSchema(p) } },
    }));
  }
  return { $schema: root.$schema, $id: CONFIG_SCHEMA_ID, title: "portico.config.json", ...withoutDialect(root) };
}

