import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { ErrorCodes } from "../errors/error-codes.js";
import type { StopMode } from "../link/link-messages.js";
import type { Logger } from "../logging/logger.js";
import { Backoff, type BackoffPolicy } from "../time/backoff.js";
import type { Clock, TimerHandle } from "../time/clock.js";

export type SupervisorState = "stopped" | "running" | "reloading" | "backoff" | "stopping" | "halted";

/** Link-loss codes that mean the linked game hung or stopped reading: the supervisor kills and restarts it. */
export const UNRESPONSIVE_LINK_CODES: ReadonlySet<string> = new Set([ErrorCodes.LINK_TIMEOUT, ErrorCodes.LINK_BACKPRESSURE]);

export interface SupervisorOptions {
  /** The game's JavaScript entry file, run with this Node binary. */
  entry: string;
  env: Record<string, string>;
  logger: Logger;
  clock: Clock;
  backoff: BackoffPolicy;
  stopTimeoutMs: number;
  /**
   * A running game process while no game at all is linked to the portal for this long is killed and
   * restarted (crash path). Absent or 0: no watchdog.
   */
  linkTimeoutMs?: number;
  /** Asks the connected game to stop (link `server-stop`); false when no game is connected. */
  requestStop(mode: StopMode): boolean;
  /** The game died without being asked to; players are told here. */
  onCrash(detail: { code: number | null; signal: string | null; restartInMs: number }): void;
}

/**
 * Runs the game as a child process: restarts it at once after a reload, with back-off after a
 * crash, and stops it on shutdown (asked over the link first, killed after stopTimeoutMs).
 *
 * The portal reports the link through gameLinked() / gameUnlinked(). A game whose link was lost
 * because it hung (heartbeat timeout, not reading) is SIGKILLed at once, and a running process
 * while no game is linked for `linkTimeoutMs` is SIGKILLed by the watchdog; both are logged with
 * PORTAL_ERR_GAME_UNRESPONSIVE and then restarted like any crash.
 */
export class GameSupervisor {
  private child: ChildProcess | undefined;
  private state: SupervisorState = "stopped";
  private expecting: "reload" | "shutdown" | undefined;
  private readonly backoff: Backoff;
  private timer: TimerHandle | undefined;
  private killTimer: NodeJS.Timeout | undefined;
  private exitWaiters: (() => void)[] = [];
  /** Whether any game (the child or another process with the secret) is linked to the portal. */
  private linked = false;
  private watchdog: TimerHandle | undefined;
  /** The child this supervisor already SIGKILLed as unresponsive (its exit is pending). */
  private condemned: ChildProcess | undefined;
  /** Game processes killed as unresponsive (hung link or no link for linkTimeoutMs). */
  unresponsiveKills = 0;
  restarts = 0;
  crashes = 0;
  private startedAt = 0;

  constructor(private readonly options: SupervisorOptions) {
    this.backoff = new Backoff(options.backoff);
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): void {
    if (this.child || this.state === "stopping") return;
    this.spawnGame();
  }

  /**
   * Asks the running game over its IPC channel to stop for `mode` (the default game hands its
   * sessions back first); false when there is no game or no channel. For a game not reachable over
   * a link of this process (portico game, over NATS).
   */
  askOverIpc(mode: StopMode): boolean {
    const child = this.child;
    if (!child?.connected) return false;
    try {
      return child.send({ op: "stop", mode });
    } catch {
      return false;
    }
  }

  /** The game connected and synced: a later crash starts the back-off from the beginning. */
  markHealthy(): void {
    this.backoff.reset();
  }

  /** A game (whatever process) is linked to the portal: the link watchdog stops. */
  gameLinked(): void {
    this.linked = true;
    this.clearWatchdog();
  }

