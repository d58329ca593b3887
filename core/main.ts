import "reflect-metadata";
import { readFileSync, existsSync } from "node:fs";
import { Portal } from "./portal.js";
import { errorMessage } from "./errors/portal-error.js";
import { bundledPlugins } from "../plugins/index.js";
import { lineManifest } from "../plugin-template/src/index.js";

/** `npm start`: the portal on its embedded defaults (or ./portico.config.json when present). */
async function main(): Promise<void> {
  const configPath = process.env.PORTICO_CONFIG ?? "portico.config.json";
  const config = existsSync(configPath)
    ? JSON.parse(readFileSync(configPath, "utf8"))
    : { listeners: [{ plugin: lineManifest.path, config: { port: 4000 } }] };
  const portal = new Portal({ config, plugins: [...bundledPlugins, lineManifest] });
  const shutdown = () => void portal.stop().then(() => process.exit(0));
  process.once("SIGINT", shutdown);
  process.once("SIGTERM", shutdown);
  await portal.start();
}

main().catch((err) => {
  process.stderr.write(`portico: ${errorMessage(err)}\n`);
  process.exit(1);
});
