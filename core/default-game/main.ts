/**
 * The default game as a process: `node dist/core/default-game/main.js`.
 * Env: PORTICO_LINK_TRANSPORT (tcp; nats: the config file's link.nats and PORTICO_NATS_*, see docs/scaling.md),
 * PORTICO_LINK_HOST (127.0.0.1), PORTICO_LINK_PORT (4006), PORTICO_DATA_DIR (./data),
 * PORTICO_LINK_SECRET (else read from <data dir>/link.secret), PORTICO_GAME_DB (<data dir>/game.sqlite), PORTICO_SERVER_NAME (Portico), PORTICO_LOG_LEVEL (info),
 * and the limits in env-settings.ts (PORTICO_GAME_ACCOUNT_MAX_FAILURES and the rest).
 * Start-up problems (no link secret, database cannot be opened) end it with one line on stderr and exit code 1.
 */
import { join } from "node:path";
import { loadAppConfig } from "../config/load-config.js";
import { NatsGameTransport, natsCredentials, readLinkSecret, type GameTransport } from "../game/index.js";
import { limitsFromEnv } from "./env-settings.js";
import { startDefaultGame, type DefaultGame } from "./game.js";
import { JsonLogger, parseLogLevel } from "./log.js";

function fail(message: string): never {
  process.stderr.write(`portico default game: ${message.split("\n")[0]}\n`);
  process.exit(1);
}

/**
 * With PORTICO_LINK_TRANSPORT=nats: the NATS transport, from the config file (PORTICO_CONFIG, else
 * ./portico.config.json) and the PORTICO_NATS_* variables; connected before the game starts, so bad
 * credentials or an unreachable NATS end the process with one line.
 */
async function natsTransport(logger: JsonLogger, serverName: string): Promise<GameTransport> {
  const { config } = loadAppConfig();
  const transport = new NatsGameTransport({
    nats: config.link.nats, credentials: natsCredentials(config.link.nats), link: config.link,
    info: { name: "portico-default-game", server: serverName }, logger,
  });
  await transport.open();
  return transport;
}

async function main(): Promise<void> {
  const env = process.env;
  const dataDir = env.PORTICO_DATA_DIR || "./data";
  const nats = env.PORTICO_LINK_TRANSPORT === "nats";
  const port = Number(env.PORTICO_LINK_PORT || 4006);
  // Over NATS there is no link port (a portal's own PORTICO_LINK_PORT may be inherited): not checked.
  if (!nats && (!Number.isInteger(port) || port < 1 || port > 65535)) fail(`PORTICO_LINK_PORT must be a port number, got ${JSON.stringify(env.PORTICO_LINK_PORT)}`);
  const logger = new JsonLogger(parseLogLevel(env.PORTICO_LOG_LEVEL), { component: "default-game" });

  let limits: ReturnType<typeof limitsFromEnv>;
  try {
    limits = limitsFromEnv(env);
  } catch (err) {
    fail(err instanceof Error ? err.message : String(err));
  }

  const serverName = env.PORTICO_SERVER_NAME || "Portico";
  let secret = "";
  let transport: GameTransport | undefined;
  try {
    if (nats) transport = await natsTransport(logger, serverName);
    else secret = env.PORTICO_LINK_SECRET || readLinkSecret(dataDir);
  } catch (err) {
    // Named by its code (e.g. [PORTAL_ERR_NATS_AUTH]) as the CLI does, so the operator can look it up.
    const code = (err as { code?: unknown } | undefined)?.code;
    fail(`${typeof code === "string" ? `[${code}] ` : ""}${err instanceof Error ? err.message : String(err)}`);
  }

  let game: DefaultGame;
  try {
    game = startDefaultGame({
      link: { host: env.PORTICO_LINK_HOST || "127.0.0.1", port, secret },
      ...(transport ? { transport } : {}),
      dbPath: env.PORTICO_GAME_DB || join(dataDir, "game.sqlite"),
      serverName,
      logger,
      ...limits,
      onExit: (code) => process.exit(code),
      // Under a supervisor (portico start or portico game), an exit after this is a reload or shutdown, not a crash.
      onStopping: (mode) => process.send?.({ op: "stopping", mode }),
    });
  } catch (err) {
    fail(err instanceof Error ? err.message : String(err));
  }

  const shutdown = () => {
    // Never hang on the way out: the hand-back is best effort.
    setTimeout(() => process.exit(0), 5000).unref();
    void game.stopFor("shutdown");
  };
  process.once("SIGTERM", shutdown);
  process.once("SIGINT", shutdown);
  // Run by the portal's supervisor with an IPC channel: when it closes, the portal is gone.
  if (process.send) process.once("disconnect", shutdown);
  // portico game asks for a reload or shutdown over IPC (over NATS it has no link of its own to the game).
  process.on("message", (m: { op?: unknown; mode?: unknown }) => {
    if (m?.op === "stop" && (m.mode === "reload" || m.mode === "reset" || m.mode === "shutdown")) void game.stopFor(m.mode);
  });
  logger.info({ pid: process.pid, ...(transport ? { transport: "nats" } : { port }) }, "default game started");
}

void main();
