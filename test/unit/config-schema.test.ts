import { expect } from "chai";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as z from "zod";
import { pluginConfigSchemas } from "../../core/cli/config-schema-command.js";
import { buildConfigJsonSchema } from "../../core/config/config-json-schema.js";
import { DEFAULT_CONFIG, portalConfigSchema, resolvePortalConfig } from "../../core/config/portal-config.js";
import { formatIssues, keyPath, parseWithSchema } from "../../core/config/schema-errors.js";
import { PortalError } from "../../core/errors/portal-error.js";
import { websocketConfigSchema } from "../../plugins/websocket/config.js";
import { ircConfigSchema } from "../../plugins/irc/config.js";
import { bundledPlugins } from "../../plugins/index.js";
import { telnetConfigSchema } from "../../plugins/telnet/config.js";
import { lineConfigSchema } from "../../plugin-template/src/config.js";
import { runCli } from "../support/portico-process.js";

type Json = Record<string, unknown>;

function badKey(raw: unknown): { key: unknown; message: string } {
  try {
    resolvePortalConfig(raw);
  } catch (err) {
    expect(err).to.be.instanceOf(PortalError);
    const e = err as PortalError;
    expect(e.code).to.equal("PORTAL_ERR_CONFIG_INVALID");
    return { key: e.details.key, message: e.message };
  }
  return expect.fail(`config ${JSON.stringify(raw)} was accepted`);
}

const fail = (key: string, problem: string): never => {
  throw new Error(`${key}: ${problem}`);
};

/** The object schema under a JSON Schema's `properties` (through `anyOf` for a nullable object). */
function objectOf(schema: Json): Json | undefined {
  if (schema.properties) return schema;
  const anyOf = schema.anyOf as Json[] | undefined;
  return anyOf?.find((s) => s.properties);
}

/** Every property (recursively) of a JSON Schema that has no description, as key paths. */
function undescribed(schema: Json, prefix = ""): string[] {
  const obj = objectOf(schema);
  if (!obj) return [];
  return Object.entries(obj.properties as Record<string, Json>).flatMap(([key, sub]) => {
    const path = prefix ? `${prefix}.${key}` : key;
    return [...(typeof sub.description === "string" && sub.description !== "" ? [] : [path]), ...undescribed(sub, path)];
  });
}

