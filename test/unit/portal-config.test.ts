import { expect } from "chai";
import { DEFAULT_CONFIG, resolvePortalConfig } from "../../core/config/portal-config.js";
import { PortalError } from "../../core/errors/portal-error.js";
import { Portal } from "../../core/portal.js";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

function configError(raw: unknown): PortalError {
  try {
    resolvePortalConfig(raw);
  } catch (err) {
    expect(err).to.be.instanceOf(PortalError);
    return err as PortalError;
  }
  expect.fail(`config ${JSON.stringify(raw)} was accepted`);
}

function expectBadKey(raw: unknown, key: string): PortalError {
  const err = configError(raw);
  expect(err.code).to.equal("PORTAL_ERR_CONFIG_INVALID");
  expect(err.details).to.deep.equal({ key });
  expect(err.message).to.contain(`config key "${key}"`);
  return err;
}

describe("portal config", () => {
  describe("defaults", () => {
    it("match Evennia's numbers where they exist, and Portico's own otherwise", () => {
      const c = resolvePortalConfig();
      expect(c.limits).to.deep.equal({
        maxConnectionRate: 2,
        connectionQueueMax: 500,
        connectionQueuePerIp: 10,
        ipv6PrefixLength: 64,
        maxCommandRate: 80,
        maxCharLimit: 6000,
        maxOobBytes: 65536,
        pendingInputMax: 200,
        inputRetainBytes: 256 * 1024,
        inputRetainTotalBytes: 64 * 1024 * 1024,
      });
      // portalId unset: the portal settles it ("portal" over TCP, its persisted own over NATS; see nats-config.test.ts).
      expect([c.portalId, c.serverName, c.dataDir]).to.deep.equal([undefined, "Portico", "./data"]);
      expect(new Portal({ config: {} }).config.portalId).to.equal("portal");
      expect(c.link).to.deep.equal({
        transport: "tcp",
        nats: { servers: ["nats://127.0.0.1:4222"], prefix: "portico", connectTimeoutMs: 5_000, reconnectWaitMs: 500, resendMs: 250 },
        host: "127.0.0.1", port: 4006, maxFrameBytes: 16 * 1024 * 1024, batchMaxBytes: 256 * 1024,
        heartbeatMs: 1_000, heartbeatTimeoutMs: 5_000, handshakeTimeoutMs: 5_000, helloMaxFrameBytes: 8 * 1024,
        maxUnauthenticated: 16, maxServerDataBytes: 1024 * 1024, maxBufferedBytes: 64 * 1024 * 1024,
      });
      expect(c.plugins).to.deep.equal({ packages: [], allowPackages: [], startTimeoutMs: 10_000, stopTimeoutMs: 2000, settings: {} });
      expect(c.listeners).to.deep.equal([]);
    });

    it("gives a portal over NATS without a portalId its own, made once and kept in <dataDir>/portal-id", () => {
      const dataDir = mkdtempSync(join(tmpdir(), "portico-portal-id-"));
      try {
        const config = { dataDir, link: { transport: "nats" } };
        const id = new Portal({ config }).config.portalId;
        expect(id).to.match(/^[a-z0-9_-]{1,27}-[0-9a-f]{4}$/);
        expect(readFileSync(join(dataDir, "portal-id"), "utf8")).to.equal(`${id}\n`);
        expect(new Portal({ config }).config.portalId).to.equal(id);
        expect(new Portal({ config: { ...config, portalId: "chosen" } }).config.portalId).to.equal("chosen");
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    });

    it("has Evennia's player-facing texts, with the space after 'active.'", () => {
      const m = resolvePortalConfig({}).messages;
      expect(m.commandRate).to.equal("You entered commands too fast. Wait a moment and try again.");
      expect(m.charLimit).to.equal("You entered a string that was too long. Please break it up into multiple parts.");
      expect(m.queued).to.equal("{servername} DoS protection is active. You are queued to connect in {seconds} seconds ...");
    });

    it("an empty config equals the defaults and is a fresh copy", () => {
      const c = resolvePortalConfig({});
      expect(c).to.deep.equal(DEFAULT_CONFIG);
      c.limits.maxCommandRate = 1;
      c.plugins.allowPackages.push("x");
      expect(DEFAULT_CONFIG.limits.maxCommandRate).to.equal(80);
      expect(DEFAULT_CONFIG.plugins.allowPackages).to.deep.equal([]);
      expect(resolvePortalConfig({}).limits.maxCommandRate).to.equal(80);
    });
  });

  describe("merging", () => {
    it("overrides only the given keys of a section", () => {
      const c = resolvePortalConfig({ limits: { maxCommandRate: 10, maxConnectionRate: 0.5 }, serverName: "Dungeon" });
      expect(c.limits).to.deep.equal({ ...DEFAULT_CONFIG.limits, maxCommandRate: 10, maxConnectionRate: 0.5 });
      expect(c.serverName).to.equal("Dungeon");
      expect(c.link).to.deep.equal(DEFAULT_CONFIG.link);
    });

    it("accepts 0 for the rate limits and the char limit (they disable)", () => {
      const c = resolvePortalConfig({ limits: { maxConnectionRate: 0, maxCommandRate: 0, maxCharLimit: 0 } });
      expect([c.limits.maxConnectionRate, c.limits.maxCommandRate, c.limits.maxCharLimit]).to.deep.equal([0, 0, 0]);
    });

    it("copies listeners and fills a missing config with {}", () => {
      const raw = { listeners: [{ plugin: "plugins.telnet.TelnetFactory", config: { port: 4000 } }, { plugin: "plugins.ws.WsFactory" }] };
      const c = resolvePortalConfig(raw);
      expect(c.listeners).to.deep.equal([
        { plugin: "plugins.telnet.TelnetFactory", config: { port: 4000 } },
        { plugin: "plugins.ws.WsFactory", config: {} },
      ]);
      c.listeners[0]!.config.port = 1;
      expect(raw.listeners[0]!.config!.port).to.equal(4000);
    });

    it("takes a list of allowed packages", () => {
      expect(resolvePortalConfig({ plugins: { allowPackages: ["portico-x", "@acme/*"] } }).plugins.allowPackages).to.deep.equal(["portico-x", "@acme/*"]);
    });

    it("takes packages to load at start and the plugin start/stop timeouts", () => {
      const c = resolvePortalConfig({ plugins: { packages: ["portico-plugin-chat"], startTimeoutMs: 500, stopTimeoutMs: 60_000, settings: { "plugins.rss.RssBotFactory": { minIntervalSeconds: 5 } } } });
      expect(c.plugins).to.deep.equal({ packages: ["portico-plugin-chat"], allowPackages: [], startTimeoutMs: 500, stopTimeoutMs: 60_000, settings: { "plugins.rss.RssBotFactory": { minIntervalSeconds: 5 } } });
      expectBadKey({ plugins: { startTimeoutMs: 99 } }, "plugins.startTimeoutMs");
      expectBadKey({ plugins: { stopTimeoutMs: 60_001 } }, "plugins.stopTimeoutMs");
      expectBadKey({ plugins: { startTimeoutMs: 1000.5 } }, "plugins.startTimeoutMs");
    });

    it("accepts and drops a root $schema (for editors)", () => {
      const c = resolvePortalConfig({ $schema: "./portico.schema.json", serverName: "Dungeon" });
      expect(c).to.deep.equal({ ...DEFAULT_CONFIG, serverName: "Dungeon" });
      expect(c).to.not.have.property("$schema");
      expectBadKey({ $schema: 5 }, "$schema");
    });
  });

  describe("bad or unknown keys → PORTAL_ERR_CONFIG_INVALID naming the key", () => {
    it("an unknown top-level key", () => {
      const err = expectBadKey({ limit: {} }, "limit");
      expect(err.message).to.equal('config key "limit": unknown key');
    });

    it("an unknown key inside a section", () => {
      const err = expectBadKey({ limits: { maxCommandRates: 5 } }, "limits.maxCommandRates");
      expect(err.message).to.equal('config key "limits.maxCommandRates": unknown key');
    });

    it("keys named like Object.prototype members are unknown keys, and nothing is polluted", () => {
      expectBadKey({ limits: { toString: 5 } }, "limits.toString");
      expectBadKey({ link: { hasOwnProperty: 1 } }, "link.hasOwnProperty");
      expectBadKey({ constructor: {} }, "constructor");
      expectBadKey({ toString: "x" }, "toString");
      expectBadKey(JSON.parse('{"__proto__": {"polluted": 1}}'), "__proto__");
      expectBadKey(JSON.parse('{"limits": {"__proto__": {"polluted": 1}}}'), "limits.__proto__");
      expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
      expect(typeof Object.prototype.toString).to.equal("function");
    });

    it("a wrong type", () => {
      expect(expectBadKey({ limits: { maxCommandRate: "80" } }, "limits.maxCommandRate").message)
        .to.equal('config key "limits.maxCommandRate": expected a number, got "80"');
      expectBadKey({ serverName: 5 }, "serverName");
      expectBadKey({ limits: 5 }, "limits");
      expectBadKey({ limits: [] }, "limits");
      expectBadKey({ plugins: { allowPackages: "x" } }, "plugins.allowPackages");
      expectBadKey({ plugins: { allowPackages: [""] } }, "plugins.allowPackages[0]");
      expectBadKey({ plugins: { packages: [5] } }, "plugins.packages[0]");
      expectBadKey({ limits: { maxCharLimit: Number.NaN } }, "limits.maxCharLimit");
    });

    it("out of range or not whole", () => {
      expect(expectBadKey({ limits: { maxCommandRate: -1 } }, "limits.maxCommandRate").message)
        .to.equal('config key "limits.maxCommandRate": must be between 0 and 1000000, got -1');
      expect(expectBadKey({ link: { port: 70000 } }, "link.port").message).to.equal('config key "link.port": must be between 0 and 65535, got 70000');
      expect(expectBadKey({ limits: { maxCharLimit: 1.5 } }, "limits.maxCharLimit").message).to.equal('config key "limits.maxCharLimit": expected a whole number, got 1.5');
      expectBadKey({ limits: { connectionQueueMax: 0 } }, "limits.connectionQueueMax");
      expectBadKey({ limits: { maxCharLimit: 10.5 } }, "limits.maxCharLimit");
      expectBadKey({ limits: { maxOobBytes: 15 } }, "limits.maxOobBytes");
      expectBadKey({ link: { port: 65536 } }, "link.port");
    });

    it("a value outside its set, a wrong boolean, a section that is not an object", () => {
      expect(expectBadKey({ logLevel: "loud" }, "logLevel").message).to.equal('config key "logLevel": expected one of debug, info, warn, error, got "loud"');
      expect(expectBadKey({ admin: { enabled: "yes" } }, "admin.enabled").message).to.equal('config key "admin.enabled": expected true or false, got "yes"');
      expect(expectBadKey({ link: [] }, "link").message).to.equal('config key "link": expected an object, got a list');
      expect(expectBadKey({ messages: { queued: 5 } }, "messages.queued").message).to.equal('config key "messages.queued": expected a string, got 5');
    });

    it("a string that does not fit its pattern", () => {
      expectBadKey({ portalId: "has space" }, "portalId");
      expectBadKey({ portalId: "" }, "portalId");
      expectBadKey({ portalId: "a:b" }, "portalId");
      expectBadKey({ link: { host: "" } }, "link.host");
    });

    it("bad listener entries name the index and field", () => {
      expectBadKey({ listeners: {} }, "listeners");
      expectBadKey({ listeners: [{ config: {} }] }, "listeners[0].plugin");
      expectBadKey({ listeners: [{ plugin: "plugins.a.B" }, { plugin: "plugins.a.B", config: [] }] }, "listeners[1].config");
      expectBadKey({ listeners: [{ plugin: "plugins.a.B", port: 1 }] }, "listeners[0].port");
      expect(expectBadKey({ listeners: [{ config: {} }] }, "listeners[0].plugin").message).to.equal('config key "listeners[0].plugin": missing, expected a string');
      expectBadKey({ listeners: [{ plugin: "" }] }, "listeners[0].plugin");
    });

    it("a root that is not an object", () => {
      expect(expectBadKey(null, "(root)").message).to.equal('config key "(root)": expected an object, got null');
      expectBadKey([], "(root)");
      expectBadKey("x", "(root)");
    });
  });
});
