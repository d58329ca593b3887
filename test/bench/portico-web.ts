import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { NodeChild } from "./children.js";
import { makeTempDir, removeTempDir } from "./temp-dirs.js";

/**
 * A real `portico start` in a child process: the websocket listener on a free port, the echo game
 * (supervised, a grandchild), no throttles; for load from this (another) process.
 */
export class PorticoWeb {
  private readonly dir = makeTempDir("portico-bench-web-");
  private child: NodeChild | undefined;
  url = "";

  constructor(private readonly bin: string, private readonly gameScript: string) {}

  get failed(): Promise<never> {
    return this.child!.failed;
  }

  async start(): Promise<void> {
    const config = join(this.dir, "portico.config.json");
    writeFileSync(config, JSON.stringify({
      dataDir: join(this.dir, "data"),
      logLevel: "info",
      limits: { maxCommandRate: 0, maxConnectionRate: 0 },
      link: { port: 0 },
      admin: { enabled: false },
      game: { entry: this.gameScript },
      listeners: [{ plugin: "plugins.websocket.WebsocketFactory", config: { host: "127.0.0.1", port: 0, maxFramesPerSecond: 100000 } }],
    }));
    // The listener's port is read from the "portico is running" log line.
    this.child = new NodeChild("portico start", this.bin, { PORTICO_CONFIG: config }, ["start"]);
    const [, port] = await this.child.waitFor(/"plugin":"plugins\.websocket\.WebsocketFactory","port":(\d+)/, 20_000);
    await this.child.waitFor(/"msg":"game connected to the link"/, 20_000);
    this.url = `ws://127.0.0.1:${port}/ws`;
  }

  /** CPU of the portal process (the echo game is a separate process, not counted). */
  cpuMs(): number | undefined {
    return this.child?.cpuMs();
  }

  async close(): Promise<void> {
    try {
      await this.child?.kill(6000);
    } finally {
      removeTempDir(this.dir);
    }
  }
}
