import { expect } from "chai";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CRASH_NOTICE } from "../../core/cli/start-command.js";
import { DEFAULT_CONFIG } from "../../core/config/portal-config.js";
import { ErrorCodes } from "../../core/errors/error-codes.js";
import { sleep, waitFor } from "../../core/testing/wait-for.js";
import { PorticoProcess } from "../support/portico-process.js";
import { TelnetTestClient } from "../support/telnet-client.js";
import { killIfAlive, type GameStatus } from "../support/process-checks.js";

// Issue 11, "Tests": the link loses nothing under a crashed, a hung and a reloaded game. A real
// `portico start` supervises test/fixtures/recording-game.ts, 50 telnet players each stream numbered
// commands (`n <name> <k>`), and the game appends every command it runs to <dataDir>/seen.log as
// "<pid> <name> <k>". What the game processes recorded is then checked against what was typed.

const RECORDING_GAME = fileURLToPath(new URL("../fixtures/recording-game.js", import.meta.url));
const PLAYERS = 50;
const COMMANDS = 80;
const INTERVAL_MS = 20;
/** The fault is injected once the game has recorded this share of all commands (mid-stream). */
const FAULT_AT = 0.35;
const RESTARTING = DEFAULT_CONFIG.messages.gameRestarting;
const DROPPED_PREFIX = DEFAULT_CONFIG.messages.inputDropped.slice(0, DEFAULT_CONFIG.messages.inputDropped.indexOf("{line}"));

interface Status {
  pending_inputs: number;
  pending_input_bytes: number;
  game: GameStatus;
}

interface Seen {
  pid: number;
  name: string;
  k: number;
}

interface Player {
  name: string;
  client: TelnetTestClient;
}


/** `portico start` in a fresh directory running the recording game, telnet on a free loopback port. */
async function startPortico(config: { limits?: Record<string, unknown>; link?: Record<string, unknown>; game?: Record<string, unknown> }) {
  const cwd = mkdtempSync(join(tmpdir(), "portico-link-faults-"));
  writeFileSync(join(cwd, "portico.config.json"), JSON.stringify({
    serverName: "Faults",
    listeners: [{ plugin: "plugins.telnet.TelnetFactory", config: { host: "127.0.0.1", port: 0, mccp: false, oob: false, mxp: false, mssp: false } }],
    limits: { maxConnectionRate: 0, ...config.limits },
    link: { host: "127.0.0.1", ...config.link },
    admin: { host: "127.0.0.1" },
    game: { entry: RECORDING_GAME, restartInitialMs: 200, restartMaxMs: 1000, ...config.game },
  }));
  const portico = PorticoProcess.start({ cwd });
  const ports = await portico.ready();
  const seenLog = join(cwd, "data", "seen.log");
  const status = async (): Promise<Status> => {
    const r = await portico.cli(["status", "--json"]);
    if (r.code !== 0) throw new Error(`portico status failed: ${r.stderr}`);
    return JSON.parse(r.stdout) as Status;
  };
  /** Every complete line of seen.log (a line being written is left out). */
  const seen = (): Seen[] => {
    if (!existsSync(seenLog)) return [];
    const lines = readFileSync(seenLog, "utf8").split("\n");
    lines.pop(); // "" after the last newline, or a partial line
    return lines.map((line) => {
      const m = /^(\d+) (\S+) (\d+)$/.exec(line);
      if (!m) throw new Error(`malformed seen.log line: ${JSON.stringify(line)}`);
      return { pid: Number(m[1]), name: m[2]!, k: Number(m[3]) };
    });
  };
  const close = async (): Promise<void> => {
    if (portico.child.exitCode === null && portico.child.signalCode === null) {
      const stop = await portico.cli(["stop"]);
      if (stop.code !== 0) await portico.kill();
    }
    await Promise.race([portico.exited, sleep(8000)]);
    await portico.kill();
    rmSync(cwd, { recursive: true, force: true });
  };
  return { portico, cwd, ports, status, seen, close };
}

type Ctx = Awaited<ReturnType<typeof startPortico>>;

