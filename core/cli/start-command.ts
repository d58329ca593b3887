import { fileURLToPath } from "node:url";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { bundledPlugins } from "../../plugins/index.js";
import { AdminServer } from "../admin/admin-server.js";
import { loadAppConfig } from "../config/load-config.js";
import { failConfig } from "../config/portal-config.js";
import { GameEnvError, limitsFromEnv } from "../default-game/env-settings.js";
import { ErrorCodes } from "../errors/error-codes.js";
import { errorMessage } from "../errors/portal-error.js";
import { createPinoLogger } from "../logging/pino-logger.js";
import { createPortalMetrics } from "../metrics/portal-metrics.js";
import { Portal } from "../portal.js";
import { DataDir } from "../state/data-dir.js";
import { GameSupervisor } from "../supervisor/game-supervisor.js";
import { systemClock } from "../time/clock.js";
import { acquireLock, removeRuntime, writeRuntime } from "./runtime-file.js";

export const DEFAULT_GAME = fileURLToPath(new URL("../default-game/main.js", import.meta.url));
export const CRASH_NOTICE = "The game stopped unexpectedly and is restarting. You stay connected; what you type will be delivered when it is back.";
export const SHUTDOWN_NOTICE = "The server is shutting down. Goodbye!";

/** How the supervised game finds the link: the TCP link's address, or NATS through the same config file (and PORTICO_NATS_* inherited). */
export function gameLinkEnv(portal: Portal, configSource: string | null): Record<string, string> {
  const link = portal.linkAddress;
  if (link) return { PORTICO_LINK_HOST: link.host, PORTICO_LINK_PORT: String(link.port) };
  return { PORTICO_LINK_TRANSPORT: "nats", ...(configSource !== null ? { PORTICO_CONFIG: configSource } : {}) };
}

