import { expect } from "chai";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { container } from "tsyringe";
import {
  definePlugin, ErrorCodes, inject, injectable, PLUGIN_API_VERSION, PLUGIN_CONTEXT, PortalError, PluginRegistry, z,
  type PluginContext, type PluginManifest, type PortalInfo, type ProtocolFactory,
} from "../../core/index.js";
import { checkManifest } from "../../core/plugins/plugin-manifest.js";
import { splitPackagePath } from "../../core/plugins/package-loader.js";
import { ProtocolLauncher, type LauncherOptions } from "../../core/plugins/protocol-launcher.js";
import type { SessionHost } from "../../core/plugins/plugin-port.js";
import { FakeClock, MemoryLogger } from "../../core/testing/index.js";

// ---- test factories ----

const echoConfig = z.object({
  port: z.number().int().min(0).max(65535).default(4000),
  greeting: z.string().default("hi"),
}).strict();
type EchoConfig = z.output<typeof echoConfig>;

const events: string[] = [];

/** Built by tsyringe: it declares its own injected constructor. */
@injectable()
class EchoFactory implements ProtocolFactory {
  static instances: EchoFactory[] = [];
  started = 0;
  stopped = 0;

  constructor(@inject(PLUGIN_CONTEXT) readonly ctx: PluginContext<EchoConfig>) {
    EchoFactory.instances.push(this);
  }

  get config(): EchoConfig {
    return this.ctx.config;
  }

  async start(): Promise<void> {
    this.started += 1;
    events.push(`start:${this.config.greeting}`);
  }

  async stop(): Promise<void> {
    this.stopped += 1;
    events.push(`stop:${this.config.greeting}`);
  }

  status(): Record<string, unknown> {
    return { greeting: this.config.greeting, port: this.config.port };
  }
}

/** No decorator: constructed with the context as its one argument. */
class BrokenFactory implements ProtocolFactory {
  static instances: BrokenFactory[] = [];
  stopped = 0;

  constructor(readonly ctx: PluginContext<{ error?: unknown; hang?: boolean }>) {
    BrokenFactory.instances.push(this);
  }

  async start(): Promise<void> {
    if (this.ctx.config.hang) return new Promise(() => undefined);
    throw this.ctx.config.error;
  }

  async stop(): Promise<void> {
    this.stopped += 1;
  }
}

class ThrowingConstructorFactory implements ProtocolFactory {
  constructor() {
    throw new Error("cannot construct");
  }
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
}

class StubbornFactory implements ProtocolFactory {
  async start(): Promise<void> {}
  async stop(): Promise<void> {
    throw new Error("will not stop");
  }
  status(): Record<string, unknown> {
    throw new Error("no status");
  }
}

class HangingStopFactory implements ProtocolFactory {
  async start(): Promise<void> {}
  stop(): Promise<void> {
    return new Promise(() => undefined);
  }
}

const echoManifest = definePlugin({
  path: "plugins.echo.EchoFactory",
  direction: "inbound",
  pluginApi: "^2.0.0",
  factory: EchoFactory,
  config: echoConfig,
  description: "echo",
});

const brokenManifest = definePlugin({
  path: "plugins.broken.BrokenFactory",
  direction: "outbound",
  pluginApi: "^2",
  factory: BrokenFactory,
  config: z.object({ error: z.unknown().optional(), hang: z.boolean().optional() }),
});

const anyConfig = z.object({}).passthrough();

function manifest(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { path: "plugins.x.XFactory", direction: "inbound", pluginApi: "^2.0.0", factory: EchoFactory, config: echoConfig, ...overrides };
}

function thrown(fn: () => unknown): PortalError {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(PortalError);
    return err as PortalError;
  }
  expect.fail("did not throw");
}

async function rejected(p: Promise<unknown>): Promise<PortalError> {
  try {
    await p;
  } catch (err) {
    expect(err).to.be.instanceOf(PortalError);
    return err as PortalError;
  }
  expect.fail("did not reject");
}

const nullHost: SessionHost = {
  connect() {}, connectBot() {}, sync() {}, data_in() {}, disconnect() {}, evict() {}, count_loggedin: () => 0, count_players: () => 0,
};

