import { expect } from "chai";
import { execFile } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PORTICO_ROOT } from "../../core/version.js";
import { LineClient } from "../../core/testing/line-client.js";
import { runCli, PorticoProcess } from "../support/portico-process.js";
import { TelnetTestClient } from "../support/telnet-client.js";
import { installationLockfile } from "../support/template-lockfile.js";

/** Runs a command to completion; rejects with its output when it fails. */
function run(cmd: string, args: string[], cwd: string, timeoutMs = 120_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, npm_config_audit: "false", npm_config_fund: "false" } }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(" ")} in ${cwd} failed: ${err.message}\n${stdout}\n${stderr}`));
      else resolve(`${stdout}${stderr}`);
    });
  });
}

// A plugin author's whole path, outside this repository and without the network: scaffold a plugin,
// install, build and test it there; pack it and Portico; install both into a Portico installation;
// enable the plugin in config; start Portico; a player on the new protocol and one on telnet talk.
describe("a community plugin from scaffold to a running portal (end to end, offline)", function () {
  this.timeout(240_000);
  const work = mkdtempSync(join(tmpdir(), "portico-plugin-e2e-"));
  const pluginDir = join(work, "portico-plugin-echo-chat");
  const install = join(work, "installation");
  let portico: PorticoProcess | undefined;
  const clients: { close(): void }[] = [];

  after(async () => {
    for (const c of clients) c.close();
    await portico?.kill();
    rmSync(work, { recursive: true, force: true });
  });

  it("portico new-plugin scaffolds a package whose install, build and tests pass there, offline", async () => {
    const made = await runCli(["new-plugin", "echo-chat", "--dir", pluginDir], work);
    expect(made.code, made.stderr).to.equal(0);
    expect(made.stdout).to.contain("its plugin path is portico-plugin-echo-chat.EchoChatFactory");
    const pkg = JSON.parse(readFileSync(join(pluginDir, "package.json"), "utf8"));
    expect(pkg.name).to.equal("portico-plugin-echo-chat");
    expect(pkg.devDependencies.portico).to.equal(`file:${PORTICO_ROOT}`);
    expect(pkg.peerDependencies.portico).to.match(/^\^\d+\.\d+\.\d+$/);
    expect(readFileSync(join(pluginDir, "src", "index.ts"), "utf8")).to.contain('path: "portico-plugin-echo-chat.EchoChatFactory"');

    await run("npm", ["install", "--offline"], pluginDir);
    await run("npm", ["run", "build"], pluginDir);
    const tested = await run("npm", ["test"], pluginDir);
    expect(tested).to.match(/\d+ passing/);
    expect(tested).to.contain("plugin contract: portico-plugin-echo-chat.EchoChatFactory");
    expect(tested).to.not.match(/\d+ failing/);

    const again = await runCli(["new-plugin", "echo-chat", "--dir", pluginDir], work);
    expect(again.code).to.equal(1);
    expect(again.stderr).to.contain("exists and is not empty");
  });

  it("Portico and the plugin install from their tarballs; with the plugin enabled in config a player on it talks to one on telnet", async () => {
    await run("npm", ["pack", "--pack-destination", work], pluginDir);
    await run("npm", ["pack", "--ignore-scripts", "--pack-destination", work], PORTICO_ROOT);
    const version = JSON.parse(readFileSync(join(PORTICO_ROOT, "package.json"), "utf8")).version as string;
    mkdirSync(install);
    const lock = installationLockfile(PORTICO_ROOT, {
      portico: `../portico-${version}.tgz`,
      plugins: [{ name: "portico-plugin-echo-chat", version: "0.1.0", file: "../portico-plugin-echo-chat-0.1.0.tgz" }],
    });
    writeFileSync(join(install, "package-lock.json"), lock);
    writeFileSync(join(install, "package.json"), JSON.stringify({ name: "portico-installation", version: "1.0.0", private: true, dependencies: JSON.parse(lock).packages[""].dependencies }));
    // Offline from the npm cache; install scripts off: better-sqlite3's native build (a minute of
    // compiling) is taken from this repository's node_modules, the same version for the same Node.
    await run("npm", ["ci", "--offline", "--ignore-scripts"], install);
    const addon = join("node_modules", "better-sqlite3", "build", "Release", "better_sqlite3.node");
    mkdirSync(join(install, "node_modules", "better-sqlite3", "build", "Release"), { recursive: true });
    copyFileSync(join(PORTICO_ROOT, addon), join(install, addon));

    writeFileSync(join(install, "portico.config.json"), JSON.stringify({
      plugins: { packages: ["portico-plugin-echo-chat"] },
      listeners: [
        { plugin: "plugins.telnet.TelnetFactory", config: { host: "127.0.0.1", port: 0 } },
        { plugin: "portico-plugin-echo-chat.EchoChatFactory", config: { host: "127.0.0.1", port: 0 } },
      ],
    }));
    const bin = join(install, "node_modules", "portico", "dist", "core", "cli", "portico.js");
    portico = PorticoProcess.start({ cwd: install, bin });
    await portico.ready(30_000);
    await portico.waitForLog(/plugin package loaded/);

    const alice = await LineClient.open(portico.listenerPort("portico-plugin-echo-chat.EchoChatFactory"));
    clients.push(alice);
    await alice.waitForLine("Welcome to Portico!");
    alice.send("create Alice secret1");
    await alice.waitForLine("Welcome, Alice!");

    const bob = await TelnetTestClient.open(portico.listenerPort("plugins.telnet.TelnetFactory"));
    clients.push(bob);
    await bob.waitForLine("Welcome to Portico!");
    bob.send("create Bob secret2");
    await bob.waitForLine("Welcome, Bob!");

    alice.send("say hello from the new protocol");
    await bob.waitForLine('Alice says, "hello from the new protocol"');
    bob.send("say hello from telnet");
    await alice.waitForLine('Bob says, "hello from telnet"');

    const status = await portico.cli(["status", "--json"]);
    const listed = (JSON.parse(status.stdout) as { plugins: { path: string; direction: string; status: Record<string, unknown> }[] }).plugins;
    const plugin = listed.find((p) => p.path === "portico-plugin-echo-chat.EchoChatFactory");
    expect(plugin?.direction).to.equal("inbound");
    expect(plugin?.status.state).to.equal("running");
    expect((JSON.parse(status.stdout) as { sessions: { by_protocol: Record<string, number> } }).sessions.by_protocol).to.deep.equal({ "echo-chat": 1, telnet: 1 });

    const t0 = Date.now();
    const stopped = await portico.cli(["stop"]);
    expect(stopped.code, stopped.stderr).to.equal(0);
    expect(await portico.exited).to.equal(0);
    expect(Date.now() - t0).to.be.lessThan(8000);
    await alice.waitForLine("The server is shutting down. Goodbye!");
  });
});
