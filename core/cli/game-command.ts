import { join } from "node:path";
import { loadAppConfig } from "../config/load-config.js";
import { natsCredentials } from "../config/nats-credentials.js";
import { connectNats } from "../link/nats/nats-connection.js";
import { failConfig } from "../config/portal-config.js";
import { GameEnvError, limitsFromEnv } from "../default-game/env-settings.js";
import { ErrorCodes } from "../errors/error-codes.js";
import { errorMessage } from "../errors/portal-error.js";
import { createPinoLogger } from "../logging/pino-logger.js";
import { DataDir } from "../state/data-dir.js";
import { GameSupervisor } from "../supervisor/game-supervisor.js";
import { systemClock } from "../time/clock.js";
import { DEFAULT_GAME } from "./start-command.js";

/**
 * `portico game`: the game alone, without a portal, linked to the portals over NATS (link.transport
 * "nats"). The game process is supervised as under `portico start`: restarted at once after a reload
 * (announced by the game), with back-off after a crash; SIGHUP restarts it, SIGTERM/SIGINT stop it.
 */
export async function gameCommand(args: { configPath?: string }): Promise<void> {
  const { config, source } = loadAppConfig(args.configPath === undefined ? {} : { configPath: args.configPath });
  if (config.link.transport !== "nats") {
    failConfig("link.transport", "portico game runs the game on its own and reaches the portals over NATS: set link.transport to \"nats\" (and link.nats) in the config, or PORTICO_LINK_TRANSPORT=nats");
  }
  if (config.game.entry === "") {
    try {
      limitsFromEnv(process.env);
    } catch (err) {
      if (err instanceof GameEnvError) failConfig(err.variable, err.problem);
      throw err;
    }
  }
  // Unreachable NATS or refused credentials stop the command here, named (PORTAL_ERR_NATS_*), instead of a game restarted in a loop.
  const nc = await connectNats(config.link.nats, natsCredentials(config.link.nats), "portico-game-check");
  await nc.close();
  new DataDir(config.dataDir).ensure();
  const logger = createPinoLogger(config.logLevel);
  const supervisor: GameSupervisor = new GameSupervisor({
    entry: config.game.entry || DEFAULT_GAME,
    env: {
      PORTICO_LINK_TRANSPORT: "nats", ...(source !== null ? { PORTICO_CONFIG: source } : {}), PORTICO_DATA_DIR: config.dataDir,
      PORTICO_GAME_DB: config.game.db || join(config.dataDir, "game.sqlite"), PORTICO_SERVER_NAME: config.serverName, PORTICO_LOG_LEVEL: config.logLevel,
    },
    logger: logger.child({ part: "supervisor" }), clock: systemClock,
    backoff: { initialMs: config.game.restartInitialMs, factor: config.game.restartFactor, maxMs: config.game.restartMaxMs },
    stopTimeoutMs: config.game.stopTimeoutMs,
    // No portal here to tell whether the game is linked: no link watchdog (each portal watches its link).
    linkTimeoutMs: 0,
    // Asked over IPC (SIGTERM if that fails): the game hands its sessions back to every portal before it exits.
    requestStop: (mode) => supervisor.askOverIpc(mode),
    onCrash: (detail) => logger.error({ code: ErrorCodes.GAME_PROCESS, exitCode: detail.code, signal: detail.signal, restartInMs: detail.restartInMs }, "game process died; the portals keep their players and replay their input to the next one"),
  });
  let stopping = false;
  const stop = (why: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ why }, "stopping the game");
    void supervisor.stop().then(() => process.exit(0), () => process.exit(1));
  };
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));
  process.on("SIGHUP", () => void supervisor.reload().catch((err: unknown) => logger.error({ code: ErrorCodes.GAME_PROCESS }, `reload failed: ${errorMessage(err)}`)));
  supervisor.start();
  logger.info({ config: source ?? "(defaults)", servers: config.link.nats.servers, prefix: config.link.nats.prefix, gamePid: supervisor.pid }, "portico game is running");
}