  /**
   * The linked game's link is gone; `code` says why (undefined for a clean close). For a hung game
   * (PORTAL_ERR_LINK_TIMEOUT, PORTAL_ERR_LINK_BACKPRESSURE) the running child is killed at once;
   * otherwise the watchdog gives it `linkTimeoutMs` to link again.
   */
  gameUnlinked(code?: string): void {
    this.linked = false;
    if (code !== undefined && UNRESPONSIVE_LINK_CODES.has(code)) {
      this.killUnresponsive(`game process ${this.child?.pid ?? "?"} is unresponsive (its link was lost with ${code}); restarting it`, { linkCode: code });
    }
    this.armWatchdog();
  }

  /** The game announced it is about to exit (@reload, @shutdown of the game): act on the exit. */
  expectExit(mode: StopMode): void {
    // During a shutdown the exit is already expected as a stop: a game announcing "reload" must not be restarted.
    if (!this.child || this.state === "stopping") return;
    this.expecting = mode === "shutdown" ? "shutdown" : "reload";
    if (this.expecting === "reload") this.state = "reloading";
    this.armKill();
  }

  /** Restarts the game keeping every player connected; resolves when the new process is spawned. */
  async reload(): Promise<void> {
    if (this.state === "stopping") return;
    if (!this.child) {
      this.options.clock.clearTimeout(this.timer);
      this.timer = undefined;
      this.spawnGame();
      return;
    }
    this.expecting = "reload";
    this.state = "reloading";
    if (!this.options.requestStop("reload")) this.child.kill("SIGTERM");
    this.armKill();
    await this.waitForExit();
  }

  /** Stops the game for good (portal shutdown): asked over the link, killed after `timeoutMs`. */
  async stop(timeoutMs = this.options.stopTimeoutMs): Promise<void> {
    this.state = "stopping";
    this.options.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.clearWatchdog();
    if (!this.child) {
      this.state = "stopped";
      return;
    }
    if (!this.options.requestStop("shutdown")) this.child.kill("SIGTERM");
    this.armKill(timeoutMs);
    await this.waitForExit();
  }

  status(): Record<string, unknown> {
    return {
      state: this.state,
      pid: this.child?.pid ?? null,
      restarts: this.restarts,
      crashes: this.crashes,
      unresponsive_kills: this.unresponsiveKills,
      linked: this.linked,
      uptime_s: this.child ? Math.round((this.options.clock.now() - this.startedAt) / 1000) : 0,
    };
  }

  private spawnGame(): void {
    const { logger } = this.options;
    const child = spawn(process.execPath, ["--enable-source-maps", this.options.entry], {
      env: { ...process.env, ...this.options.env },
      // The IPC channel closes when the portal dies, so a game can exit instead of living on orphaned.
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    });
    this.child = child;
    this.state = "running";
    this.startedAt = this.options.clock.now();
    const relay = (stream: NodeJS.ReadableStream | null, level: "info" | "warn") => {
      if (!stream) return;
      createInterface({ input: stream }).on("line", (line) => relayLine(logger, level, child.pid, line));
    };
    relay(child.stdout, "info");
    relay(child.stderr, "warn");
    child.on("error", (err) => logger.error({ code: ErrorCodes.GAME_PROCESS, err }, `game process error: ${err.message}`));
    child.once("exit", (code, signal) => this.onExit(child, code, signal));
    // The game says it is stopping for a reload or shutdown (over NATS the supervisor may not see the link's reload message).
    child.on("message", (m: { op?: unknown; mode?: unknown }) => {
      if (child === this.child && m?.op === "stopping" && (m.mode === "reload" || m.mode === "reset" || m.mode === "shutdown")) this.expectExit(m.mode);
    });
    logger.info({ gamePid: child.pid, entry: this.options.entry }, "game process started");
    this.armWatchdog();
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (child !== this.child) return;
    this.child = undefined;
    this.condemned = undefined;
    clearTimeout(this.killTimer);
    this.killTimer = undefined;
    this.clearWatchdog();
    const expecting = this.expecting;
    this.expecting = undefined;
    const waiters = this.exitWaiters;
    this.exitWaiters = [];
    const { logger } = this.options;
    if (this.state === "stopping") {
      this.state = "stopped";
      logger.info({ exitCode: code, signal }, "game process stopped");
    } else if (expecting === "reload") {
      this.restarts += 1;
      logger.info({ exitCode: code, signal }, "game process exited for a reload; starting it again");
      this.spawnGame();
    } else if (expecting === "shutdown") {
      this.state = "halted";
      logger.info({ exitCode: code, signal }, "game process shut down on request; the portal keeps running");
    } else {
      this.crashes += 1;
      const delay = this.backoff.next();
      this.state = "backoff";
      logger.error({ code: ErrorCodes.GAME_PROCESS, exitCode: code, signal, restartInMs: delay }, "game process died; restarting it");
      this.options.onCrash({ code, signal, restartInMs: delay });
      this.timer = this.options.clock.setTimeout(() => {
        this.timer = undefined;
        if (this.state === "backoff") {
          this.restarts += 1;
          this.spawnGame();
        }
      }, delay);
    }
    for (const w of waiters) w();
  }