/** The SYNC lines the game processes printed (relayed into the portal's log): [game pid, mode, sessions]. */
function gameSyncs(output: readonly string[]): { pid: number; mode: string; n: number }[] {
  const out: { pid: number; mode: string; n: number }[] = [];
  for (const line of output) {
    if (!line.startsWith("{") || !line.includes('"SYNC ')) continue;
    const entry = JSON.parse(line) as { game?: number; msg?: string };
    const m = /^SYNC (\S+) (\d+)$/.exec(entry.msg ?? "");
    if (m && typeof entry.game === "number") out.push({ pid: entry.game, mode: m[1]!, n: Number(m[2]) });
  }
  return out;
}

/** PLAYERS telnet players, connected at once, each logged in as p00, p01, ... */
async function connectPlayers(ctx: Ctx, into: Player[]): Promise<Player[]> {
  const players = await Promise.all(Array.from({ length: PLAYERS }, async (_, i) => {
    const name = `p${String(i).padStart(2, "0")}`;
    const client = await TelnetTestClient.open(ctx.ports.telnetPort);
    const player = { name, client };
    into.push(player);
    await client.waitForLine("Welcome. Type: login <name>", 15_000);
    client.send(`login ${name}`);
    await client.waitForLine(`Logged in as ${name}.`, 15_000);
    return player;
  }));
  return players;
}

/** Every player sends `n <name> 1` ... `n <name> COMMANDS`, one every INTERVAL_MS, starts staggered over one interval. */
async function stream(players: Player[]): Promise<void> {
  await Promise.all(players.map(async (p, i) => {
    await sleep((i * INTERVAL_MS) / players.length);
    for (let k = 1; k <= COMMANDS; k++) {
      p.client.send(`n ${p.name} ${k}`);
      await sleep(INTERVAL_MS);
    }
  }));
}

/** Waits until the game has recorded `share` of all commands. */
async function recordedShare(ctx: Ctx, share: number): Promise<number> {
  const want = Math.ceil(PLAYERS * COMMANDS * share);
  return waitFor(() => {
    const n = ctx.seen().length;
    return n >= want ? n : undefined;
  }, 20_000, () => `${want} recorded commands (seen.log has ${ctx.seen().length})`, 5);
}

/** Waits until a game process other than `oldPid` is running and linked; returns its pid. */
async function replacement(ctx: Ctx, oldPid: number): Promise<number> {
  const s = await waitFor(async () => {
    const st = (await ctx.status()).game;
    return st.pid !== null && st.pid !== oldPid && st.linked ? st : undefined;
  }, 20_000, () => `a new linked game process (output: ${ctx.portico.output.slice(-8).join("\n")})`, 100);
  return s.pid!;
}

/** Waits until a process other than `oldPid` has recorded every player's last command. */
async function lastCommandsRecorded(ctx: Ctx, players: Player[], oldPid: number): Promise<Seen[]> {
  let records: Seen[] = [];
  const missing = () => {
    const done = new Set(records.filter((r) => r.pid !== oldPid && r.k === COMMANDS).map((r) => r.name));
    return players.filter((p) => !done.has(p.name));
  };
  await waitFor(() => {
    records = ctx.seen();
    return missing().length === 0;
  }, 20_000, () => {
    const last = (name: string) => Math.max(0, ...records.filter((r) => r.name === name).map((r) => r.k));
    const m = missing();
    return `the new game process to record the last command (k=${COMMANDS}) of every player; ${m.length} never got there, e.g. ${m.slice(0, 5).map((p) => `${p.name} (last recorded k=${last(p.name)})`).join(", ")}`;
  }, 50);
  // The game is idle now: whatever it was doing is in the file.
  await sleep(200);
  return ctx.seen();
}

interface Analysis {
  /** Commands the first process acknowledged (took in) but never recorded, per player and in total. */
  lostPerPlayer: Map<string, number[]>;
  lost: number;
  byOld: number;
  byNew: number;
}

/**
 * Checks seen.log after a fault between process `oldPid` and `newPid`: nothing twice, per player
 * strictly increasing across both processes, nothing by any other process, and every command not
 * recorded lies exactly at that player's crash boundary (after the last k the old process recorded,
 * before the first k the new one recorded).
 */
