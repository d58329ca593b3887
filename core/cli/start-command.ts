import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { bundledPlugins } from "../../plugins/index.js";
import { AdminServer } from "../admin/admin-server.js";
import { loadAppConfig } from "../config/load-config.js";
import { errorMessage } from "../errors/portal-error.js";
import { createPinoLogger } from "../logging/pino-logger.js";
import { createPortalMetrics } from "../metrics/portal-metrics.js";
import { Portal } from "../portal.js";
import { DataDir } from "../state/data-dir.js";
import { GameSupervisor } from "../supervisor/game-supervisor.js";
import { systemClock } from "../time/clock.js";
import { acquireLock, removeRuntime, writeRuntime } from "./runtime-file.js";

const DEFAULT_GAME = fileURLToPath(new URL("../default-game/main.js", import.meta.url));
export const CRASH_NOTICE = "The game stopped unexpectedly and is restarting. You stay connected; what you type will be delivered when it is back.";
export const SHUTDOWN_NOTICE = "The server is shutting down. Goodbye!";

/** `portico start`: the portal, the admin endpoint and the supervised game, in the foreground until stopped. */
export async function startCommand(args: { configPath?: string }): Promise<void> {
  const { config, source, linkSecret } = loadAppConfig(args.configPath === undefined ? {} : { configPath: args.configPath });
  const dataDir = new DataDir(config.dataDir);
  dataDir.ensure();
  dataDir.writeAtomic(".write-test", "ok\n");
  const releaseLock = acquireLock(config.dataDir);
  const logger = createPinoLogger(config.logLevel);
  let supervisor: GameSupervisor | undefined;
  let stopping: Promise<void> | undefined;

  const portal = new Portal({
    config, logger, plugins: bundledPlugins, ...(linkSecret !== undefined ? { linkSecret } : {}),
    onGameStopRequested: (mode) => supervisor?.expectExit(mode),
    onShutdownRequested: () => void shutdown("the game asked for a shutdown"),
    onGameConnected: () => supervisor?.markHealthy(),
  });

  async function reload(): Promise<void> {
    logger.info({}, "reload requested");
    await portal.launcher.reloadAll();
    await supervisor?.reload();
  }

  function shutdown(why: string): Promise<void> {
    stopping ??= (async () => {
      logger.info({ why }, "shutting down");
      const force = setTimeout(() => process.exit(0), 4800);
      force.unref();
      await portal.stop(SHUTDOWN_NOTICE);
      await supervisor?.stop();
      await admin?.stop();
      removeRuntime(config.dataDir);
      releaseLock();
      logger.info({}, "stopped");
      process.exit(0);
    })();
    return stopping;
  }

  let admin: AdminServer | undefined;
  try {
    await portal.start();
    if (config.game.enabled) {
      const link = portal.linkAddress!;
      supervisor = new GameSupervisor({
        entry: config.game.entry || DEFAULT_GAME,
        env: {
          PORTICO_LINK_HOST: link.host, PORTICO_LINK_PORT: String(link.port), PORTICO_DATA_DIR: config.dataDir,
          PORTICO_GAME_DB: config.game.db || join(config.dataDir, "game.sqlite"), PORTICO_SERVER_NAME: config.serverName,
          PORTICO_LOG_LEVEL: config.logLevel, ...(linkSecret !== undefined ? { PORTICO_LINK_SECRET: linkSecret } : {}),
        },
        logger: logger.child({ part: "supervisor" }), clock: systemClock,
        backoff: { initialMs: config.game.restartInitialMs, factor: config.game.restartFactor, maxMs: config.game.restartMaxMs },
        stopTimeoutMs: config.game.stopTimeoutMs,
        requestStop: (mode) => portal.requestGameStop(mode),
        onCrash: () => portal.handler.announce_all(CRASH_NOTICE),
      });
      supervisor.start();
    }
    if (config.admin.enabled) {
      const game = supervisor;
      const registry = createPortalMetrics({
        portal, ...(game ? { game: () => ({ up: game.pid !== undefined, restarts: game.restarts, crashes: game.crashes }) } : {}),
      });
      admin = new AdminServer(config.admin.host, config.admin.port, portal.linkSecret, registry, {
        status: () => ({ ...portal.status(), game: supervisor?.status() ?? null, admin: admin?.address ?? null, web: { port: config.web.port, installed: false } }),
        ready: () => portal.status().link !== undefined && (portal.status().link as { connected: boolean }).connected,
        reload,
        stop: () => shutdown("stop requested through the admin endpoint"),
      }, logger.child({ part: "admin" }));
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
  logger.info({ config: source ?? "(defaults)", dataDir: config.dataDir, link: portal.linkAddress, admin: admin?.address, listeners, web: "not installed yet" }, "portico is running");
  process.on("SIGHUP", () => void reload().catch((err) => logger.error({}, `reload failed: ${errorMessage(err)}`)));
  process.once("SIGTERM", () => void shutdown("SIGTERM"));
  process.once("SIGINT", () => void shutdown("SIGINT"));
}