  /** SIGKILLs the running child as unresponsive (works on a stopped process too); its exit takes the crash path. */
  private killUnresponsive(message: string, fields: Record<string, unknown>): void {
    const child = this.child;
    if (!child || this.state !== "running" || this.expecting !== undefined || this.condemned === child) return;
    this.condemned = child;
    this.unresponsiveKills += 1;
    this.clearWatchdog();
    this.options.logger.error({ code: ErrorCodes.GAME_UNRESPONSIVE, gamePid: child.pid, ...fields }, message);
    child.kill("SIGKILL");
  }

  /** Starts the "not linked" countdown for the running child, unless a game is linked or it already runs. */
  private armWatchdog(): void {
    const timeoutMs = this.options.linkTimeoutMs ?? 0;
    if (timeoutMs <= 0 || this.linked || this.watchdog !== undefined) return;
    const child = this.child;
    if (!child || this.state !== "running" || this.expecting !== undefined || this.condemned === child) return;
    this.watchdog = this.options.clock.setTimeout(() => {
      this.watchdog = undefined;
      if (child !== this.child || this.linked) return;
      this.killUnresponsive(`game process ${child.pid ?? "?"} has not linked for ${timeoutMs} ms; restarting it`, { linkTimeoutMs: timeoutMs });
    }, timeoutMs);
  }

  private clearWatchdog(): void {
    if (this.watchdog === undefined) return;
    this.options.clock.clearTimeout(this.watchdog);
    this.watchdog = undefined;
  }

  private armKill(timeoutMs = this.options.stopTimeoutMs): void {
    clearTimeout(this.killTimer);
    const child = this.child;
    this.killTimer = setTimeout(() => {
      if (child && child === this.child) {
        this.options.logger.warn({ code: ErrorCodes.GAME_PROCESS, gamePid: child.pid }, `game did not exit within ${timeoutMs} ms; killing it`);
        child.kill("SIGKILL");
      }
    }, timeoutMs);
  }

  private waitForExit(): Promise<void> {
    if (!this.child) return Promise.resolve();
    return new Promise((resolve) => this.exitWaiters.push(resolve));
  }
}

/** One line of the game's output into the portal log: a JSON log line keeps its fields (so redaction applies), anything else is the message. */
function relayLine(logger: Logger, level: "info" | "warn", pid: number | undefined, line: string): void {
  const text = line.slice(0, 8000);
  if (text.startsWith("{")) {
    try {
      const entry = JSON.parse(text) as Record<string, unknown>;
      const { msg, level: lvl, time: _time, pid: _pid, hostname: _host, ...fields } = entry;
      const target = lvl === "error" || lvl === 50 ? "error" : lvl === "warn" || lvl === 40 ? "warn" : lvl === "debug" || lvl === 20 ? "debug" : level;
      logger[target]({ ...fields, game: pid }, typeof msg === "string" ? msg : "");
      return;
    } catch {
      /* not JSON after all */
    }
  }
  logger[level]({ game: pid }, text);
}