function analyse(records: Seen[], players: Player[], oldPid: number, newPid: number): Analysis {
  const counts = new Map<string, number>();
  for (const r of records) counts.set(`${r.name} ${r.k}`, (counts.get(`${r.name} ${r.k}`) ?? 0) + 1);
  const twice = [...counts].filter(([, n]) => n > 1).map(([key, n]) => `${key} (x${n})`);
  expect(twice, `commands recorded more than once: ${twice.slice(0, 20).join(", ")}`).to.deep.equal([]);

  const strangers = records.filter((r) => r.pid !== oldPid && r.pid !== newPid);
  expect(strangers, `records by a process other than ${oldPid} and ${newPid}`).to.deep.equal([]);

  const lostPerPlayer = new Map<string, number[]>();
  let lost = 0;
  for (const { name } of players) {
    const mine = records.filter((r) => r.name === name);
    const ks = mine.map((r) => r.k);
    for (let i = 1; i < ks.length; i++) {
      expect(ks[i]!, `${name}: recorded k=${ks[i]} after k=${ks[i - 1]} (order ${mine.slice(Math.max(0, i - 3), i + 3).map((r) => `${r.pid}:${r.k}`).join(" ")})`).to.be.greaterThan(ks[i - 1]!);
    }
    // The old process's records all come before the new one's.
    const firstNewAt = mine.findIndex((r) => r.pid === newPid);
    expect(firstNewAt, `${name}: the new process recorded nothing`).to.be.at.least(0);
    expect(mine.slice(firstNewAt).every((r) => r.pid === newPid), `${name}: the old process recorded after the new one started`).to.equal(true);
    const lastOld = Math.max(0, ...mine.filter((r) => r.pid === oldPid).map((r) => r.k));
    const firstNew = mine[firstNewAt]!.k;
    const got = new Set(ks);
    const missing: number[] = [];
    for (let k = 1; k <= COMMANDS; k++) if (!got.has(k)) missing.push(k);
    const outside = missing.filter((k) => !(k > lastOld && k < firstNew));
    expect(outside, `${name}: commands lost away from the crash boundary (old process's last k=${lastOld}, new process's first k=${firstNew})`).to.deep.equal([]);
    if (missing.length > 0) lostPerPlayer.set(name, missing);
    lost += missing.length;
  }
  return {
    lostPerPlayer,
    lost,
    byOld: records.filter((r) => r.pid === oldPid).length,
    byNew: records.filter((r) => r.pid === newPid).length,
  };
}

/** Each player was told about the outage exactly once in total (crash notice or restarting notice); nobody lost a line. */
function expectOneNoticeEach(players: Player[]): void {
  const counts = players.map((p) => ({
    name: p.name,
    crash: p.client.lines.filter((l) => l.trim() === CRASH_NOTICE).length,
    restarting: p.client.lines.filter((l) => l.trim() === RESTARTING).length,
  }));
  const wrong = counts.filter((c) => c.crash + c.restarting !== 1);
  expect(wrong, `players not told exactly once: ${JSON.stringify(wrong.slice(0, 10))}`).to.deep.equal([]);
  console.log(`      (notices: ${counts.filter((c) => c.crash === 1).length} crash notices, ${counts.filter((c) => c.restarting === 1).length} restarting notices)`);
}

function expectNothingDropped(players: Player[]): void {
  const dropped = players.flatMap((p) => p.client.lines.filter((l) => l.startsWith(DROPPED_PREFIX)).map((l) => `${p.name}: ${l}`));
  expect(dropped, "inputs the portal did not keep").to.deep.equal([]);
}

/** No refused acknowledgement, no input left unkept, no refused sync, nothing uncaught in the portal's log. */
function expectCleanLog(output: readonly string[]): void {
  const codes = [ErrorCodes.LINK_ACK, ErrorCodes.INPUT_QUEUE_FULL, ErrorCodes.LINK_SYNC, ErrorCodes.UNCAUGHT];
  const bad = output.filter((l) => codes.some((code) => l.includes(`"${code}"`)));
  expect(bad, "error lines in the portal's log").to.deep.equal([]);
}

