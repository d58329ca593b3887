import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CRASH_NOTICE } from "../../core/cli/start-command.js";
import { waitFor } from "../../core/testing/wait-for.js";
import { GameProcess } from "../support/game-process.js";
import { alive, killIfAlive, type GameStatus } from "../support/process-checks.js";
import { PorticoProcess } from "../support/portico-process.js";
import { TelnetTestClient } from "../support/telnet-client.js";


/** `portico start` with a config in a fresh directory; stopped and removed by the returned `close`. */
async function startPortico(config: Record<string, unknown>, files: Record<string, string> = {}) {
  const cwd = mkdtempSync(join(tmpdir(), "portico-unresponsive-"));
  writeFileSync(join(cwd, "portico.config.json"), JSON.stringify({ serverName: "Hang", limits: { maxConnectionRate: 0 }, ...config }));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(cwd, name), text);
  const portico = PorticoProcess.start({ cwd });
  const ports = await portico.ready();
  const status = async (): Promise<GameStatus> => {
    const r = await portico.cli(["status", "--json"]);
    if (r.code !== 0) throw new Error(`portico status failed: ${r.stderr}`);
    return (JSON.parse(r.stdout) as { game: GameStatus }).game;
  };
  const metrics = async (): Promise<string> => (await fetch(`http://127.0.0.1:${ports.adminPort}/metrics`)).text();
  const close = async (): Promise<void> => {
    const stop = await portico.cli(["stop"]);
    if (stop.code !== 0) await portico.kill();
    await portico.exited;
    rmSync(cwd, { recursive: true, force: true });
  };
  return { portico, cwd, ports, status, metrics, close };
}

/** The JSON log lines of `portico start` carrying `code`. */
function logsWithCode(output: readonly string[], code: string): Record<string, unknown>[] {
  return output.filter((l) => l.startsWith("{") && l.includes(code)).map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => e.code === code);
}

