#!/usr/bin/env node
import "reflect-metadata";
import { bundledPlugins } from "../../plugins/index.js";
import { loadAppConfig } from "../config/load-config.js";
import { errorMessage } from "../errors/portal-error.js";
import { readLinkSecret } from "../state/data-dir.js";
import { adminRequest } from "./admin-client.js";
import { adminCommand } from "./admin-command.js";
import { configSchemaCommand, installedManifests } from "./config-schema-command.js";
import { formatCluster, formatStatus } from "./format-status.js";
import { gameCommand } from "./game-command.js";
import type { ClusterPortal } from "../link/link-messages.js";
import { newPluginCommand } from "./new-plugin-command.js";
import { readRuntime } from "./runtime-file.js";
import { startCommand } from "./start-command.js";

const USAGE = `usage: portico <command> [--config <file>]

commands:
  start            run the portal and the game in the foreground (Ctrl-C or "portico stop" ends it)
  game             run only the game, supervised, linked to the portals over NATS (link.transport "nats";
                   see docs/scaling.md); SIGHUP restarts it, Ctrl-C or SIGTERM stops it
  reload           restart the game process; players stay connected
  stop             tell players, stop the game and the portal
  status [--json]  sessions, bots, uptime, game pid, link state
  status --cluster [--json]
                   the portals the linked game sees, with their session counts
  config-schema [--out <file>]
                   print (or write) the JSON Schema of portico.config.json, for editor completion
  admin create <name> [--promote]
                   make an admin account of the default game (running or not); the password is asked
                   without echo, or read from the file named by PORTICO_ADMIN_PASSWORD_FILE or one line
                   on stdin, never from the command line; --promote makes an existing account an admin
  admin demote <name> | admin list
                   take admin rights away; list the admins
  new-plugin <name> [--dir <path>] [--portico <spec>]
                   scaffold a protocol plugin package from the template (default dir ./portico-plugin-<name>;
                   it depends on this Portico by file: path, or on <spec>, e.g. a packed tarball)
`;

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

async function talk(args: string[], method: "GET" | "POST", path: string): Promise<unknown> {
  const configPath = option(args, "--config");
  const { config, linkSecret } = loadAppConfig(configPath === undefined ? {} : { configPath });
  const runtime = readRuntime(config.dataDir);
  if (!runtime.admin) throw new Error("the running portal has no admin endpoint (admin.enabled is false)");
  // A reload may take the game's stop timeout plus 15 s for the new game to connect.
  const timeoutMs = path === "/reload" ? config.game.stopTimeoutMs + 30_000 : 15_000;
  return adminRequest(runtime.admin, linkSecret ?? readLinkSecret(config.dataDir), method, path, timeoutMs);
}

async function waitUntilGone(args: string[], timeoutMs: number): Promise<boolean> {
  const configPath = option(args, "--config");
  const { config } = loadAppConfig(configPath === undefined ? {} : { configPath });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      readRuntime(config.dataDir);
    } catch {
      return true;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  switch (command) {
    case "start": {
      const configPath = option(args, "--config");
      await startCommand(configPath === undefined ? {} : { configPath });
      return -1; // keeps running
    }
    case "game": {
      const configPath = option(args, "--config");
      await gameCommand(configPath === undefined ? {} : { configPath });
      return -1; // keeps running
    }
    case "status": {
      if (args.includes("--cluster")) {
        const { portals } = (await talk(args, "GET", "/status/cluster")) as { portals: ClusterPortal[] | null };
        if (args.includes("--json")) process.stdout.write(`${JSON.stringify({ portals }, null, 2)}\n`);
        else process.stdout.write(formatCluster(portals));
        return portals === null ? 1 : 0;
      }
      const status = (await talk(args, "GET", "/status")) as Record<string, unknown>;
      process.stdout.write(args.includes("--json") ? `${JSON.stringify(status, null, 2)}\n` : formatStatus(status));
      return 0;
    }
    case "reload": {
      const r = (await talk(args, "POST", "/reload")) as { game?: string };
      if (r.game === "reloaded") process.stdout.write("game reloaded and connected again; players stayed connected\n");
      else if (r.game === "not supervised") process.stdout.write("plugins reloaded; no game process is supervised (game.enabled is false)\n");
      else {
        process.stderr.write("portico: the game was restarted but has not connected within 15 s; see the log\n");
        return 1;
      }
      return 0;
    }
    case "stop":
      await talk(args, "POST", "/stop");
      if (!(await waitUntilGone(args, 8000))) {
        process.stderr.write("portico: asked to stop, but it is still running after 8 s\n");
        return 1;
      }
      process.stdout.write("portico stopped\n");
      return 0;
    case "admin":
      return adminCommand(args);
    case "new-plugin": {
      const name = args[0];
      if (name === undefined || name.startsWith("--")) throw new Error("new-plugin needs a name, e.g. portico new-plugin chat");
      for (const flag of ["--dir", "--portico"]) if (args.includes(flag) && option(args, flag) === undefined) throw new Error(`${flag} needs a value`);
      const dir = option(args, "--dir");
      const porticoSpec = option(args, "--portico");
      newPluginCommand({ name, ...(dir !== undefined ? { dir } : {}), ...(porticoSpec !== undefined ? { porticoSpec } : {}) });
      return 0;
    }
    case "config-schema": {
      if (args.includes("--out") && option(args, "--out") === undefined) throw new Error("--out needs a file name");
      configSchemaCommand(await installedManifests(bundledPlugins, option(args, "--config")), option(args, "--out"));
      return 0;
    }
    case undefined:
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`portico: unknown command "${command}"\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err: unknown) => {
    const code = (err as { code?: unknown }).code;
    process.stderr.write(`portico: ${typeof code === "string" ? `[${code}] ` : ""}${errorMessage(err)}\n`);
    process.exit(code === "PORTAL_ERR_CONFIG_INVALID" ? 2 : 1);
  },
);
