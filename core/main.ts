import "reflect-metadata";
import { readFileSync, existsSync } from "node:fs";
import { Portal } from "./portal.js";
import { errorMessage } from "./errors/portal-error.js";
import { bundledPlugins } from "../plugins/index.js";

/** `npm start`: the portal on its embedded defaults (or ./portico.config.json when present). */
async function main(): Promise<void> {
  const configPath = process.env.PORTICO_CONFIG ?? "portico.config.json";
  const config = existsSync(configPath)
    ? JSON.parse(readFileSync(configPath, "utf8"))
    : { listeners: [{ plugin: "plugins.telnet.TelnetFactory", config: { port: 4000 } }] };
  const portal = new Portal({ config, plugins: bundledPlugins });
  const shutdown = () => void portal.stop().then(() => process.exit(0));
  process.once("SIGINT", shutdown);
  process.once("SIGTERM", shutdown);
  process.on("SIGHUP", () => void portal.launcher.reloadAll());
  await portal.start();
}

main().catch((err) => {
  const code = (err as { code?: unknown }).code;
  process.stderr.write(`portico: ${typeof code === "string" ? `[${code}] ` : ""}${errorMessage(err)}\n`);
  process.exit(1);
});
