import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ErrorCodes } from "../../core/errors/error-codes.js";
import { GameSupervisor, type SupervisorOptions } from "../../core/supervisor/game-supervisor.js";
import { FakeClock, MemoryLogger } from "../../core/testing/index.js";
import { waitFor } from "../../core/testing/wait-for.js";
import { alive } from "../support/process-checks.js";

/**
 * The supervisor's hang and link watchdog logic with real child processes (a tiny idle Node
 * script) and a fake clock for the supervisor's own timers.
 */
describe("GameSupervisor: unresponsive and unlinked games", function () {
  this.timeout(20_000);
  let dir: string;
  let entry: string;
  let clock: FakeClock;
  let logger: MemoryLogger;
  let crashes: { code: number | null; signal: string | null; restartInMs: number }[];
  let supervisors: GameSupervisor[];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "portico-supervisor-"));
    entry = join(dir, "idle-game.cjs");
    // Idles until told to stop; exits when the supervisor's IPC channel closes.
    writeFileSync(entry, 'process.on("disconnect", () => process.exit(0));\nsetInterval(() => {}, 60_000);\n');
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  beforeEach(() => {
    clock = new FakeClock();
    logger = new MemoryLogger();
    crashes = [];
    supervisors = [];
  });

  afterEach(async () => {
    for (const s of supervisors) await s.stop(1000);
  });

  function supervisor(options: Partial<SupervisorOptions> = {}): GameSupervisor {
    const s = new GameSupervisor({
      entry, env: {}, logger, clock,
      backoff: { initialMs: 500, factor: 2, maxMs: 5000 },
      stopTimeoutMs: 1000,
      linkTimeoutMs: 1000,
      requestStop: () => false,
      onCrash: (detail) => crashes.push(detail),
      ...options,
    });
    supervisors.push(s);
    return s;
  }

  function unresponsiveLogs(): { msg: string; fields: Record<string, unknown> }[] {
    return logger.entries.filter((e) => e.fields.code === ErrorCodes.GAME_UNRESPONSIVE && e.level === "error");
  }

  async function waitForState(s: GameSupervisor, state: string): Promise<void> {
    await waitFor(() => s.status().state === state, 5000, () => `state ${state} (is ${String(s.status().state)})`);
  }

  it("kills a running game that never links after linkTimeoutMs, then restarts it on the crash path", async () => {
    const s = supervisor();
    s.start();
    const pid = s.pid!;
    clock.advance(999);
    expect(unresponsiveLogs()).to.have.length(0);
    expect(s.status().state).to.equal("running");
    clock.advance(1);
    expect(unresponsiveLogs().map((e) => e.msg)).to.deep.equal([`game process ${pid} has not linked for 1000 ms; restarting it`]);
    await waitForState(s, "backoff");
    expect(alive(pid)).to.equal(false);
    expect(crashes).to.have.length(1);
    expect(crashes[0]!.signal).to.equal("SIGKILL");
    expect(s.crashes).to.equal(1);
    expect(s.unresponsiveKills).to.equal(1);
    clock.advance(500); // the back-off
    expect(s.status().state).to.equal("running");
    expect(s.pid).to.be.a("number").and.not.equal(pid);
    expect(s.restarts).to.equal(1);
    // The new process gets its own countdown.
    clock.advance(1000);
    expect(unresponsiveLogs()).to.have.length(2);
    await waitForState(s, "backoff");
    expect(crashes).to.have.length(2);
  });

  it("does not kill a game while any game is linked, and re-arms the countdown when the link goes down", async () => {
    const s = supervisor();
    s.start();
    const pid = s.pid!;
    clock.advance(900);
    s.gameLinked();
    clock.advance(10_000);
    expect(unresponsiveLogs()).to.have.length(0);
    // A clean close (or another non-hang code) gives the game linkTimeoutMs to link again.
    s.gameUnlinked(undefined);
    clock.advance(999);
    s.gameLinked(); // linked again in time
    clock.advance(5000);
    s.gameUnlinked(ErrorCodes.LINK_SOCKET);
    clock.advance(999);
    expect(unresponsiveLogs()).to.have.length(0);
    expect(alive(pid)).to.equal(true);
    clock.advance(1);
    expect(unresponsiveLogs()).to.have.length(1);
    await waitForState(s, "backoff");
    expect(crashes).to.have.length(1);
  });

  it("a game linked before the spawn (another process with the secret) counts as linked: no watchdog", () => {
    const s = supervisor();
    s.gameLinked();
    s.start();
    clock.advance(60_000);
    expect(unresponsiveLogs()).to.have.length(0);
    expect(s.status().state).to.equal("running");
    expect(s.status().linked).to.equal(true);
  });

  for (const code of [ErrorCodes.LINK_TIMEOUT, ErrorCodes.LINK_BACKPRESSURE]) {
    it(`SIGKILLs a hung (SIGSTOPped) game at once when its link is lost with ${code}; one crash, one onCrash`, async () => {
      const s = supervisor();
      s.start();
      s.gameLinked();
      const pid = s.pid!;
      process.kill(pid, "SIGSTOP");
      s.gameUnlinked(code);
      expect(unresponsiveLogs()).to.have.length(1);
      expect(unresponsiveLogs()[0]!.msg).to.contain(`game process ${pid} is unresponsive`).and.contain(code);
      expect(unresponsiveLogs()[0]!.fields.linkCode).to.equal(code);
      // The watchdog does not fire a second kill while the exit is pending.
      clock.advance(5000);
      s.gameUnlinked(code);
      expect(unresponsiveLogs()).to.have.length(1);
      await waitForState(s, "backoff");
      expect(alive(pid)).to.equal(false);
      expect(crashes).to.have.length(1);
      expect(crashes[0]!.signal).to.equal("SIGKILL");
      expect(s.crashes).to.equal(1);
      clock.advance(500);
      expect(s.pid).to.be.a("number").and.not.equal(pid);
    });
  }

  for (const mode of ["reload", "shutdown"] as const) {
    it(`a hang code or the watchdog while the game announced a ${mode} is left to the stop timeout`, async () => {
      const s = supervisor({ stopTimeoutMs: 200 });
      s.start();
      s.gameLinked();
      const pid = s.pid!;
      process.kill(pid, "SIGSTOP");
      s.expectExit(mode);
      s.gameUnlinked(ErrorCodes.LINK_TIMEOUT);
      clock.advance(5000);
      expect(unresponsiveLogs()).to.have.length(0);
      // The stop timeout kills it: a reload restarts at once, a shutdown halts; neither is a crash.
      if (mode === "reload") await waitFor(() => s.pid !== undefined && s.pid !== pid, 5000, "the reloaded game");
      else await waitForState(s, "halted");
      expect(alive(pid)).to.equal(false);
      expect(s.crashes).to.equal(0);
      expect(crashes).to.have.length(0);
      expect(s.restarts).to.equal(mode === "reload" ? 1 : 0);
    });
  }

  it("a game that answers a shutdown by announcing a reload is not started again (no orphan after portico stop)", async () => {
    let asked: string | undefined;
    const s = supervisor({
      requestStop: (mode) => {
        asked = mode;
        // the game announces "reload" while exiting, as a careless game might
        s.expectExit("reload");
        process.kill(pid, "SIGTERM");
        return true;
      },
    });
    s.start();
    const pid = s.pid!;
    await s.stop(2000);
    expect(asked).to.equal("shutdown");
    expect(s.status().state).to.equal("stopped");
    expect(s.pid).to.equal(undefined);
    expect(s.restarts).to.equal(0);
    expect(alive(pid)).to.equal(false);
  });

  it("no hang kill when no game process is running (back-off), and no watchdog without linkTimeoutMs", async () => {
    const s = supervisor({ linkTimeoutMs: 0 });
    s.start();
    clock.advance(60_000);
    expect(unresponsiveLogs()).to.have.length(0);
    process.kill(s.pid!, "SIGKILL");
    await waitForState(s, "backoff");
    s.gameUnlinked(ErrorCodes.LINK_TIMEOUT);
    expect(unresponsiveLogs()).to.have.length(0);
    expect(crashes).to.have.length(1);
  });

  it("stop() clears the watchdog and the restart timer: no timer is left", async () => {
    const s = supervisor();
    s.start();
    expect(clock.pendingTimers).to.equal(1); // the watchdog
    await s.stop(1000);
    expect(s.status().state).to.equal("stopped");
    expect(clock.pendingTimers).to.equal(0);
    s.gameUnlinked(ErrorCodes.LINK_TIMEOUT);
    clock.advance(60_000);
    expect(unresponsiveLogs()).to.have.length(0);
    expect(clock.pendingTimers).to.equal(0);

    const t = supervisor();
    t.start();
    clock.advance(1000); // killed by the watchdog
    await waitForState(t, "backoff");
    expect(clock.pendingTimers).to.equal(1); // the back-off restart
    await t.stop(1000);
    expect(clock.pendingTimers).to.equal(0);
  });
});