function report(label: string, what: string, a: Analysis, t0: number): void {
  const detail = [...a.lostPerPlayer].map(([name, ks]) => `${name}:${ks.join(",")}`).join(" ");
  console.log(`      (${label}: ${what} ${a.lost} command(s)${detail ? ` [${detail}]` : ""}; recorded ${a.byOld} by the old process, ${a.byNew} by the new one; ${Date.now() - t0} ms from the first command)`);
}

/** A stream of commands under way, started by streamToFault(). */
interface FaultRun {
  ctx: Ctx;
  all: Player[];
  /** The game process running when the stream started. */
  oldPid: number;
  /** When the first command was sent. */
  t0: number;
  /** Resolves when every player has sent every command. */
  streaming: Promise<void>;
  /** Commands the game had recorded when FAULT_AT was reached. */
  recorded: number;
}

/**
 * After a crashed or hung game replaced by `newPid`: seen.log passes analyse() with at most 50
 * commands lost, the new process was synced in `crash` mode, each player was told once, nothing
 * was dropped and the portal's log is clean. `who` names the old process in the messages.
 */
function expectCrashRecovery(label: string, who: string, run: FaultRun, newPid: number, records: Seen[]): void {
  const a = analyse(records, run.all, run.oldPid, newPid);
  report(label, `the ${who} process took with it`, a, run.t0);
  expect(a.lost, `commands the ${who} process took with it`).to.be.at.most(50);
  expect(gameSyncs(run.ctx.portico.output).filter((s) => s.pid === newPid).map((s) => s.mode)).to.deep.equal(["crash"]);
  expectOneNoticeEach(run.all);
  expectNothingDropped(run.all);
  expectCleanLog(run.ctx.portico.output);
}

