import { container } from "tsyringe";
import { DEFAULT_CONFIG, type LimitsConfig } from "../config/portal-config.js";
import type { PluginManifest } from "../plugins/plugin-manifest.js";
import { PluginRegistry } from "../plugins/plugin-registry.js";
import { ProtocolLauncher, type LauncherOptions } from "../plugins/protocol-launcher.js";
import type { ProtocolFactory } from "../plugins/protocol-factory.js";
import { PortalSessionHandler } from "../sessions/portal-session-handler.js";
import type { PortalSession } from "../sessions/portal-session.js";
import { SessidAllocator } from "../sessions/sessid-allocator.js";
import type { Clock } from "../time/clock.js";
import { FakeGame } from "./fake-game.js";
import { MemoryLogger, type LogEntry } from "./memory-logger.js";
import { TrackingClock } from "./tracking-clock.js";
import { PORTICO_VERSION } from "../version.js";

export interface TestBedOptions {
  /** Manifests to register (more can be registered later through `registry`). */
  plugins?: readonly unknown[];
  /** Handler limits; the connection throttle is off unless set here. */
  limits?: Partial<LimitsConfig>;
  /** Default: a TrackingClock over the system clock (`pendingTimers` shows timers a plugin left behind). */
  clock?: Clock;
  /** Package loading and start/stop time limits, as in the portal config's `plugins` section. */
  launcher?: LauncherOptions;
  /** The portal's data directory as plugins see it (PluginContext.portal.dataDir); default "" (none). */
  dataDir?: string;
}

/** A plugin started in a test bed. */
export interface LaunchedPlugin {
  id: string;
  path: string;
  factory: ProtocolFactory;
  status(): Record<string, unknown>;
  /** `status().port`: where an inbound plugin listens. */
  readonly port: number;
  stop(): Promise<void>;
}

/**
 * A portal without a process, a link or a game: the real session handler and plugin launcher,
 * with a scripted `FakeGame` on an in-memory link, a memory logger and (by default) a tracking
 * clock. Start plugins with `listen()` (inbound, on 127.0.0.1 port 0) or `launch()`; drive
 * them with real sockets; assert on `game`; `stop()` at the end.
 */
export class PluginTestBed {
  readonly registry = new PluginRegistry();
  readonly game = new FakeGame();
  readonly logger = new MemoryLogger();
  readonly clock: Clock;
  readonly handler: PortalSessionHandler;
  readonly launcher: ProtocolLauncher;

  constructor(options: TestBedOptions = {}) {
    for (const m of options.plugins ?? []) this.registry.register(m, "test bed");
    this.clock = options.clock ?? new TrackingClock();
    const config = structuredClone(DEFAULT_CONFIG);
    Object.assign(config.limits, { maxConnectionRate: 0 }, options.limits ?? {});
    const info = { portalId: "testbed", serverName: "Portico test bed", startTime: this.clock.now(), dataDir: options.dataDir ?? "", version: PORTICO_VERSION };
    this.handler = new PortalSessionHandler({
      config, clock: this.clock, logger: this.logger.child({ part: "sessions" }),
      allocator: new SessidAllocator("testbed", 1), channel: this.game,
    });
    this.launcher = new ProtocolLauncher(container.createChildContainer(), this.registry, { logger: this.logger, clock: this.clock, info, sessions: this.handler }, options.launcher ?? {});
    this.game.attach(this.handler);
  }

  /** Starts the plugin at `path` with `config`; rejects as the portal would (coded errors). */
  async launch(path: string, config: Record<string, unknown> = {}): Promise<LaunchedPlugin> {
    const { id } = await this.launcher.launch(path, config);
    const factory = this.launcher.factory(id)!;
    const status = () => this.launcher.list().find((p) => p.id === id)?.status ?? { state: "stopped" };
    return {
      id, path, factory, status,
      get port() {
        return Number(status().port);
      },
      stop: async () => {
        await this.launcher.stop(id);
      },
    };
  }

  /** Registers `manifest` (once) and starts it listening on 127.0.0.1, port 0. */
  async listen(manifest: PluginManifest, config: Record<string, unknown> = {}): Promise<LaunchedPlugin> {
    if (this.registry.get(manifest.path) !== manifest) this.registry.register(manifest, "test bed");
    return this.launch(manifest.path, { host: "127.0.0.1", port: 0, ...config });
  }

  /** The portal's session object for `sessid`. */
  session(sessid: string): PortalSession | undefined {
    return this.handler.get(sessid);
  }

  /** Log entries at level error (a plugin test usually expects none). */
  get errors(): LogEntry[] {
    return this.logger.entries.filter((e) => e.level === "error");
  }

  /** Stops every plugin (each within its time limit) and the handler's timers. */
  async stop(): Promise<void> {
    this.handler.disconnect_all("The test is over.");
    await this.launcher.stopAll();
    this.handler.stop();
  }
}
