import { expect } from "chai";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { container } from "tsyringe";
import {
  CLOCK, definePlugin, ErrorCodes, inject, injectable, LOGGER, PORTAL_API_VERSION, PORTAL_INFO, PortalError, PluginRegistry,
  parsePluginConfig, PROTOCOL_CONFIG, SESSION_PORT, z,
  type Clock, type Logger, type PluginManifest, type PortalInfo, type ProtocolFactory, type SessionPort,
} from "../../core/index.js";
import { checkManifest } from "../../core/plugins/plugin-manifest.js";
import { ProtocolLauncher, splitPackagePath, type LauncherOptions } from "../../core/plugins/protocol-launcher.js";
import { FakeClock, MemoryLogger } from "../../core/testing/index.js";

// ---- test factories ----

const echoConfigSchema = z.object({
  port: z.number().min(0).max(65535).default(4000),
  greeting: z.string().default("hi"),
});
type EchoConfig = z.output<typeof echoConfigSchema>;

const events: string[] = [];

@injectable()
class EchoFactory implements ProtocolFactory {
  static instances: EchoFactory[] = [];
  started = 0;
  stopped = 0;

  constructor(
    @inject(PROTOCOL_CONFIG) readonly config: EchoConfig,
    @inject(SESSION_PORT) readonly port: SessionPort,
    @inject(LOGGER) readonly logger: Logger,
    @inject(CLOCK) readonly clock: Clock,
    @inject(PORTAL_INFO) readonly info: PortalInfo,
  ) {
    EchoFactory.instances.push(this);
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

@injectable()
class BrokenFactory implements ProtocolFactory {
  static instances: BrokenFactory[] = [];
  stopped = 0;

  constructor(@inject(PROTOCOL_CONFIG) readonly config: { error: unknown }) {
    BrokenFactory.instances.push(this);
  }

  async start(): Promise<void> {
    throw this.config.error;
  }

  async stop(): Promise<void> {
    this.stopped += 1;
  }
}

@injectable()
class ThrowingConstructorFactory implements ProtocolFactory {
  constructor(@inject(PROTOCOL_CONFIG) _config: unknown) {
    throw new Error("cannot construct");
  }
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
}

@injectable()
class StubbornFactory implements ProtocolFactory {
  async start(): Promise<void> {}
  async stop(): Promise<void> {
    throw new Error("will not stop");
  }
  status(): Record<string, unknown> {
    throw new Error("no status");
  }
}

const parseEcho = (raw: Record<string, unknown>): EchoConfig => parsePluginConfig("echo", echoConfigSchema, raw);

const echoManifest = definePlugin<EchoConfig>({
  path: "plugins.echo.EchoFactory",
  direction: "inbound",
  portalApi: PORTAL_API_VERSION,
  factory: EchoFactory,
  parseConfig: parseEcho,
  description: "echo",
});

const brokenManifest = definePlugin({
  path: "plugins.broken.BrokenFactory",
  direction: "outbound",
  portalApi: 1,
  factory: BrokenFactory,
  parseConfig: (raw) => ({ error: raw.error }),
});

function manifest(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { path: "plugins.x.XFactory", direction: "inbound", portalApi: 1, factory: EchoFactory, parseConfig: parseEcho, ...overrides };
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

const nullPort: SessionPort = { connect() {}, sync() {}, data_in() {}, disconnect() {}, count_loggedin: () => 0 };

function makeLauncher(manifests: unknown[] = [echoManifest, brokenManifest], options: Partial<LauncherOptions> = {}) {
  const root = container.createChildContainer();
  const registry = new PluginRegistry();
  for (const m of manifests) registry.register(m, "test");
  const logger = new MemoryLogger();
  const clock = new FakeClock();
  const info: PortalInfo = { portalId: "p", serverName: "Portico", startTime: 1, dataDir: "/tmp/nowhere" };
  const launcher = new ProtocolLauncher(root, registry, { port: nullPort, logger, clock, info }, { allowPackages: [], ...options });
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
      ["a string portalApi", manifest({ portalApi: "1" }), "portalApi"],
      ["a factory that is not a class", manifest({ factory: {} }), "factory"],
      ["no parseConfig", manifest({ parseConfig: undefined }), "parseConfig"],
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

  it("another portalApi → PORTAL_ERR_PLUGIN_API_MISMATCH (after the shape checks)", () => {
    const err = thrown(() => checkManifest(manifest({ portalApi: 2 }), "t"));
    expect(err.code).to.equal("PORTAL_ERR_PLUGIN_API_MISMATCH");
    expect(err.message).to.equal("plugin plugins.x.XFactory was written for portal API 2; this portal provides API 1");
    expect(err.details).to.deep.equal({ path: "plugins.x.XFactory", portalApi: 2 });
    expect(thrown(() => checkManifest(manifest({ portalApi: 2, direction: "x" }), "t")).code).to.equal("PORTAL_ERR_PLUGIN_MANIFEST");
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
    it("validates the raw config and injects the parsed one (defaults filled) via PROTOCOL_CONFIG", async () => {
      const { launcher, root, clock, info } = makeLauncher();
      await launcher.launch("plugins.echo.EchoFactory", { greeting: "hello" });
      const [f] = EchoFactory.instances;
      expect(f!.config).to.deep.equal({ port: 4000, greeting: "hello" });
      expect(f!.port).to.equal(nullPort);
      expect(f!.clock).to.equal(clock);
      expect(f!.info).to.equal(info);
      expect(f!.started).to.equal(1);
      expect(root.isRegistered(PROTOCOL_CONFIG, true)).to.equal(false);
    });

    it("gives the factory a logger bound to its plugin path", async () => {
      const { launcher, logger } = makeLauncher();
      const { id } = await launcher.launch("plugins.echo.EchoFactory", {});
      EchoFactory.instances[0]!.logger.info({ n: 1 }, "hello from plugin");
      expect(logger.entries.find((e) => e.msg === "plugin started")?.fields).to.deep.equal({ plugin: "plugins.echo.EchoFactory", id });
      expect(logger.entries.find((e) => e.msg === "hello from plugin")?.fields).to.deep.equal({ plugin: "plugins.echo.EchoFactory", n: 1 });
    });

    it("a bad field → the plugin's PORTAL_ERR_PLUGIN_CONFIG; no factory is created", async () => {
      const { launcher } = makeLauncher();
      const err = await rejected(launcher.launch("plugins.echo.EchoFactory", { port: "x" }));
      expect(err.code).to.equal("PORTAL_ERR_PLUGIN_CONFIG");
      expect(err.message).to.equal('echo config "port": expected a number, got "x"');
      expect(err.details).to.deep.equal({ plugin: "echo", field: "port" });
      expect(EchoFactory.instances).to.deep.equal([]);
    });

    it("a parseConfig throwing a plain error → PORTAL_ERR_PLUGIN_CONFIG", async () => {
      const m = manifest({ path: "plugins.strict.StrictFactory", parseConfig: () => { throw new TypeError("no way"); } });
      const { launcher } = makeLauncher([m]);
      const err = await rejected(launcher.launch("plugins.strict.StrictFactory", {}));
      expect(err.code).to.equal("PORTAL_ERR_PLUGIN_CONFIG");
      expect(err.message).to.equal("config for plugins.strict.StrictFactory rejected: no way");
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
      expect(launcher.list()).to.deep.equal([]);

      // Ids are numbered per launch attempt (a failed one used #1), so they are never reused.
      const ok = await launcher.launch("plugins.echo.EchoFactory", {});
      expect(ok.id).to.equal("plugins.echo.EchoFactory#2");
      expect(launcher.list().map((r) => r.id)).to.deep.equal(["plugins.echo.EchoFactory#2"]);
    });

    it("a PortalError from start() is passed on unchanged", async () => {
      const { launcher } = makeLauncher();
      const own = new PortalError(ErrorCodes.LISTEN_FAILED, "EADDRINUSE 4000");
      const err = await rejected(launcher.launch("plugins.broken.BrokenFactory", { error: own }));
      expect(err).to.equal(own);
    });

    it("a constructor throwing → PORTAL_ERR_PLUGIN_START", async () => {
      const m = manifest({ path: "plugins.ctor.CtorFactory", factory: ThrowingConstructorFactory, parseConfig: () => ({}) });
      const { launcher } = makeLauncher([m]);
      const err = await rejected(launcher.launch("plugins.ctor.CtorFactory", {}));
      expect(err.code).to.equal("PORTAL_ERR_PLUGIN_START");
      expect(err.message).to.equal("plugins.ctor.CtorFactory failed to start: cannot construct");
    });
  });

  describe("stopping", () => {
    it("stopAll stops every plugin, newest first", async () => {
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
      const m = manifest({ path: "plugins.stubborn.StubbornFactory", factory: StubbornFactory, parseConfig: () => ({}) });
      const { launcher, logger } = makeLauncher([m]);
      const { id } = await launcher.launch("plugins.stubborn.StubbornFactory", {});
      expect(launcher.list()[0]!.status).to.deep.equal({ error: "no status" });
      await launcher.stopAll();
      expect(launcher.list()).to.deep.equal([]);
      const entry = logger.entries.find((e) => e.fields.code === ErrorCodes.PLUGIN_STOP);
      expect(entry?.msg).to.equal("stopping plugins.stubborn.StubbornFactory failed: will not stop");
      expect(id).to.equal("plugins.stubborn.StubbornFactory#1");
    });
  });

  describe("plugins from npm packages", () => {
    let dir: string;
    let marker: string;

    /** Writes node_modules/<pkg>/{package.json,index.js}; the module sets globalThis[marker] when it is loaded. */
    function writePackage(pkg: string, exportName: string, declaredPath: string, portalApi = 1): void {
      const pkgDir = join(dir, "node_modules", ...pkg.split("/"));
      mkdirSync(pkgDir, { recursive: true });
      writeFileSync(join(pkgDir, "package.json"), JSON.stringify({ name: pkg, version: "1.0.0", type: "module", main: "index.js" }));
      writeFileSync(join(pkgDir, "index.js"), [
        `globalThis[${JSON.stringify(marker)}] = (globalThis[${JSON.stringify(marker)}] ?? 0) + 1;`,
        "class DemoFactory {",
        "  constructor() { this.started = false; }",
        "  async start() { this.started = true; }",
        "  async stop() {}",
        "  status() { return { started: this.started }; }",
        "}",
        `export const ${exportName} = {`,
        `  path: ${JSON.stringify(declaredPath)}, direction: "outbound", portalApi: ${portalApi}, factory: DemoFactory,`,
        "  parseConfig: (raw) => ({ ...raw }),",
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

    it("an allowed package's manifest is loaded, registered and started", async () => {
      writePackage("portico-demo-plugin", "DemoPlugin", "portico-demo-plugin.DemoPlugin");
      const { launcher, registry } = makeLauncher([], { allowPackages: ["portico-demo-plugin"], resolveFrom: dir });
      const result = await launcher.launch("portico-demo-plugin.DemoPlugin", { x: 1 });
      expect(result).to.deep.equal({ id: "portico-demo-plugin.DemoPlugin#1", path: "portico-demo-plugin.DemoPlugin" });
      expect(launcher.list()).to.deep.equal([{ id: result.id, path: result.path, direction: "outbound", status: { started: true } }]);
      expect(registry.get("portico-demo-plugin.DemoPlugin")?.direction).to.equal("outbound");
      await launcher.launch("portico-demo-plugin.DemoPlugin", {});
      expect(loads()).to.equal(1);
      await launcher.stopAll();
    });

    it("a package not in allowPackages → PORTAL_ERR_PLUGIN_NOT_ALLOWED and its code never runs", async () => {
      writePackage("portico-demo-plugin", "DemoPlugin", "portico-demo-plugin.DemoPlugin");
      const { launcher } = makeLauncher([], { allowPackages: ["portico-other"], resolveFrom: dir });
      const err = await rejected(launcher.launch("portico-demo-plugin.DemoPlugin", {}));
      expect(err.code).to.equal("PORTAL_ERR_PLUGIN_NOT_ALLOWED");
      expect(err.message).to.equal("ServerConnect: protocol factory 'portico-demo-plugin.DemoPlugin' not found (package portico-demo-plugin is not in plugins.allowPackages).");
      expect(loads()).to.equal(0);
    });

    it("an '@scope/*' entry allows every package of that scope, and only that scope", async () => {
      writePackage("@demo/portico-x", "XPlugin", "@demo/portico-x.XPlugin");
      writePackage("@demox/y", "YPlugin", "@demox/y.YPlugin");
      const { launcher } = makeLauncher([], { allowPackages: ["@demo/*"], resolveFrom: dir });
      const result = await launcher.launch("@demo/portico-x.XPlugin", {});
      expect(result.id).to.equal("@demo/portico-x.XPlugin#1");
      expect(launcher.list()[0]!.status).to.deep.equal({ started: true });
      expect(loads()).to.equal(1);
      const err = await rejected(launcher.launch("@demox/y.YPlugin", {}));
      expect(err.code).to.equal("PORTAL_ERR_PLUGIN_NOT_ALLOWED");
      expect(loads()).to.equal(1);
      await launcher.stopAll();
    });

    it("an '@scope/*' entry does not let a path climb out of the scope", async () => {
      writePackage("@demo/portico-x", "XPlugin", "@demo/portico-x.XPlugin");
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

    it("an allowed package that is not installed → PORTAL_ERR_UNKNOWN_PROTOCOL with Evennia's message", async () => {
      const { launcher, logger } = makeLauncher([], { allowPackages: ["portico-missing"], resolveFrom: dir });
      const err = await rejected(launcher.launch("portico-missing.Plugin", {}));
      expect(err.code).to.equal("PORTAL_ERR_UNKNOWN_PROTOCOL");
      expect(err.message).to.equal("ServerConnect: protocol factory 'portico-missing.Plugin' not found.");
      expect(logger.entries.find((e) => e.msg === "cannot load package portico-missing")?.level).to.equal("warn");
    });

    it("a missing export → PORTAL_ERR_UNKNOWN_PROTOCOL; an export declaring another path → PORTAL_ERR_PLUGIN_MANIFEST", async () => {
      writePackage("portico-demo-plugin", "DemoPlugin", "portico-demo-plugin.Other");
      const { launcher } = makeLauncher([], { allowPackages: ["portico-demo-plugin"], resolveFrom: dir });
      const missing = await rejected(launcher.launch("portico-demo-plugin.NoSuchExport", {}));
      expect(missing.code).to.equal("PORTAL_ERR_UNKNOWN_PROTOCOL");
      expect(missing.message).to.equal("ServerConnect: protocol factory 'portico-demo-plugin.NoSuchExport' not found.");
      const mismatch = await rejected(launcher.launch("portico-demo-plugin.DemoPlugin", {}));
      expect(mismatch.code).to.equal("PORTAL_ERR_PLUGIN_MANIFEST");
    });

    it("a package written for another portal API → PORTAL_ERR_PLUGIN_API_MISMATCH", async () => {
      writePackage("portico-old", "OldPlugin", "portico-old.OldPlugin", 0);
      const { launcher } = makeLauncher([], { allowPackages: ["portico-old"], resolveFrom: dir });
      const err = await rejected(launcher.launch("portico-old.OldPlugin", {}));
      expect(err.code).to.equal("PORTAL_ERR_PLUGIN_API_MISMATCH");
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