describe("the link loses nothing under game faults (real portico start, 50 telnet players)", function () {
  this.timeout(60_000);
  let ctx: Ctx | undefined;
  let players: Player[] = [];
  /** Game pids to SIGKILL in cleanup (a SIGSTOPped game left behind by a failed test). */
  let gamePids: number[] = [];

  beforeEach(() => {
    ctx = undefined;
    players = [];
    gamePids = [];
  });

  /**
   * `portico start` with `config`; once the game is synced, PLAYERS log in and start their stream.
   * Resolves when the game has recorded FAULT_AT of it, for the test to inject its fault.
   */
  async function streamToFault(config: Parameters<typeof startPortico>[0]): Promise<FaultRun> {
    const c = (ctx = await startPortico(config));
    await c.portico.waitForLog(/"msg":"SYNC cold/, 15_000);
    const all = await connectPlayers(c, players);
    const oldPid = (await c.status()).game.pid!;
    gamePids.push(oldPid);

    const t0 = Date.now();
    const streaming = stream(all);
    const recorded = await recordedShare(c, FAULT_AT);
    return { ctx: c, all, oldPid, t0, streaming, recorded };
  }

  afterEach(async () => {
    for (const p of players) p.client.close();
    // A stopped process would outlive everything: kill it first (SIGKILL works on a stopped process).
    for (const pid of gamePids) killIfAlive(pid);
    await ctx?.close();
    for (const pid of gamePids) killIfAlive(pid);
  });

  it("SIGKILL mid-stream: what the crashed process had not taken in is run once by the new one, in order; nothing twice", async () => {
    const run = await streamToFault({});
    const { ctx, all, oldPid, t0, streaming } = run;
    process.kill(oldPid, "SIGKILL");
    const killedAt = Date.now() - t0;
    await streaming;
    const newPid = await replacement(ctx, oldPid);
    gamePids.push(newPid);
    const records = await lastCommandsRecorded(ctx, all, oldPid);
    console.log(`      (SIGKILLed game ${oldPid} after ${killedAt} ms with ${run.recorded} of ${PLAYERS * COMMANDS} commands recorded; replaced by ${newPid})`);

    expectCrashRecovery("SIGKILL", "crashed", run, newPid, records);
  });

  it("SIGSTOP mid-stream: the heartbeat replaces the hung game; same result; held input stays within the configured bounds", async () => {
    // Bounds above what this load can hold (50 x 80 inputs of about 24 bytes), so nothing is dropped.
    const limits = { pendingInputMax: 100, inputRetainTotalBytes: 128 * 1024 };
    const run = await streamToFault({ limits, link: { heartbeatMs: 200, heartbeatTimeoutMs: 1000 } });
    const { ctx: c, all, oldPid, t0, streaming } = run;
    process.kill(oldPid, "SIGSTOP");
    const stoppedAt = Date.now() - t0;

    // Sample the portal's held input during the outage (two samplers, each a `portico status --json`).
    const samples: Status[] = [];
    let sampling = true;
    const sampler = async () => {
      while (sampling) samples.push(await c.status());
    };
    const samplers = [sampler(), (async () => {
      await sleep(100);
      await sampler();
    })()];
    let newPid: number;
    try {
      newPid = await replacement(c, oldPid);
    } finally {
      sampling = false;
      await Promise.all(samplers);
    }
    gamePids.push(newPid);
    const replacedAfter = Date.now() - t0 - stoppedAt;
    await streaming;
    const records = await lastCommandsRecorded(c, all, oldPid);
    console.log(`      (SIGSTOPped game ${oldPid} after ${stoppedAt} ms with ${run.recorded} of ${PLAYERS * COMMANDS} commands recorded; replaced by ${newPid} ${replacedAfter} ms later)`);

    const maxInputs = Math.max(...samples.map((s) => s.pending_inputs));
    const maxBytes = Math.max(...samples.map((s) => s.pending_input_bytes));
    console.log(`      (${samples.length} status samples during the outage: at most ${maxInputs} pending inputs, ${maxBytes} pending input bytes)`);
    expect(samples.length).to.be.at.least(2);
    expect(maxInputs, "input held while the game is hung").to.be.greaterThan(0);
    for (const s of samples) {
      expect(s.pending_input_bytes).to.be.at.most(limits.inputRetainTotalBytes);
      expect(s.pending_inputs).to.be.at.most(PLAYERS * limits.pendingInputMax);
    }

    const st = (await c.status()).game;
    expect(st.unresponsive_kills).to.equal(1);
    expect(st.crashes).to.equal(1);
    expectCrashRecovery("SIGSTOP", "hung", run, newPid, records);
  });

  it("a planned reload mid-stream (`portico reload`): every command runs exactly once, in order, across the two processes", async () => {
    const { ctx, all, oldPid, t0, streaming, recorded: atReload } = await streamToFault({});
    const reload = await ctx.portico.cli(["reload"]);
    const reloadedAfter = Date.now() - t0;
    expect(reload.code, reload.stderr).to.equal(0);
    expect(reload.stdout).to.contain("game reloaded and connected again");
    await streaming;
    const newPid = (await ctx.status()).game.pid!;
    gamePids.push(newPid);
    expect(newPid).to.not.equal(oldPid);
    const records = await lastCommandsRecorded(ctx, all, oldPid);
    console.log(`      (reload asked with ${atReload} of ${PLAYERS * COMMANDS} commands recorded; \`portico reload\` returned after ${reloadedAfter} ms; ${oldPid} -> ${newPid})`);

    const a = analyse(records, all, oldPid, newPid);
    report("reload", "lost", a, t0);
    expect(a.lost, "commands lost over a planned reload").to.equal(0);
    expect(records).to.have.length(PLAYERS * COMMANDS);
    expect(a.byOld, "the old process recorded part of the stream").to.be.greaterThan(0);
    expect(a.byNew, "the new process recorded part of the stream").to.be.greaterThan(0);
    expect(gameSyncs(ctx.portico.output).filter((s) => s.pid === newPid).map((s) => s.mode)).to.deep.equal(["reload"]);
    const st = (await ctx.status()).game;
    expect(st.crashes).to.equal(0);
    // A reload is not a crash: nobody gets the crash notice; input typed while no game was linked gets the restarting notice once.
    for (const p of all) {
      expect(p.client.lines.filter((l) => l.trim() === CRASH_NOTICE), p.name).to.have.length(0);
      expect(p.client.lines.filter((l) => l.trim() === RESTARTING).length, p.name).to.be.at.most(1);
    }
    expectNothingDropped(all);
    expectCleanLog(ctx.portico.output);
  });
});
