import { expect } from "chai";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PORTICO_ROOT } from "../../core/version.js";
import { LineClient } from "../../core/testing/line-client.js";
import { waitFor } from "../../core/testing/wait-for.js";
import { PorticoProcess } from "../support/portico-process.js";
import { TelnetTestClient } from "../support/telnet-client.js";

/** Community plugin packages that misbehave in every way the contract names, as plain ESM on `portico`. */
const PACKAGES: Record<string, string> = {
  "portico-bad-manifest": `
    import { z } from "portico";
    export const manifest = { path: "portico-bad-manifest.BadFactory", direction: "sideways", pluginApi: "^2.0.0", factory: class {}, config: z.object({}) };`,
  "portico-bad-api": `
    import { z } from "portico";
    class OldFactory { async start() {} async stop() {} }
    export const manifest = { path: "portico-bad-api.OldFactory", direction: "inbound", pluginApi: "^1.0.0", factory: OldFactory, config: z.object({}) };`,
  "portico-crashy-start": `
    import { definePlugin, z } from "portico";
    class CrashyFactory { async start() { throw new Error("crashed on purpose"); } async stop() {} }
    export const manifest = definePlugin({ path: "portico-crashy-start.CrashyFactory", direction: "inbound", pluginApi: "^2.0.0", factory: CrashyFactory, config: z.object({}).passthrough() });`,
  "portico-hangs-start": `
    import { definePlugin, z } from "portico";
    class HangFactory { start() { return new Promise(() => {}); } async stop() {} }
    export const manifest = definePlugin({ path: "portico-hangs-start.HangFactory", direction: "inbound", pluginApi: "^2.0.0", factory: HangFactory, config: z.object({}).passthrough() });`,
  "portico-hangs-stop": `
    import { definePlugin, SocketListener, SocketSession, z } from "portico";
    class Session extends SocketSession {
      constructor(socket) { super("hangs-stop", socket); }
      received(chunk) { this.textIn(Buffer.from(chunk.toString().trim())); }
      send_text(args) { this.write(String(args[0]) + "\\r\\n"); }
    }
    class StuckFactory extends SocketListener {
      createSession(socket) { return new Session(socket); }
      stop() { return new Promise(() => {}); }
    }
    export const manifest = definePlugin({ path: "portico-hangs-stop.StuckFactory", direction: "inbound", pluginApi: "^2.0.0", factory: StuckFactory,
      config: z.object({ host: z.string(), port: z.number() }) });`,
  "portico-throws-send": `
    import { definePlugin, SocketListener, SocketSession, z } from "portico";
    class Session extends SocketSession {
      constructor(socket) { super("throws-send", socket); }
      received(chunk) { this.textIn(Buffer.from(chunk.toString().trim())); }
      send_text() { throw new Error("send_text exploded"); }
      send_prompt(args) { this.write(String(args[0])); }
    }
    class ThrowFactory extends SocketListener { createSession(socket) { return new Session(socket); } }
    export const manifest = definePlugin({ path: "portico-throws-send.ThrowFactory", direction: "inbound", pluginApi: "^2.0.0", factory: ThrowFactory,
      config: z.object({ host: z.string(), port: z.number() }) });`,
  "portico-leaky": `
    import { createServer } from "node:net";
    import { definePlugin, PortalSession, z } from "portico";
    class LeakySession extends PortalSession {
      constructor(socket) { super("leaky", socket.remoteAddress); socket.on("error", () => {}); }
      send_text() {}
      hangUp() {}
    }
    class LeakyFactory {
      constructor(ctx) { this.ctx = ctx; this.server = createServer((socket) => ctx.openSession(new LeakySession(socket))); }
      start() { return new Promise((resolve) => this.server.listen(0, "127.0.0.1", resolve)); }
      async stop() { this.server.close(); }
      status() { return { state: "running", port: this.server.address()?.port }; }
    }
    export const manifest = definePlugin({ path: "portico-leaky.LeakyFactory", direction: "inbound", pluginApi: "^2.0.0", factory: LeakyFactory, config: z.object({}).passthrough() });`,
};

interface LogLine {
  code?: string;
  msg?: string;
  plugin?: string;
  package?: string;
}

