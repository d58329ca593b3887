import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PorticoProcess, runCli } from "../support/portico-process.js";
import { TelnetTestClient } from "../support/telnet-client.js";

describe("portico CLI: start, status, stop, config errors, one instance per data dir", function () {
  this.timeout(60_000);
  const started: PorticoProcess[] = [];
  const dirs: string[] = [];

  function tempDir(): string {
    const d = mkdtempSync(join(tmpdir(), "portico-cli-"));
    dirs.push(d);
    return d;
  }

  afterEach(async () => {
    for (const p of started.splice(0)) await p.kill();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it("a bad config exits non-zero naming the key", async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, "portico.config.json"), JSON.stringify({ limits: { maxCommandRate: "fast" } }));
    const r = await runCli(["start"], cwd);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.include("PORTAL_ERR_CONFIG_INVALID");
    expect(r.stderr).to.include('"limits.maxCommandRate"');
  });

  it("a bad environment override is named too", async () => {
    const r = await runCli(["start"], tempDir(), { PORTICO_TELNET_PORT: "70000" });
    expect(r.code).to.equal(2);
    expect(r.stderr).to.include("PORTICO_TELNET_PORT");
  });

  it("status and stop when nothing runs say so and exit non-zero", async () => {
    const cwd = tempDir();
    const r = await runCli(["status"], cwd);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.include("PORTAL_ERR_NOT_RUNNING");
  });

  it("starts on free ports, reports status, refuses a second start on the same data dir, and stops cleanly", async () => {
    const p = PorticoProcess.start({ cwd: tempDir() });
    started.push(p);
    const ports = await p.ready();
    expect(ports.telnetPort).to.be.above(0);

    const second = await p.cli(["start"]);
    expect(second.code).to.equal(1);
    expect(second.stderr).to.include("PORTAL_ERR_ALREADY_RUNNING");
    expect(second.stderr).to.match(/already running on .*data/);

    const status = await p.cli(["status", "--json"]);
    expect(status.code, status.stderr).to.equal(0);
    const s = JSON.parse(status.stdout);
    expect(s.plugins[0].status.port).to.equal(ports.telnetPort);
    expect(s.admin.port).to.equal(ports.adminPort);
    const human = await p.cli(["status"]);
    expect(human.stdout).to.include(`plugins.telnet.TelnetFactory port ${ports.telnetPort}`);

    const player = await TelnetTestClient.open(ports.telnetPort);
    await new Promise((r) => setTimeout(r, 200));
    const t0 = Date.now();
    const stop = await p.cli(["stop"]);
    expect(stop.code, stop.stderr).to.equal(0);
    expect(await p.exited).to.equal(0);
    expect(Date.now() - t0).to.be.below(5000);
    await player.waitForLine("shutting down");
    await new Promise((r) => setTimeout(r, 100));
    expect(player.closed).to.equal(true);
  });
});
