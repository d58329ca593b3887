import { expect } from "chai";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PORTICO_ROOT } from "../../core/version.js";
import { runCli } from "../support/portico-process.js";

// `portico new-plugin` and `portico config-schema` with installed plugin packages (the end-to-end
// build of a scaffolded plugin is in plugin-package.test.ts).
describe("portico CLI: new-plugin and config-schema with plugin packages", () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "portico-cli-plugins-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("new-plugin <name> makes ./portico-plugin-<name> with every template name replaced", async () => {
    const r = await runCli(["new-plugin", "mud-chat"], dir);
    expect(r.code, r.stderr).to.equal(0);
    const root = join(dir, "portico-plugin-mud-chat");
    expect(readdirSync(join(root, "src")).sort()).to.deep.equal(["config.ts", "index.ts", "mud-chat-factory.ts", "mud-chat-session.ts"]);
    expect(readdirSync(join(root, "test")).sort()).to.deep.equal(["config.test.ts", "contract.test.ts", "mud-chat-session.test.ts"]);
    expect(existsSync(join(root, ".gitignore"))).to.equal(true);
    const sources = ["src/index.ts", "src/mud-chat-factory.ts", "src/mud-chat-session.ts", "src/config.ts", "test/contract.test.ts", "test/mud-chat-session.test.ts", "README.md"]
      .map((f) => readFileSync(join(root, f), "utf8")).join("\n");
    expect(sources).to.not.match(/LineFactory|LineSession|LineConfig|lineManifest|lineConfigSchema|portico-plugin-line|line-factory|line-session/);
    expect(sources).to.contain("export class MudChatFactory extends SocketListener<MudChatConfig>");
    expect(sources).to.contain('super("mud-chat", socket)');
    expect(sources).to.contain('path: "portico-plugin-mud-chat.MudChatFactory"');
    const lock = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8"));
    expect(lock.name).to.equal("portico-plugin-mud-chat");
    expect(lock.packages["node_modules/portico"].link).to.equal(true);
    expect(lock.packages[lock.packages["node_modules/portico"].resolved].name).to.equal("portico");
  });

  it("--portico <tarball> makes the package depend on that tarball (and leaves out the lockfile of the file: link)", async () => {
    const r = await runCli(["new-plugin", "chat", "--dir", "p", "--portico", "file:/srv/portico-9.9.9.tgz"], dir);
    expect(r.code, r.stderr).to.equal(0);
    const pkg = JSON.parse(readFileSync(join(dir, "p", "package.json"), "utf8"));
    expect(pkg.devDependencies.portico).to.equal("file:/srv/portico-9.9.9.tgz");
    expect(existsSync(join(dir, "p", "package-lock.json"))).to.equal(false);
  });

  for (const [args, message] of [
    [["new-plugin"], "new-plugin needs a name"],
    [["new-plugin", "Chat"], 'plugin name "Chat": use lower-case letters'],
    [["new-plugin", "my_chat"], 'plugin name "my_chat"'],
    [["new-plugin", "chat", "--dir"], "--dir needs a value"],
  ] as const) {
    it(`refuses ${JSON.stringify(args.slice(1))} with a clear message and creates nothing`, async () => {
      const r = await runCli([...args], dir);
      expect(r.code).to.equal(1);
      expect(r.stderr).to.contain(message);
      expect(readdirSync(dir)).to.deep.equal([]);
    });
  }

  it("config-schema includes the config schemas of the packages in plugins.packages; a missing one is named on stderr", async () => {
    mkdirSync(join(dir, "node_modules", "portico-plugin-demo"), { recursive: true });
    symlinkSync(PORTICO_ROOT, join(dir, "node_modules", "portico"), "dir");
    writeFileSync(join(dir, "node_modules", "portico-plugin-demo", "package.json"), JSON.stringify({ name: "portico-plugin-demo", type: "module", main: "index.js" }));
    writeFileSync(join(dir, "node_modules", "portico-plugin-demo", "index.js"), `
      import { definePlugin, z } from "portico";
      class DemoFactory { async start() {} async stop() {} }
      export const demo = definePlugin({ path: "portico-plugin-demo.DemoFactory", direction: "inbound", pluginApi: "^2.0.0", factory: DemoFactory,
        config: z.strictObject({ port: z.int().min(0).max(65535).default(4321).describe("where the demo listens") }), description: "a demo" });`);
    writeFileSync(join(dir, "portico.config.json"), JSON.stringify({ plugins: { packages: ["portico-plugin-demo", "portico-plugin-absent"] } }));
    const r = await runCli(["config-schema"], dir);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).to.contain("plugin package portico-plugin-absent: is not installed");
    const schema = JSON.parse(r.stdout);
    const rules = schema.properties.listeners.items.allOf as { if: { properties: { plugin: { const: string } } }; then: { properties: { config: Record<string, unknown> } } }[];
    const demo = rules.find((x) => x.if.properties.plugin.const === "portico-plugin-demo.DemoFactory");
    expect(demo?.then.properties.config).to.deep.include({ type: "object", additionalProperties: false });
    expect((demo?.then.properties.config as { properties: Record<string, unknown> }).properties.port).to.deep.include({ default: 4321, description: "where the demo listens" });
    expect(rules.map((x) => x.if.properties.plugin.const)).to.include.members(["plugins.telnet.TelnetFactory", "plugins.irc.IrcBotFactory"]);
  });
});