// Every way a community plugin can go wrong, in one real `portico start`: each is reported by name
// and error code, the portal keeps serving players, and it still stops within its time limit.
describe("misbehaving plugins never take the portal down (portico start)", function () {
  this.timeout(60_000);
  const cwd = mkdtempSync(join(tmpdir(), "portico-bad-plugins-"));
  let portico: PorticoProcess;
  const clients: { close(): void }[] = [];

  const logs = (): LogLine[] => portico.output.flatMap((line) => {
    try {
      return [JSON.parse(line) as LogLine];
    } catch {
      return [];
    }
  });
  const logged = (code: string, where: (l: LogLine) => boolean) => logs().find((l) => l.code === code && where(l));

  before(async () => {
    mkdirSync(join(cwd, "node_modules"));
    symlinkSync(PORTICO_ROOT, join(cwd, "node_modules", "portico"), "dir");
    for (const [name, source] of Object.entries(PACKAGES)) {
      const dir = join(cwd, "node_modules", name);
      mkdirSync(dir);
      writeFileSync(join(dir, "package.json"), JSON.stringify({ name, version: "1.0.0", type: "module", main: "index.js", peerDependencies: { portico: "*" } }));
      writeFileSync(join(dir, "index.js"), source);
    }
    const local = { host: "127.0.0.1", port: 0 };
    writeFileSync(join(cwd, "portico.config.json"), JSON.stringify({
      plugins: { packages: Object.keys(PACKAGES), startTimeoutMs: 500, stopTimeoutMs: 500 },
      limits: { maxConnectionRate: 0 },
      listeners: [
        { plugin: "plugins.telnet.TelnetFactory", config: local },
        { plugin: "portico-crashy-start.CrashyFactory", config: {} },
        { plugin: "portico-hangs-start.HangFactory", config: {} },
        { plugin: "portico-bad-api.OldFactory", config: {} },
        { plugin: "portico-hangs-stop.StuckFactory", config: local },
        { plugin: "portico-throws-send.ThrowFactory", config: local },
        { plugin: "portico-leaky.LeakyFactory", config: {} },
      ],
    }));
    portico = PorticoProcess.start({ cwd });
    await portico.ready(20_000);
  });

  after(async () => {
    for (const c of clients) c.close();
    await portico.kill();
    rmSync(cwd, { recursive: true, force: true });
  });

  it("reports a bad manifest, an API range it does not provide, a start() that throws and one that never ends, by name and code", () => {
    expect(logged("PORTAL_ERR_PLUGIN_MANIFEST", (l) => l.package === "portico-bad-manifest")?.msg).to.match(/plugin manifest from package portico-bad-manifest: direction must be "inbound" or "outbound"/);
    expect(logged("PORTAL_ERR_PLUGIN_API_MISMATCH", (l) => l.package === "portico-bad-api")?.msg).to.equal("plugin portico-bad-api.OldFactory supports plugin API ^1.0.0; this portal provides 2.0.0");
    expect(logged("PORTAL_ERR_PLUGIN_START", (l) => l.plugin === "portico-crashy-start.CrashyFactory")?.msg).to.contain("crashed on purpose");
    expect(logged("PORTAL_ERR_PLUGIN_START_TIMEOUT", (l) => l.plugin === "portico-hangs-start.HangFactory")?.msg).to.contain("did not start within 500 ms");
    // The listener whose package was refused is reported again, by its path, when the config names it.
    expect(logged("PORTAL_ERR_PLUGIN_API_MISMATCH", (l) => l.plugin === "portico-bad-api.OldFactory")).to.not.equal(undefined);
  });

  it("keeps serving players; status lists the failed plugins with their codes", async () => {
    const bob = await TelnetTestClient.open(portico.listenerPort("plugins.telnet.TelnetFactory"));
    clients.push(bob);
    await bob.waitForLine("Welcome to Portico!");
    bob.send("create Bob secret2");
    await bob.waitForLine("Welcome, Bob!");
    const text = await portico.cli(["status"]);
    expect(text.stdout).to.contain("failed:    portico-crashy-start.CrashyFactory: [PORTAL_ERR_PLUGIN_START]");
    expect(text.stdout).to.contain("failed:    portico-hangs-start.HangFactory: [PORTAL_ERR_PLUGIN_START_TIMEOUT]");
    expect(text.stdout).to.match(/listener: {2}portico-throws-send\.ThrowFactory port \d+/);
    const { adminPort } = await portico.ready();
    const metrics = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
    expect(metrics).to.contain('portico_plugins{path="portico-crashy-start.CrashyFactory",direction="inbound",state="failed"} 1');
    expect(metrics).to.contain('portico_plugins{path="plugins.telnet.TelnetFactory",direction="inbound",state="running"} 1');
    const telnetIn = /portico_bytes_total\{protocol="telnet",direction="in"\} (\d+)/.exec(metrics);
    expect(Number(telnetIn?.[1])).to.be.greaterThan("create Bob secret2".length);
  });

  it("a send_<key> that throws is reported with the plugin's name; the session keeps working", async () => {
    const c = await LineClient.open(portico.listenerPort("portico-throws-send.ThrowFactory"));
    clients.push(c);
    await waitFor(() => logged("PORTAL_ERR_SEND_FAILED", (l) => l.plugin === "portico-throws-send.ThrowFactory"), 5000, "SEND_FAILED from the plugin");
    c.send("create Carol secret3");
    await waitFor(async () => {
      const s = JSON.parse((await portico.cli(["status", "--json"])).stdout) as { sessions: { logged_in: number; by_protocol: Record<string, number> } };
      return s.sessions.by_protocol["throws-send"] === 1 && s.sessions.logged_in === 2;
    }, 5000, "Carol logged in through the plugin whose send_text throws");
  });

  it("stops within its time limit although a stop() hangs and a plugin leaks its sessions; both are reported", async () => {
    const stuck = await LineClient.open(portico.listenerPort("portico-hangs-stop.StuckFactory"));
    const leaky = await LineClient.open(portico.listenerPort("portico-leaky.LeakyFactory"));
    clients.push(stuck, leaky);
    await waitFor(async () => {
      const s = JSON.parse((await portico.cli(["status", "--json"])).stdout) as { sessions: { by_protocol: Record<string, number> } };
      return s.sessions.by_protocol.leaky === 1 && s.sessions.by_protocol["hangs-stop"] === 1;
    }, 5000, "both sessions registered");
    const t0 = Date.now();
    const r = await portico.cli(["stop"]);
    expect(r.code, r.stderr).to.equal(0);
    expect(await portico.exited).to.equal(0);
    expect(Date.now() - t0).to.be.lessThan(6000);
    expect(logged("PORTAL_ERR_PLUGIN_STOP", (l) => l.plugin === "portico-hangs-stop.StuckFactory")?.msg).to.contain("did not stop within 500 ms");
    expect(logged("PORTAL_ERR_PLUGIN_LEAK", (l) => l.plugin === "portico-leaky.LeakyFactory")?.msg).to.equal("portico-leaky.LeakyFactory left 1 session(s) open after stopping; the portal closed them");
    expect(logs().some((l) => l.msg === "stopped")).to.equal(true);
  });
});