describe("config schemas", () => {
  const jsonSchema = buildConfigJsonSchema(pluginConfigSchemas(bundledPlugins));
  const properties = jsonSchema.properties as Record<string, Json>;
  const listenerItems = (properties.listeners as { items: Json }).items;

  describe("every problem names its key path", () => {
    it("nested keys, array indexes, unknown keys at their own path, the root", () => {
      expect(badKey({ limits: { maxCharLimit: "x" } }).key).to.equal("limits.maxCharLimit");
      expect(badKey({ listeners: [{ plugin: "a.B" }, { plugin: "a.B", config: 5 }] }).key).to.equal("listeners[1].config");
      expect(badKey({ listeners: [{ plugin: "a.B", extra: 1 }] })).to.deep.equal({ key: "listeners[0].extra", message: 'config key "listeners[0].extra": unknown key' });
      expect(badKey({ game: { restartFactor: 11 } }).message).to.equal('config key "game.restartFactor": must be between 1 and 10, got 11');
      expect(badKey({ link: { port: "4006" } }).message).to.equal('config key "link.port": expected a number, got "4006"');
      expect(badKey(7).key).to.equal("(root)");
    });

    it("keyPath renders dots, indexes and quoted odd keys; (root) for the empty path; a prefix goes first", () => {
      expect(keyPath(["tls", "certFile"])).to.equal("tls.certFile");
      expect(keyPath(["listeners", 0, "config"])).to.equal("listeners[0].config");
      expect(keyPath(["msspTable", "CRAWL DELAY"])).to.equal('msspTable["CRAWL DELAY"]');
      expect(keyPath([])).to.equal("(root)");
      expect(keyPath([], "listeners[2].config")).to.equal("listeners[2].config");
      expect(keyPath(["port"], "listeners[2].config")).to.equal("listeners[2].config.port");
    });

    it("formatIssues lists every problem, one entry per unknown key", () => {
      const schema = z.strictObject({ a: z.number(), inner: z.strictObject({ b: z.string() }) });
      const result = schema.safeParse({ a: "x", inner: { b: "ok", c: 1, d: 2 }, e: 3 });
      expect(result.success).to.equal(false);
      expect(formatIssues(result.error!.issues, "cfg").map((i) => i.key)).to.deep.equal(["cfg.a", "cfg.inner.c", "cfg.inner.d", "cfg.e"]);
      expect(formatIssues(result.error!.issues).find((i) => i.key === "e")?.problem).to.equal("unknown key");
    });

    it("parseWithSchema reports the first problem in the shared wording, and keeps a schema's own message", () => {
      const schema = z.strictObject({
        n: z.int().min(0).max(9),
        level: z.enum(["low", "high"]).optional(),
        at: z.number().min(1).optional(),
        text: z.string().refine((v) => v.includes("{text}"), "must contain {text}").optional(),
      });
      expect(() => parseWithSchema(schema, { n: 1.5 }, fail)).to.throw("n: expected a whole number, got 1.5");
      expect(() => parseWithSchema(schema, { n: 10 }, fail)).to.throw("n: must be between 0 and 9, got 10");
      expect(() => parseWithSchema(schema, { n: 1, level: "mid" }, fail)).to.throw('level: expected one of low, high, got "mid"');
      expect(() => parseWithSchema(schema, { n: 1, at: 0 }, fail)).to.throw("at: must be at least 1, got 0");
      expect(() => parseWithSchema(schema, { n: 1, text: "x" }, fail)).to.throw("text: must contain {text}");
      expect(() => parseWithSchema(schema, {}, fail)).to.throw("n: missing, expected a number");
      expect(parseWithSchema(schema, { n: 3 }, fail)).to.deep.equal({ n: 3 });
    });
  });

  describe("defaults", () => {
    it("fill every missing key of every section", () => {
      const c = resolvePortalConfig({ limits: { maxCommandRate: 5 }, game: {} });
      expect(c.limits).to.deep.equal({ ...DEFAULT_CONFIG.limits, maxCommandRate: 5 });
      expect(c.game).to.deep.equal({ enabled: true, entry: "", db: "", restartInitialMs: 1000, restartFactor: 1.5, restartMaxMs: 30_000, stopTimeoutMs: 4000, linkTimeoutMs: 30_000 });
      expect(c.admin).to.deep.equal({
        enabled: true, host: "127.0.0.1", port: 4005, headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 5_000,
        idleTimeoutMs: 30_000, maxConnections: 64, logIntervalMs: 60_000,
      });
      expect(Object.keys(c)).to.not.include("web");
      expect(c.logLevel).to.equal("info");
    });
  });

  describe("JSON Schema", () => {
    it("every schema has an input JSON Schema", () => {
      for (const schema of [portalConfigSchema, telnetConfigSchema, ircConfigSchema, lineConfigSchema, websocketConfigSchema]) {
        const json = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as Json;
        expect(json.type).to.equal("object");
        expect(json.additionalProperties).to.equal(false);
      }
    });

    it("is a 2020-12 schema with an $id, a title and the portal's sections", () => {
      expect(jsonSchema.$schema).to.equal("https://json-schema.org/draft/2020-12/schema");
      expect(jsonSchema.$id).to.be.a("string");
      expect(jsonSchema.title).to.equal("portico.config.json");
      expect(jsonSchema.additionalProperties).to.equal(false);
      expect(Object.keys(properties)).to.include.members(["$schema", "limits", "messages", "link", "plugins", "listeners", "admin", "game", "logLevel"]);
      expect(Object.keys(properties)).to.not.include("web");
      expect(properties.logLevel).to.include({ default: "info" });
      expect((properties.logLevel as Json).enum).to.deep.equal(["debug", "info", "warn", "error"]);
      expect(properties.link!.properties).to.have.nested.property("port.maximum", 65535);
    });

    it("every key of DEFAULT_CONFIG is in it, with a description", () => {
      const missing: string[] = [];
      const walk = (value: Record<string, unknown>, schema: Json | undefined, prefix: string): void => {
        for (const [key, sub] of Object.entries(value)) {
          const path = prefix ? `${prefix}.${key}` : key;
          const prop = (schema?.properties as Record<string, Json> | undefined)?.[key];
          if (!prop || typeof prop.description !== "string" || prop.description === "") missing.push(path);
          if (sub !== null && typeof sub === "object" && !Array.isArray(sub)) walk(sub as Record<string, unknown>, prop, path);
        }
      };
      walk(DEFAULT_CONFIG, jsonSchema, "");
      expect(missing).to.deep.equal([]);
    });

    it("every property of every schema has a description (portal, plugins, listener entries)", () => {
      expect(undescribed(jsonSchema)).to.deep.equal([]);
      expect(undescribed(listenerItems)).to.deep.equal([]);
      for (const schema of [telnetConfigSchema, ircConfigSchema, lineConfigSchema]) {
        expect(undescribed(z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as Json)).to.deep.equal([]);
      }
    });

    it("listeners: plugin suggests the bundled paths but takes any string; config gets each plugin's schema", () => {
      const paths = bundledPlugins.map((m) => m.path);
      const plugin = (listenerItems.properties as Record<string, Json>).plugin!;
      const anyOf = plugin.anyOf as Json[];
      expect(anyOf[0]!.enum).to.deep.equal(paths);
      expect(anyOf[1]!.type).to.equal("string");
      const allOf = listenerItems.allOf as { if: Json; then: { properties: { config: Json } } }[];
      expect(allOf).to.have.length(paths.length);
      expect(allOf.map((entry) => (entry.if.properties as { plugin: { const: string } }).plugin.const)).to.deep.equal(paths);
      for (const entry of allOf) {
        expect(entry.then.properties.config.type).to.equal("object");
        expect(entry.then.properties.config.description).to.be.a("string");
        expect(entry.then.properties.config).to.not.have.property("$schema");
      }
    });

    it("telnet's config: port with its range, tls as an object or null, defaults as annotations", () => {
      const telnet = (listenerItems.allOf as { if: Json; then: { properties: { config: Json } } }[])[0]!.then.properties.config;
      const props = telnet.properties as Record<string, Json>;
      expect(props.port).to.include({ type: "integer", minimum: 0, maximum: 65535 });
      expect(props.mccpLevel).to.include({ default: 6, minimum: 1, maximum: 9 });
      expect(props.tls!.anyOf).to.have.length(2);
      expect(telnet.additionalProperties).to.equal(false);
    });

    it("the only $schema keyword is at the root (a `$schema` property of the config is allowed)", () => {
      const found: string[] = [];
      const walk = (node: unknown, path: string, underProperties: boolean): void => {
        if (node === null || typeof node !== "object") return;
        for (const [key, value] of Object.entries(node)) {
          if (key === "$schema" && !underProperties) found.push(path);
          walk(value, `${path}/${key}`, key === "properties" && !underProperties);
        }
      };
      walk(jsonSchema, "#", false);
      expect(found).to.deep.equal(["#"]);
    });
  });

  describe("portico config-schema", function () {
    this.timeout(20_000);
    let dir = "";
    before(() => {
      dir = mkdtempSync(join(tmpdir(), "portico-schema-"));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it("prints the JSON Schema as JSON", async () => {
      const r = await runCli(["config-schema"], dir);
      expect(r.code).to.equal(0);
      expect(JSON.parse(r.stdout)).to.deep.equal(jsonSchema);
    });

    it("--out writes it to a file", async () => {
      const r = await runCli(["config-schema", "--out", "portico.schema.json"], dir);
      expect(r.code).to.equal(0);
      expect(JSON.parse(readFileSync(join(dir, "portico.schema.json"), "utf8"))).to.deep.equal(jsonSchema);
    });
  });
});