/** `portico start`: the portal, the admin endpoint and the supervised game, in the foreground until stopped. */
export async function startCommand(args: { configPath?: string }): Promise<void> {
  const { config, source, linkSecret } = loadAppConfig(args.configPath === undefined ? {} : { configPath: args.configPath });
  // The bundled game reads its limits (PORTICO_GAME_*) from the environment it inherits: a bad one stops the start here, named.
  if (config.game.enabled && config.game.entry === "") {
    try {
      limitsFromEnv(process.env);
    } catch (err) {
      if (err instanceof GameEnvError) failConfig(err.variable, err.problem);
      throw err;
    }
  }
  const dataDir = new DataDir(config.dataDir);
  dataDir.ensure();
  dataDir.writeAtomic(".write-test", "ok\n"); // fails clearly on a read-only or full data directory
  rmSync(join(config.dataDir, ".write-test"), { force: true });
  const releaseLock = acquireLock(config.dataDir);
  // Until the portal runs, SIGHUP is ignored and SIGTERM/SIGINT wait for the start to finish.
  let started = false;
  let stopAfterStart: string | undefined;
  const ignoreHup = () => undefined;
  const earlyStop = (signal: string) => (stopAfterStart = signal);
  process.on("SIGHUP", ignoreHup);
  process.once("SIGTERM", () => (started ? void shutdown("SIGTERM") : earlyStop("SIGTERM")));
  process.once("SIGINT", () => (started ? void shutdown("SIGINT") : earlyStop("SIGINT")));
  const logger = createPinoLogger(config.logLevel);
  // Last line of defence: a library throwing from a socket callback must not end every player's session.
  process.on("uncaughtException", (err) => logger.error({ code: ErrorCodes.UNCAUGHT, err }, `uncaught exception (kept running): ${errorMessage(err)}`));
  process.on("unhandledRejection", (err) => logger.error({ code: ErrorCodes.UNCAUGHT, err }, `unhandled rejection: ${errorMessage(err)}`));
  let supervisor: GameSupervisor | undefined;
  let stopping: Promise<void> | undefined;
  /** Games linked so far (a reload over NATS is done when the next one links). */
  let gameLinks = 0;

  const portal = new Portal({
    config, logger, plugins: bundledPlugins, ...(linkSecret !== undefined ? { linkSecret } : {}),
    onGameStopRequested: (mode) => supervisor?.expectExit(mode),
    onShutdownRequested: () => void shutdown("the game asked for a shutdown"),
    onGameConnected: () => {
      gameLinks += 1;
      supervisor?.markHealthy();
      supervisor?.gameLinked();
    },
    // A hung game (heartbeat timeout, not reading) is killed and restarted; any other loss arms the link watchdog.
    onGameLinkLost: (code) => supervisor?.gameUnlinked(code),
  });

  /** Re-reads plugin files (certificates) and restarts the game; resolves once the new game is connected (or 15 s). */
  async function reload(): Promise<{ game: "reloaded" | "not connected" | "not supervised" }> {
    logger.info({}, "reload requested");
    await portal.launcher.reloadAll();
    const before = gameLinks;
    if (!supervisor) {
      // Over NATS the game runs elsewhere (portico game): it is asked over the link, and its own supervisor restarts it.
      if (config.link.transport !== "nats" || !portal.requestGameStop("reload")) return { game: "not supervised" };
    } else await supervisor.reload();
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (portal.gameConnected && (supervisor || gameLinks > before)) return { game: "reloaded" };
      await new Promise((r) => setTimeout(r, 50));
    }
    return { game: "not connected" };
  }

  function shutdown(why: string): Promise<void> {
    stopping ??= (async () => {
      logger.info({ why }, "shutting down");
      const cleanup = () => {
        removeRuntime(config.dataDir);
        releaseLock();
      };
      const force = setTimeout(() => {
        cleanup();
        process.exit(0);
      }, 4800);
      force.unref();
      // The game is asked over the link first (bounded), then players are told and everything closes.
      await supervisor?.stop(Math.min(config.game.stopTimeoutMs, 2500));
      await portal.stop(SHUTDOWN_NOTICE);
      await admin?.stop();
      cleanup();
      logger.info({}, "stopped");
      process.exit(0);
    })();
    return stopping;
  }

  let admin: AdminServer | undefined;
  try {
    await portal.start();
    if (config.game.enabled) {
      supervisor = new GameSupervisor({
        entry: config.game.entry || DEFAULT_GAME,
        env: {
          ...gameLinkEnv(portal, source), PORTICO_DATA_DIR: config.dataDir,
          PORTICO_GAME_DB: config.game.db || join(config.dataDir, "game.sqlite"), PORTICO_SERVER_NAME: config.serverName,
          PORTICO_LOG_LEVEL: config.logLevel, ...(linkSecret !== undefined ? { PORTICO_LINK_SECRET: linkSecret } : {}),
        },
        logger: logger.child({ part: "supervisor" }), clock: systemClock,
        backoff: { initialMs: config.game.restartInitialMs, factor: config.game.restartFactor, maxMs: config.game.restartMaxMs },
        stopTimeoutMs: config.game.stopTimeoutMs,
        linkTimeoutMs: config.game.linkTimeoutMs,
        requestStop: (mode) => portal.requestGameStop(mode),
        onCrash: () => portal.handler.announceGameDown(CRASH_NOTICE),
      });
      if (portal.gameConnected) supervisor.gameLinked(); // another process with the secret linked first: it counts as linked
      supervisor.start();
    }
    if (config.admin.enabled) {
      const game = supervisor;
      const registry = createPortalMetrics({
        portal, ...(game ? { game: () => ({ up: game.pid !== undefined, restarts: game.restarts, crashes: game.crashes }) } : {}),
      });
      admin = new AdminServer(config.admin.host, config.admin.port, portal.linkSecret, registry, {
        status: () => ({ ...portal.status(), game: supervisor?.status() ?? null, admin: admin?.address ?? null }),
        cluster: () => portal.clusterStatus(),
        ready: () => portal.gameConnected,
        reload: async () => reload(),
        stop: () => shutdown("stop requested through the admin endpoint"),
      }, logger.child({ part: "admin" }), config.admin);
      await admin.start();
    }
  } catch (err) {
    logger.error({ code: (err as { code?: never }).code }, `start failed: ${errorMessage(err)}`);
    await portal.stop();
    await supervisor?.stop();
    await admin?.stop();
    releaseLock();
    throw err;
  }

  const listeners = portal.launcher.list().map((p) => ({ plugin: p.path, port: p.status.port }));
  writeRuntime(config.dataDir, {
    pid: process.pid, startedAt: new Date().toISOString(), admin: admin?.address ?? null, link: portal.linkAddress ?? null, listeners,
  });
  logger.info({ config: source ?? "(defaults)", dataDir: config.dataDir, link: portal.linkAddress, admin: admin?.address, listeners }, "portico is running");
  process.off("SIGHUP", ignoreHup);
  process.on("SIGHUP", () => void reload().catch((err) => logger.error({ code: ErrorCodes.ADMIN_REQUEST }, `reload failed: ${errorMessage(err)}`)));
  started = true;
  if (stopAfterStart) void shutdown(stopAfterStart);
}