describe("portico start: a hung or unlinked game is detected and replaced (end to end)", function () {
  this.timeout(90_000);

  describe("a game process that never links", () => {
    let ctx: Awaited<ReturnType<typeof startPortico>>;
    const seen: number[] = [];

    before(async () => {
      ctx = await startPortico(
        { game: { entry: "never-links.cjs", linkTimeoutMs: 1000, restartInitialMs: 100, restartMaxMs: 200 } },
        // Runs, prints its pid, never dials the link; exits when the portal's IPC channel closes.
        { "never-links.cjs": 'console.log(`never-links ${process.pid}`);\nprocess.on("disconnect", () => process.exit(0));\nsetInterval(() => {}, 60_000);\n' },
      );
    });

    after(async () => {
      await ctx?.close();
      for (const pid of seen) killIfAlive(pid);
    });

    it("is killed after game.linkTimeoutMs and restarted as a new process, logged with PORTAL_ERR_GAME_UNRESPONSIVE", async () => {
      // The first process's pid from the log: it lives only linkTimeoutMs, maybe shorter than a `portico status`.
      const startedLine = await ctx.portico.waitForLog(/"msg":"game process started"/, 10_000);
      const { gamePid: first, time: startedAt } = JSON.parse(startedLine) as { gamePid: number; time: number };
      seen.push(first);
      const later = await waitFor(async () => {
        const s = await ctx.status();
        return s.crashes >= 2 && s.restarts >= 2 && s.pid !== null && s.pid !== first ? s : undefined;
      }, 30_000, () => `two restarts (output: ${ctx.portico.output.slice(-8).join("\n")})`, 200);
      seen.push(later.pid!);
      expect(later.unresponsive_kills).to.be.at.least(2);
      expect(alive(first)).to.equal(false);
      const logs = logsWithCode(ctx.portico.output, "PORTAL_ERR_GAME_UNRESPONSIVE");
      expect(logs.length).to.be.at.least(2);
      expect(logs[0]!.level).to.equal(50);
      expect(logs[0]!.msg).to.equal(`game process ${first} has not linked for 1000 ms; restarting it`);
      expect(logs[0]!.part).to.equal("supervisor");
      expect(logs[0]!.time as number - startedAt).to.be.at.least(1000);
      // Each kill then takes the normal crash path.
      expect(logsWithCode(ctx.portico.output, "PORTAL_ERR_GAME_PROCESS").some((e) => e.signal === "SIGKILL" && e.msg === "game process died; restarting it")).to.equal(true);
      const metrics = await ctx.metrics();
      const crashes = /^portico_game_crashes_total (\d+)$/m.exec(metrics);
      expect(Number(crashes?.[1])).to.be.at.least(2);
    });
  });

  describe("a SIGSTOPped game (heartbeat timeout)", () => {
    let ctx: Awaited<ReturnType<typeof startPortico>>;
    const clients: TelnetTestClient[] = [];
    let stopped: number | undefined;

    before(async () => {
      ctx = await startPortico({ link: { heartbeatMs: 200, heartbeatTimeoutMs: 1000 } });
      await ctx.portico.waitForLog(/game connected to the link/);
    });

    after(async () => {
      for (const c of clients) c.close();
      killIfAlive(stopped);
      await ctx?.close();
    });

    it("is killed and replaced within seconds; a connected player gets the crash notice once; the link drop is counted", async () => {
      const carol = await TelnetTestClient.open(ctx.ports.telnetPort);
      clients.push(carol);
      await carol.waitForLine("Welcome to Hang", 10_000);
      carol.send("create carol secret-carol");
      await carol.waitForLine("Welcome, carol!", 20_000);
      const before = await ctx.status();
      expect(before.crashes).to.equal(0);
      expect(before.unresponsive_kills).to.equal(0);
      expect(before.linked).to.equal(true);
      const restartsBefore = Number(/^portico_game_restarts_total (\d+)$/m.exec(await ctx.metrics())?.[1]);
      const pid = before.pid!;
      expect(await ctx.metrics()).to.not.contain('portico_link_drops_total{code="PORTAL_ERR_LINK_TIMEOUT"}');

      const mark = carol.lines.length;
      const logMark = ctx.portico.output.length;
      const t0 = Date.now();
      stopped = pid;
      process.kill(pid, "SIGSTOP");
      await carol.waitForLine("The game stopped unexpectedly", 10_000, mark);
      carol.send("say typed after the notice");
      await carol.waitForLine("*** Server restarted.", 20_000, mark);
      await ctx.portico.waitForLog(/game connected to the link/, 10_000, logMark);
      const replacedAfterMs = Date.now() - t0;
      console.log(`      (the SIGSTOPped game was replaced after ${replacedAfterMs} ms)`);
      expect(replacedAfterMs).to.be.below(10_000);
      await carol.waitForLine('You say, "typed after the notice"', 20_000, mark);

      const after = await ctx.status();
      expect(after.pid).to.be.a("number").and.not.equal(pid);
      expect(after.crashes).to.equal(1);
      expect(after.unresponsive_kills).to.equal(1);
      expect(after.linked).to.equal(true);
      await waitFor(() => !alive(pid), 5000, "the stopped game to be gone");
      stopped = undefined;

      // The player was told exactly once, and stays connected and logged in.
      expect(carol.lines.slice(mark).filter((l) => l === CRASH_NOTICE)).to.have.length(1);
      expect(carol.closed).to.equal(false);
      carol.send("say still here");
      await carol.waitForLine('You say, "still here"', 10_000, mark);
      expect(carol.lines.slice(mark).filter((l) => l.includes("The game stopped unexpectedly"))).to.have.length(1);

      const logs = logsWithCode(ctx.portico.output.slice(logMark), "PORTAL_ERR_GAME_UNRESPONSIVE");
      expect(logs).to.have.length(1);
      expect(logs[0]!.level).to.equal(50);
      expect(logs[0]!.linkCode).to.equal("PORTAL_ERR_LINK_TIMEOUT");
      expect(logs[0]!.gamePid).to.equal(pid);
      expect(logsWithCode(ctx.portico.output.slice(logMark), "PORTAL_ERR_GAME_PROCESS").filter((e) => e.signal === "SIGKILL" && e.msg === "game process died; restarting it")).to.have.length(1);
      expect(logs[0]!.msg).to.contain(`game process ${pid} is unresponsive`);
      const metrics = await ctx.metrics();
      expect(metrics).to.contain("# TYPE portico_link_drops_total counter");
      expect(metrics).to.match(/^portico_link_drops_total\{code="PORTAL_ERR_LINK_TIMEOUT"\} 1$/m);
      expect(metrics).to.match(/^portico_game_crashes_total 1$/m);
      expect(metrics).to.match(new RegExp(`^portico_game_restarts_total ${restartsBefore + 1}$`, "m"));
    });
  });

  describe("a takeover by another process with the link secret", () => {
    let ctx: Awaited<ReturnType<typeof startPortico>>;
    let intruder: GameProcess | undefined;
    const clients: TelnetTestClient[] = [];

    before(async () => {
      ctx = await startPortico({ game: { linkTimeoutMs: 2000 } });
      await ctx.portico.waitForLog(/game connected to the link/);
    });

    after(async () => {
      for (const c of clients) c.close();
      await intruder?.kill();
      await ctx?.close();
    });

    it("is left alone while the other process is linked; once it goes away the idle supervised game is restarted after game.linkTimeoutMs", async () => {
      const dave = await TelnetTestClient.open(ctx.ports.telnetPort);
      clients.push(dave);
      await dave.waitForLine("Welcome to Hang", 10_000);
      const pid = (await ctx.status()).pid!;

      // Another game process with the secret connects and takes the link over.
      intruder = GameProcess.start(ctx.ports.linkPort, join(ctx.cwd, "data"));
      await intruder.waitForSync();
      await ctx.portico.waitForLog(/PORTAL_ERR_LINK_REPLACED/, 10_000);
      // Linked is linked: for well over game.linkTimeoutMs the supervised (now unlinked) game is not killed.
      await new Promise((r) => setTimeout(r, 3500));
      let s = await ctx.status();
      expect(s.pid).to.equal(pid);
      expect(s.crashes).to.equal(0);
      expect(s.linked).to.equal(true);
      expect(alive(pid)).to.equal(true);
      expect(logsWithCode(ctx.portico.output, "PORTAL_ERR_GAME_UNRESPONSIVE")).to.have.length(0);

      // The other process goes away: nobody is linked, and the supervised game does not relink by itself.
      const mark = dave.lines.length;
      await intruder.kill("SIGKILL");
      intruder = undefined;
      const logs = await waitFor(() => {
        const l = logsWithCode(ctx.portico.output, "PORTAL_ERR_GAME_UNRESPONSIVE");
        return l.length > 0 ? l : undefined;
      }, 10_000, "the watchdog", 50);
      expect(logs[0]!.msg).to.equal(`game process ${pid} has not linked for 2000 ms; restarting it`);
      await dave.waitForLine("The game stopped unexpectedly", 10_000, mark);
      s = await waitFor(async () => {
        const st = await ctx.status();
        return st.pid !== null && st.pid !== pid && st.linked ? st : undefined;
      }, 20_000, "the new game linked", 200);
      expect(s.crashes).to.equal(1);
      expect(s.unresponsive_kills).to.equal(1);
      expect(alive(pid)).to.equal(false);
      await dave.waitForLine("*** Server restarted.", 20_000, mark);
      expect(dave.lines.slice(mark).filter((l) => l === CRASH_NOTICE)).to.have.length(1);
    });
  });
});