function makeLauncher(manifests: unknown[] = [echoManifest, brokenManifest], options: Partial<LauncherOptions> = {}) {
  const root = container.createChildContainer();
  const registry = new PluginRegistry();
  for (const m of manifests) registry.register(m, "test");
  const logger = new MemoryLogger();
  const clock = new FakeClock();
  const info: PortalInfo = { portalId: "p", serverName: "Portico", startTime: 1, dataDir: "/tmp/nowhere", version: "0.0.0-test" };
  const launcher = new ProtocolLauncher(root, registry, { logger, clock, info, sessions: nullHost }, { allowPackages: [], ...options });
  return { root, registry, logger, clock, info, launcher };
}

function resetFactories(): void {
  events.length = 0;
  EchoFactory.instances = [];
  BrokenFactory.instances = [];
}

describe("plugin manifests and registry", () => {
  beforeEach(resetFactories);

  it("definePlugin returns a frozen copy", () => {
    const raw = manifest() as unknown as PluginManifest;
    const m = definePlugin(raw);
    expect(m).to.not.equal(raw);
    expect(m).to.deep.equal(raw);
    expect(Object.isFrozen(m)).to.equal(true);
  });

  it("registers a manifest under its path", () => {
    const r = new PluginRegistry();
    const m = r.register(echoManifest);
    expect(m).to.equal(echoManifest);
    r.register(manifest({ path: "plugins.a.AFactory" }));
    expect(r.get("plugins.echo.EchoFactory")).to.equal(echoManifest);
    expect(r.get("plugins.none.None")).to.equal(undefined);
    expect(r.paths()).to.deep.equal(["plugins.a.AFactory", "plugins.echo.EchoFactory"]);
  });

  it("a duplicate path → PORTAL_ERR_PLUGIN_DUPLICATE, the first registration stays", () => {
    const r = new PluginRegistry();
    r.register(echoManifest);
    const err = thrown(() => r.register(manifest({ path: "plugins.echo.EchoFactory", factory: BrokenFactory })));
    expect(err.code).to.equal("PORTAL_ERR_PLUGIN_DUPLICATE");
    expect(err.message).to.equal("a plugin is already registered at plugins.echo.EchoFactory");
    expect(r.get("plugins.echo.EchoFactory")).to.equal(echoManifest);
  });

  describe("checkManifest → PORTAL_ERR_PLUGIN_MANIFEST naming the field", () => {
    const cases: [string, unknown, string][] = [
      ["null", null, "manifest"],
      ["a string", "plugins.x.Y", "manifest"],
      ["a path without a dot", manifest({ path: "XFactory" }), "path"],
      ["a path with an empty part", manifest({ path: "plugins..X" }), "path"],
      ["a path starting with a digit", manifest({ path: "1plugins.X" }), "path"],
      ["a path with a space", manifest({ path: "plugins.x y.Z" }), "path"],
      ["a missing path", manifest({ path: undefined }), "path"],
      ["a bad direction", manifest({ direction: "sideways" }), "direction"],
      ["a pluginApi that is not a semver range", manifest({ pluginApi: "two" }), "pluginApi"],
      ["a numeric pluginApi", manifest({ pluginApi: 2 }), "pluginApi"],
      ["no pluginApi", manifest({ pluginApi: undefined }), "pluginApi"],
      ["a factory that is not a class", manifest({ factory: {} }), "factory"],
      ["no config schema", manifest({ config: undefined }), "config"],
      ["a config that is not a schema", manifest({ config: { port: 1 } }), "config"],
    ];
    for (const [what, candidate, field] of cases) {
      it(`rejects ${what}`, () => {
        const err = thrown(() => checkManifest(candidate, "unit test"));
        expect(err.code).to.equal("PORTAL_ERR_PLUGIN_MANIFEST");
        expect(err.details).to.deep.equal({ field, where: "unit test" });
        expect(err.message.startsWith(`plugin manifest from unit test: ${field} `)).to.equal(true);
      });
    }

    it("accepts scoped and package paths", () => {
      expect(checkManifest(manifest({ path: "@acme/portico-irc.IrcFactory" }), "t").path).to.equal("@acme/portico-irc.IrcFactory");
      expect(checkManifest(manifest({ path: "portico-rss.RssFactory" }), "t").path).to.equal("portico-rss.RssFactory");
    });

    it("the registry checks too", () => {
      const err = thrown(() => new PluginRegistry().register(manifest({ direction: "up" }), "package foo"));
      expect(err.code).to.equal("PORTAL_ERR_PLUGIN_MANIFEST");
      expect(err.details).to.deep.equal({ field: "direction", where: "package foo" });
    });
  });

  it("a pluginApi range the portal's version does not satisfy → PORTAL_ERR_PLUGIN_API_MISMATCH (after the shape checks)", () => {
    expect(PLUGIN_API_VERSION).to.equal("2.0.0");
    for (const range of ["^1.0.0", "^3.0.0", ">=2.1.0", "1.x"]) {
      const err = thrown(() => checkManifest(manifest({ pluginApi: range }), "t"));
      expect(err.code, range).to.equal("PORTAL_ERR_PLUGIN_API_MISMATCH");
      expect(err.message).to.equal(`plugin plugins.x.XFactory supports plugin API ${range}; this portal provides 2.0.0`);
      expect(err.details).to.deep.equal({ path: "plugins.x.XFactory", pluginApi: range, provided: "2.0.0" });
    }
    for (const range of ["^2.0.0", "2.x", ">=2 <3", "~2.0", "*"]) expect(checkManifest(manifest({ pluginApi: range }), "t").pluginApi).to.equal(range);
    expect(thrown(() => checkManifest(manifest({ pluginApi: "^9", direction: "x" }), "t")).code).to.equal("PORTAL_ERR_PLUGIN_MANIFEST");
  });

  it("a manifest of the old contract (portalApi: 1) → PORTAL_ERR_PLUGIN_API_MISMATCH saying what to change", () => {
    const err = thrown(() => checkManifest(manifest({ pluginApi: undefined, portalApi: 1 }), "package old"));
    expect(err.code).to.equal("PORTAL_ERR_PLUGIN_API_MISMATCH");
    expect(err.message).to.equal("plugin plugins.x.XFactory declares portalApi 1 (plugin API 1); this portal provides plugin API 2.0.0: update the plugin");
  });

  it("splitPackagePath splits at the last dot", () => {
    expect(splitPackagePath("@acme/irc.IrcFactory")).to.deep.equal({ pkg: "@acme/irc", exportName: "IrcFactory" });
    expect(splitPackagePath("socket.io-plugin.F")).to.deep.equal({ pkg: "socket.io-plugin", exportName: "F" });
    expect(splitPackagePath("nodot")).to.equal(undefined);
    expect(splitPackagePath(".x")).to.equal(undefined);
    expect(splitPackagePath("x.")).to.equal(undefined);
  });
});

describe("ProtocolLauncher", () => {
  beforeEach(resetFactories);

  describe("unknown paths (H10)", () => {
    for (const path of ["plugins.nope.NopeFactory", "NoDots", "plugins.echo.EchoFactoryX", "plugins.echo"]) {
      it(`'${path}' → PORTAL_ERR_UNKNOWN_PROTOCOL with Evennia's message`, async () => {
        const { launcher } = makeLauncher();
        const err = await rejected(launcher.launch(path, {}));
        expect(err.code).to.equal("PORTAL_ERR_UNKNOWN_PROTOCOL");
        expect(err.message).to.equal(`ServerConnect: protocol factory '${path}' not found.`);
        expect(launcher.list()).to.deep.equal([]);
      });
    }
  });

  describe("configuration", () => {
    it("validates the raw config with the manifest's schema and hands the parsed one (defaults filled) in the context", async () => {
      const { launcher, root, clock, info } = makeLauncher();
      const { id } = await launcher.launch("plugins.echo.EchoFactory", { greeting: "hello" });
      const [f] = EchoFactory.instances;
      expect(f!.config).to.deep.equal({ port: 4000, greeting: "hello" });
      expect(f!.ctx.clock).to.equal(clock);
      expect(f!.ctx.portal).to.equal(info);
      expect([f!.ctx.path, f!.ctx.id, f!.ctx.direction]).to.deep.equal(["plugins.echo.EchoFactory", id, "inbound"]);
      expect(f!.started).to.equal(1);
      expect(launcher.factory(id)).to.equal(f);
      expect(root.isRegistered(PLUGIN_CONTEXT, true)).to.equal(false);
    });

    it("a factory without its own injected constructor gets the context as its argument", async () => {
      const { launcher } = makeLauncher();
      const boom = new PortalError(ErrorCodes.LISTEN_FAILED, "x");
      await rejected(launcher.launch("plugins.broken.BrokenFactory", { error: boom }));
      expect(BrokenFactory.instances[0]!.ctx.config).to.deep.equal({ error: boom });
    });

    it("gives the factory a logger bound to its plugin path", async () => {
      const { launcher, logger } = makeLauncher();
      const { id } = await launcher.launch("plugins.echo.EchoFactory", {});
      EchoFactory.instances[0]!.ctx.logger.info({ n: 1 }, "hello from plugin");
      expect(logger.entries.find((e) => e.msg === "plugin started")?.fields).to.deep.equal({ plugin: "plugins.echo.EchoFactory", id });
      expect(logger.entries.find((e) => e.msg === "hello from plugin")?.fields).to.deep.equal({ plugin: "plugins.echo.EchoFactory", n: 1 });
    });

    it("a bad field → PORTAL_ERR_PLUGIN_CONFIG naming the plugin and the key; no factory is created", async () => {
      const { launcher } = makeLauncher();
      for (const [raw, key] of [[{ port: "x" }, "port"], [{ greeting: 5 }, "greeting"], [{ nope: 1 }, "nope"]] as const) {
        const err = await rejected(launcher.launch("plugins.echo.EchoFactory", raw));
        expect(err.code).to.equal("PORTAL_ERR_PLUGIN_CONFIG");
        expect(err.message.startsWith(`plugins.echo.EchoFactory config "${key}": `), err.message).to.equal(true);
        expect(err.details).to.include({ plugin: "plugins.echo.EchoFactory", field: key });
      }
      expect(EchoFactory.instances).to.deep.equal([]);
    });
  });

  it("factories are transient: two launches give two instances with their own config", async () => {
    const { launcher } = makeLauncher();
    const a = await launcher.launch("plugins.echo.EchoFactory", { greeting: "one", port: 1 });
    const b = await launcher.launch("plugins.echo.EchoFactory", { greeting: "two", port: 2 });
    expect(a).to.deep.equal({ id: "plugins.echo.EchoFactory#1", path: "plugins.echo.EchoFactory" });
    expect(b).to.deep.equal({ id: "plugins.echo.EchoFactory#2", path: "plugins.echo.EchoFactory" });
    expect(EchoFactory.instances).to.have.length(2);
    expect(EchoFactory.instances[0]).to.not.equal(EchoFactory.instances[1]);
    expect(EchoFactory.instances.map((f) => f.config.greeting)).to.deep.equal(["one", "two"]);
    expect(launcher.list()).to.deep.equal([
      { id: "plugins.echo.EchoFactory#1", path: "plugins.echo.EchoFactory", direction: "inbound", status: { greeting: "one", port: 1 } },
      { id: "plugins.echo.EchoFactory#2", path: "plugins.echo.EchoFactory", direction: "inbound", status: { greeting: "two", port: 2 } },
    ]);
  });

  describe("start failures", () => {
    it("a start() throwing → PORTAL_ERR_PLUGIN_START; the factory is stopped and the launcher still works", async () => {
      const { launcher } = makeLauncher();
      const boom = new Error("port in use");
      const err = await rejected(launcher.launch("plugins.broken.BrokenFactory", { error: boom }));
      expect(err.code).to.equal("PORTAL_ERR_PLUGIN_START");
      expect(err.message).to.equal("plugins.broken.BrokenFactory failed to start: port in use");
      expect(err.cause).to.equal(boom);
      expect(err.details).to.deep.equal({ path: "plugins.broken.BrokenFactory" });
      expect(BrokenFactory.instances[0]!.stopped).to.equal(1);
      // The failure stays visible in the list (status), newest failures kept.
      expect(launcher.list()).to.deep.equal([{
        id: "plugins.broken.BrokenFactory#1", path: "plugins.broken.BrokenFactory", direction: "outbound",
        status: { state: "failed", error: { code: "PORTAL_ERR_PLUGIN_START", message: "plugins.broken.BrokenFactory failed to start: port in use" } },
      }]);

      // Ids are numbered per launch attempt (a failed one used #1), so they are never reused.
      const ok = await launcher.launch("plugins.echo.EchoFactory", {});
      expect(ok.id).to.equal("plugins.echo.EchoFactory#2");
      expect(launcher.list().map((r) => r.id)).to.deep.equal(["plugins.echo.EchoFactory#2", "plugins.broken.BrokenFactory#1"]);
    });

    it("a PortalError from start() is passed on unchanged", async () => {
      const { launcher } = makeLauncher();
      const own = new PortalError(ErrorCodes.LISTEN_FAILED, "EADDRINUSE 4000");
      const err = await rejected(launcher.launch("plugins.broken.BrokenFactory", { error: own }));
      expect(err).to.equal(own);
    });

    it("a start() that never settles → PORTAL_ERR_PLUGIN_START_TIMEOUT within the limit; the factory is stopped", async () => {
      const { launcher } = makeLauncher(undefined, { startTimeoutMs: 150 });
      const t0 = Date.now();
      const err = await rejected(launcher.launch("plugins.broken.BrokenFactory", { hang: true }));
      expect(Date.now() - t0).to.be.lessThan(2000);
      expect(err.code).to.equal("PORTAL_ERR_PLUGIN_START_TIMEOUT");
      expect(err.message).to.equal("plugins.broken.BrokenFactory did not start within 150 ms");
      expect(BrokenFactory.instances[0]!.stopped).to.equal(1);
      expect(launcher.list().map((p) => p.status.state)).to.deep.equal(["failed"]);
    });

    it("a constructor throwing → PORTAL_ERR_PLUGIN_START", async () => {
      const m = manifest({ path: "plugins.ctor.CtorFactory", factory: ThrowingConstructorFactory, config: anyConfig });
      const { launcher } = makeLauncher([m]);
      const err = await rejected(launcher.launch("plugins.ctor.CtorFactory", {}));
      expect(err.code).to.equal("PORTAL_ERR_PLUGIN_START");
      expect(err.message).to.equal("plugins.ctor.CtorFactory failed to start: cannot construct");
    });
  });

  describe("stopping", () => {
    it("stopAll stops every plugin (newest asked first, all at once)", async () => {
      const { launcher } = makeLauncher();
      for (const greeting of ["a", "b", "c"]) await launcher.launch("plugins.echo.EchoFactory", { greeting });
      events.length = 0;
      await launcher.stopAll();
      expect(events).to.deep.equal(["stop:c", "stop:b", "stop:a"]);
      expect(launcher.list()).to.deep.equal([]);
      expect(EchoFactory.instances.map((f) => f.stopped)).to.deep.equal([1, 1, 1]);
    });

    it("stop(id) stops one plugin once", async () => {
      const { launcher } = makeLauncher();
      const a = await launcher.launch("plugins.echo.EchoFactory", { greeting: "a" });
      await launcher.launch("plugins.echo.EchoFactory", { greeting: "b" });
      expect(await launcher.stop(a.id)).to.equal(true);
      expect(await launcher.stop(a.id)).to.equal(false);
      expect(await launcher.stop("plugins.nope#1")).to.equal(false);
      expect(events.filter((e) => e.startsWith("stop"))).to.deep.equal(["stop:a"]);
      expect(launcher.list().map((r) => r.status.greeting)).to.deep.equal(["b"]);
    });

    it("a failing stop() is logged with PORTAL_ERR_PLUGIN_STOP and the plugin is still removed; a failing status() is reported", async () => {
      const m = manifest({ path: "plugins.stubborn.StubbornFactory", factory: StubbornFactory, config: anyConfig });
      const { launcher, logger } = makeLauncher([m]);
      const { id } = await launcher.launch("plugins.stubborn.StubbornFactory", {});
      expect(launcher.list()[0]!.status).to.deep.equal({ error: "no status" });
      await launcher.stopAll();
      expect(launcher.list()).to.deep.equal([]);
      const entry = logger.entries.find((e) => e.fields.code === ErrorCodes.PLUGIN_STOP);
      expect(entry?.msg).to.equal("stopping plugins.stubborn.StubbornFactory failed: will not stop");
      expect(id).to.equal("plugins.stubborn.StubbornFactory#1");
    });

    it("a stop() that hangs is given up after stopTimeoutMs (PORTAL_ERR_PLUGIN_STOP); stopAll still finishes in time", async () => {
      const m = manifest({ path: "plugins.hang.HangFactory", factory: HangingStopFactory, config: anyConfig });
      const { launcher, logger } = makeLauncher([m, echoManifest], { stopTimeoutMs: 200 });
      await launcher.launch("plugins.hang.HangFactory", {});
      await launcher.launch("plugins.hang.HangFactory", {});
      await launcher.launch("plugins.echo.EchoFactory", {});
      const t0 = Date.now();
      await launcher.stopAll();
      expect(Date.now() - t0).to.be.lessThan(1500);
      expect(launcher.list()).to.deep.equal([]);
      expect(logger.entries.filter((e) => e.fields.code === ErrorCodes.PLUGIN_STOP).map((e) => e.msg)).to.deep.equal([
        "stopping plugins.hang.HangFactory failed: did not stop within 200 ms",
        "stopping plugins.hang.HangFactory failed: did not stop within 200 ms",
      ]);
      expect(EchoFactory.instances[0]!.stopped).to.equal(1);
    });
  });

  describe("plugins from npm packages", () => {
    let dir: string;
    let marker: string;

    /** Writes node_modules/<pkg>/{package.json,index.js}; the module counts its loads in globalThis[marker]. */
    function writePackage(pkg: string, exportName: string, declaredPath: string, api = 'pluginApi: "^2.0.0"', extra = ""): void {
      const pkgDir = join(dir, "node_modules", ...pkg.split("/"));
      mkdirSync(pkgDir, { recursive: true });
      writeFileSync(join(pkgDir, "package.json"), JSON.stringify({ name: pkg, version: "1.0.0", type: "module", main: "index.js" }));
      writeFileSync(join(pkgDir, "index.js"), [
        `globalThis[${JSON.stringify(marker)}] = (globalThis[${JSON.stringify(marker)}] ?? 0) + 1;`,
        extra,
        "class DemoFactory {",
        "  constructor(ctx) { this.ctx = ctx; this.started = false; }",
        "  async start() { this.started = true; }",
        "  async stop() {}",
        "  status() { return { started: this.started, config: this.ctx.config }; }",
        "}",
        "const schema = { safeParse: (raw) => ({ success: true, data: { ...raw } }) };",
        `export const ${exportName} = {`,
        `  path: ${JSON.stringify(declaredPath)}, direction: "outbound", ${api}, factory: DemoFactory, config: schema,`,
        "};",
        "",
      ].join("\n"));
    }

    const loads = () => (globalThis as Record<string, unknown>)[marker] ?? 0;

    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), "portico-plugins-"));
      marker = `__portico_test_${dir.replace(/\W/g, "_")}`;
    });

    afterEach(() => {
      rmSync(dir, { recursive: true, force: true });
      delete (globalThis as Record<string, unknown>)[marker];
    });

    it("an allowed package's manifest is loaded (once), registered and started", async () => {
      writePackage("portico-demo-plugin", "DemoPlugin", "portico-demo-plugin.DemoFactory");
      const { launcher, registry } = makeLauncher([], { allowPackages: ["portico-demo-plugin"], resolveFrom: dir });
      const result = await launcher.launch("portico-demo-plugin.DemoFactory", { x: 1 });
      expect(result).to.deep.equal({ id: "portico-demo-plugin.DemoFactory#1", path: "portico-demo-plugin.DemoFactory" });
      expect(launcher.list()).to.deep.equal([{ id: result.id, path: result.path, direction: "outbound", status: { started: true, config: { x: 1 } } }]);
      expect(registry.get("portico-demo-plugin.DemoFactory")?.direction).to.equal("outbound");
      await launcher.launch("portico-demo-plugin.DemoFactory", {});
      expect(loads()).to.equal(1);
      await launcher.stopAll();
    });

    it("plugins.packages are loaded at start: their paths resolve without allowPackages; a failure names the package and code", async () => {
      writePackage("portico-demo-plugin", "DemoPlugin", "portico-demo-plugin.DemoFactory");
      const { launcher, registry, logger } = makeLauncher([], { packages: ["portico-demo-plugin", "portico-absent"], resolveFrom: dir });
      await launcher.loadPackages();
      expect(loads()).to.equal(1);
      expect(registry.get("portico-demo-plugin.DemoFactory")).to.not.equal(undefined);
      const failure = logger.entries.find((e) => e.level === "error");
      expect(failure?.fields).to.deep.include({ code: "PORTAL_ERR_PLUGIN_PACKAGE", package: "portico-absent" });
      expect(failure?.msg).to.match(/^plugin package portico-absent: is not installed where Portico looks for it \(.*\); run `npm install portico-absent` there/);
      expect((await launcher.launch("portico-demo-plugin.DemoFactory", {})).id).to.equal("portico-demo-plugin.DemoFactory#1");
      await launcher.stopAll();
    });

    it("a package not allowed → PORTAL_ERR_PLUGIN_NOT_ALLOWED naming it, and its code never runs", async () => {
      writePackage("portico-demo-plugin", "DemoPlugin", "portico-demo-plugin.DemoFactory");
      const { launcher } = makeLauncher([], { allowPackages: ["portico-other"], resolveFrom: dir });
      const err = await rejected(launcher.launch("portico-demo-plugin.DemoFactory", {}));
      expect(err.code).to.equal("PORTAL_ERR_PLUGIN_NOT_ALLOWED");
      expect(err.message).to.equal("ServerConnect: protocol factory 'portico-demo-plugin.DemoFactory' not found (package portico-demo-plugin is not in plugins.packages or plugins.allowPackages).");
      expect(loads()).to.equal(0);
    });

    it("an '@scope/*' entry allows every package of that scope, and only that scope", async () => {
      writePackage("@demo/portico-x", "XPlugin", "@demo/portico-x.XFactory");
      writePackage("@demox/y", "YPlugin", "@demox/y.YFactory");
      const { launcher } = makeLauncher([], { allowPackages: ["@demo/*"], resolveFrom: dir });
      const result = await launcher.launch("@demo/portico-x.XFactory", {});
      expect(result.id).to.equal("@demo/portico-x.XFactory#1");
      expect(launcher.list()[0]!.status).to.deep.equal({ started: true, config: {} });
      expect(loads()).to.equal(1);
      const err = await rejected(launcher.launch("@demox/y.YFactory", {}));
      expect(err.code).to.equal("PORTAL_ERR_PLUGIN_NOT_ALLOWED");
      expect(loads()).to.equal(1);
      await launcher.stopAll();
    });

    it("an '@scope/*' entry does not let a path climb out of the scope", async () => {
      writePackage("@demo/portico-x", "XPlugin", "@demo/portico-x.XFactory");
      const evilDir = join(dir, "evil");
      mkdirSync(evilDir);
      writeFileSync(join(evilDir, "package.json"), JSON.stringify({ name: "evil", type: "module", main: "index.js" }));
      writeFileSync(join(evilDir, "index.js"), `globalThis[${JSON.stringify(marker)}] = "evil ran"; export const Foo = {};\n`);
      const { launcher } = makeLauncher([], { allowPackages: ["@demo/*"], resolveFrom: dir });
      for (const path of ["@demo/a/../../../evil.Foo", "@demo/../../evil.Foo", "@demo/portico-x/../../../evil.Foo"]) {
        const err = await rejected(launcher.launch(path, {}));
        expect(err.code, path).to.equal("PORTAL_ERR_PLUGIN_NOT_ALLOWED");
      }
      expect(loads()).to.equal(0);
    });

    it("an allowed package that is not installed → PORTAL_ERR_PLUGIN_PACKAGE naming it and the install command", async () => {
      const { launcher } = makeLauncher([], { allowPackages: ["portico-missing"], resolveFrom: dir });
      const err = await rejected(launcher.launch("portico-missing.Plugin", {}));
      expect(err.code).to.equal("PORTAL_ERR_PLUGIN_PACKAGE");
      expect(err.message).to.contain("plugin package portico-missing: is not installed");
      expect(err.message).to.contain("npm install portico-missing");
      expect(err.details).to.deep.equal({ package: "portico-missing" });
    });

    it("a package that throws while loading → PORTAL_ERR_PLUGIN_PACKAGE naming it; one that exports no manifest too", async () => {
      writePackage("portico-crashy", "CrashPlugin", "portico-crashy.CrashFactory", undefined, 'throw new Error("boom at import");');
      const pkgDir = join(dir, "node_modules", "portico-empty");
      mkdirSync(pkgDir, { recursive: true });
      writeFileSync(join(pkgDir, "package.json"), JSON.stringify({ name: "portico-empty", type: "module", main: "index.js" }));
      writeFileSync(join(pkgDir, "index.js"), "export const nothing = 1;\n");
      const { launcher } = makeLauncher([], { allowPackages: ["portico-crashy", "portico-empty"], resolveFrom: dir });
      const crash = await rejected(launcher.launch("portico-crashy.CrashFactory", {}));
      expect([crash.code, crash.message]).to.deep.equal(["PORTAL_ERR_PLUGIN_PACKAGE", "plugin package portico-crashy: failed to load: boom at import"]);
      const empty = await rejected(launcher.launch("portico-empty.X", {}));
      expect(empty.code).to.equal("PORTAL_ERR_PLUGIN_PACKAGE");
      expect(empty.message).to.contain("exports no plugin manifest");
    });

    it("a path the package does not provide → PORTAL_ERR_UNKNOWN_PROTOCOL listing what it provides; a manifest outside its namespace → PORTAL_ERR_PLUGIN_MANIFEST", async () => {
      writePackage("portico-demo-plugin", "DemoPlugin", "portico-demo-plugin.DemoFactory");
      writePackage("portico-squatter", "Squat", "plugins.telnet.TelnetFactory");
      const { launcher } = makeLauncher([], { allowPackages: ["portico-demo-plugin", "portico-squatter"], resolveFrom: dir });
      const missing = await rejected(launcher.launch("portico-demo-plugin.NoSuchFactory", {}));
      expect(missing.code).to.equal("PORTAL_ERR_UNKNOWN_PROTOCOL");
      expect(missing.message).to.equal("ServerConnect: protocol factory 'portico-demo-plugin.NoSuchFactory' not found (package portico-demo-plugin provides portico-demo-plugin.DemoFactory).");
      const squat = await rejected(launcher.launch("portico-squatter.Squat", {}));
      expect(squat.code).to.equal("PORTAL_ERR_PLUGIN_MANIFEST");
      expect(squat.message).to.equal('plugin package portico-squatter: declares path "plugins.telnet.TelnetFactory", outside its namespace: its paths must start with "portico-squatter."');
    });

    it("a package declaring an API range this portal does not satisfy → PORTAL_ERR_PLUGIN_API_MISMATCH naming it", async () => {
      writePackage("portico-old", "OldPlugin", "portico-old.OldFactory", 'pluginApi: "^1.0.0"');
      writePackage("portico-older", "OlderPlugin", "portico-older.OlderFactory", 'portalApi: 1');
      const { launcher } = makeLauncher([], { allowPackages: ["portico-old", "portico-older"], resolveFrom: dir });
      const err = await rejected(launcher.launch("portico-old.OldFactory", {}));
      expect(err.code).to.equal("PORTAL_ERR_PLUGIN_API_MISMATCH");
      expect(err.message).to.equal("plugin portico-old.OldFactory supports plugin API ^1.0.0; this portal provides 2.0.0");
      const older = await rejected(launcher.launch("portico-older.OlderFactory", {}));
      expect(older.code).to.equal("PORTAL_ERR_PLUGIN_API_MISMATCH");
    });

    it("never looks up a 'plugins.' path in packages", async () => {
      writePackage("plugins", "X", "plugins.X");
      const { launcher } = makeLauncher([], { allowPackages: ["plugins"], resolveFrom: dir });
      const err = await rejected(launcher.launch("plugins.X", {}));
      expect(err.code).to.equal("PORTAL_ERR_UNKNOWN_PROTOCOL");
      expect(loads()).to.equal(0);
    });
  });
});
