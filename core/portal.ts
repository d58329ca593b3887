import { container as rootContainer, type DependencyContainer } from "tsyringe";
import { resolvePortalConfig, type ResolvedPortalConfig } from "./config/portal-config.js";
import { ErrorCodes } from "./errors/error-codes.js";
import { PortalError, errorMessage } from "./errors/portal-error.js";
import { LinkDispatcher, type PortalControl } from "./link/link-dispatcher.js";
import type { ClusterPortal, StopMode } from "./link/link-messages.js";
import { LinkServer, type LinkServerEvents } from "./link/link-server.js";
import { NatsGameChannel } from "./link/nats/nats-game-channel.js";
import { natsCredentials, type NatsCredentials } from "./config/nats-credentials.js";
import { hostname } from "node:os";
import { JsonLineLogger, type Logger } from "./logging/logger.js";
import { PluginRegistry } from "./plugins/plugin-registry.js";
import { ProtocolLauncher } from "./plugins/protocol-launcher.js";
import { PortalSessionHandler } from "./sessions/portal-session-handler.js";
import { SessidAllocator } from "./sessions/sessid-allocator.js";
import { DataDir } from "./state/data-dir.js";
import { systemClock, type Clock } from "./time/clock.js";
import type { PortalInfo } from "./tokens.js";
import { PORTICO_VERSION } from "./version.js";

export interface PortalOptions {
  /** Raw config (validated here); defaults fill every missing key. */
  config?: unknown;
  logger?: Logger;
  clock?: Clock;
  /** Plugin manifests to register (bundled ones come from plugins/index.ts). */
  plugins?: readonly unknown[];
  /** Parent container; a child of it is used so tests never share registrations. */
  container?: DependencyContainer;
  /** Called when the game asks to be restarted or stopped (the process supervisor's hook). */
  onGameStopRequested?: (mode: StopMode) => void;
  /** Called when the game asks the whole portal to shut down. */
  onShutdownRequested?: () => void;
  /** Called after a game connected and was handed the sessions; `pid` is what its hello said. */
  onGameConnected?: (game: { pid: unknown }) => void;
  /** Called when the connected game's link is gone; `code` says why when it was not a clean close (e.g. PORTAL_ERR_LINK_TIMEOUT for a hung game). */
  onGameLinkLost?: (code: string | undefined) => void;
  /** Link secret to use instead of <dataDir>/link.secret (PORTICO_LINK_SECRET). */
  linkSecret?: string;
  /** Where plugin packages are resolved from (their node_modules); default the working directory. */
  resolvePluginsFrom?: string;
  /** NATS credentials (link.transport "nats"); default from link.nats and PORTICO_NATS_* (see natsCredentials). */
  natsCredentials?: NatsCredentials;
}

/**
 * The composition root: data directory, link, session handler, plugin registry and launcher.
 * start() opens the link first, then the configured listeners; stop() undoes it in reverse.
 */
export class Portal {
  readonly config: ResolvedPortalConfig;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly registry = new PluginRegistry();
  readonly startTime: number;
  private readonly dataDir: DataDir;
  private readonly scope: DependencyContainer;
  private link: LinkServer | NatsGameChannel | undefined;
  private launcherImpl: ProtocolLauncher | undefined;
  private handlerImpl: PortalSessionHandler | undefined;
  private run = 0;
  /** How many times the game's link was lost, by error code ("clean" for a plain close); /metrics reports it. */
  readonly linkDrops = new Map<string, number>();
  private secret = "";
  /** `cluster` requests waiting for the game's answer. */
  private readonly clusterWaits = new Map<number, (portals: ClusterPortal[] | null) => void>();
  private clusterIds = 0;
  private state: "new" | "starting" | "running" | "stopping" | "stopped" = "new";

  constructor(private readonly options: PortalOptions = {}) {
    const config = resolvePortalConfig(options.config ?? {});
    this.dataDir = new DataDir(config.dataDir);
    // Over NATS, portals serving one game need different ids: without one in the config, this portal's own, kept in its data directory.
    let portalId = config.portalId ?? "portal";
    if (config.portalId === undefined && config.link.transport === "nats") {
      this.dataDir.ensure();
      portalId = this.dataDir.portalId(hostname());
    }
    this.config = { ...config, portalId };
    this.logger = options.logger ?? new JsonLineLogger(this.config.logLevel, { portal: this.config.portalId });
    this.clock = options.clock ?? systemClock;
    this.startTime = this.clock.now();
    this.scope = (options.container ?? rootContainer).createChildContainer();
    for (const manifest of options.plugins ?? []) this.registry.register(manifest, "portal options");
  }

  get handler(): PortalSessionHandler {
    if (!this.handlerImpl) throw new PortalError(ErrorCodes.PORTAL_STATE, "portal not started");
    return this.handlerImpl;
  }

  get launcher(): ProtocolLauncher {
    if (!this.launcherImpl) throw new PortalError(ErrorCodes.PORTAL_STATE, "portal not started");
    return this.launcherImpl;
  }

  /** The bound link address (port 0 in config means a free port); undefined over NATS. */
  get linkAddress(): { host: string; port: number } | undefined {
    return this.link instanceof LinkServer ? this.link.address : undefined;
  }

  /** Where the game finds this portal: the TCP link's address, or the NATS servers and subject prefix. */
  get linkInfo(): Record<string, unknown> | undefined {
    return this.link instanceof LinkServer ? { transport: "tcp", ...this.link.address } : this.link?.address;
  }

  /** True while a game is connected to the link (what /readyz and `portico_link_up` report). */
  get gameConnected(): boolean {
    return this.link?.connected ?? false;
  }

  get portalRun(): number {
    return this.run;
  }

  /** The link secret in use (the admin endpoint authenticates with it too). */
  get linkSecret(): string {
    return this.secret;
  }

  /** Asks the connected game to stop (`server-stop`); the next sync reports the mode. False when no game is connected. */
  requestGameStop(mode: StopMode): boolean {
    if (!this.link?.connected) return false;
    this.handler.runState.requestStop(mode);
    this.link.send({ op: "server-stop", mode });
    return true;
  }

  /**
   * The portals the linked game sees, with their session counts (`portico status --cluster`); null
   * when no game is linked or it did not answer within `timeoutMs`.
   */
  clusterStatus(timeoutMs = 3000): Promise<ClusterPortal[] | null> {
    if (!this.link?.connected) return Promise.resolve(null);
    const id = ++this.clusterIds;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.clusterWaits.delete(id);
        resolve(null);
      }, timeoutMs);
      // Answered, or (null) given up at stop().
      this.clusterWaits.set(id, (portals) => {
        clearTimeout(timer);
        resolve(portals);
      });
      this.link!.send({ op: "cluster", id });
    });
  }

  async start(): Promise<void> {
    if (this.state !== "new") throw new PortalError(ErrorCodes.PORTAL_STATE, `portal cannot start from state ${this.state}`);
    this.state = "starting";
    this.dataDir.ensure();
    this.run = this.dataDir.nextRun();
    const secret = this.options.linkSecret ?? this.dataDir.linkSecret();
    this.secret = secret;
    const info: PortalInfo = { portalId: this.config.portalId, serverName: this.config.serverName, startTime: this.startTime, dataDir: this.config.dataDir, version: PORTICO_VERSION };

    const linkLogger = this.logger.child({ part: "link" });
    let handlerConfig = this.config;
    let link: LinkServer | NatsGameChannel;
    if (this.config.link.transport === "nats") {
      const nats = new NatsGameChannel({
        link: this.config.link, credentials: this.options.natsCredentials ?? natsCredentials(this.config.link.nats),
        portalId: this.config.portalId, portalRun: this.run, logger: linkLogger, clock: this.clock,
      });
      this.link = nats;
      // NATS may carry less than link.maxFrameBytes (its max_payload): the game is told the smaller limit.
      let maxFrameBytes: number;
      try {
        maxFrameBytes = await nats.connect();
      } catch (err) {
        await this.stop();
        throw err;
      }
      handlerConfig = { ...this.config, link: { ...this.config.link, maxFrameBytes } };
      link = nats;
    } else {
      link = new LinkServer(this.config.link, secret, linkLogger);
      this.link = link;
    }
    const handler = new PortalSessionHandler({
      config: handlerConfig, clock: this.clock, logger: this.logger.child({ part: "sessions" }),
      allocator: new SessidAllocator(this.config.portalId, this.run), channel: link,
    });
    const launcher = new ProtocolLauncher(this.scope, this.registry, { logger: this.logger, clock: this.clock, info, sessions: handler }, {
      ...this.config.plugins, ...(this.options.resolvePluginsFrom !== undefined ? { resolveFrom: this.options.resolvePluginsFrom } : {}),
    });
    this.launcherImpl = launcher;
    this.handlerImpl = handler;
    const dispatcher = new LinkDispatcher(handler, launcher, link, this.control(), this.logger.child({ part: "dispatch" }));
    const events: LinkServerEvents = {
      gameConnected: (hello) => {
        handler.onGameConnected(this.run, this.startTime / 1000);
        this.options.onGameConnected?.({ pid: hello.pid });
      },
      gameMessage: (msg) => dispatcher.handle(msg),
      gameDisconnected: (err) => {
        handler.onGameDisconnected();
        const code = err?.code ?? "clean";
        this.linkDrops.set(code, (this.linkDrops.get(code) ?? 0) + 1);
        this.options.onGameLinkLost?.(err?.code);
      },
    };

    try {
      await link.start(events);
      this.logger.info({ ...this.linkInfo, run: this.run, portalId: this.config.portalId }, "link listening");
      await launcher.loadPackages();
      for (const listener of this.config.listeners) await this.launchListener(listener.plugin, listener.config);
    } catch (err) {
      await this.stop();
      throw err;
    }
    this.state = "running";
  }

  /** Tells the game and every player, closes listeners, sessions and the link. Idempotent. */
  async stop(reason = "The portal is shutting down."): Promise<void> {
    if (this.state === "stopping" || this.state === "stopped") return;
    this.state = "stopping";
    for (const answer of this.clusterWaits.values()) answer(null);
    this.clusterWaits.clear();
    try {
      this.handlerImpl?.disconnect_all(reason);
      await this.launcherImpl?.stopAll();
      this.handlerImpl?.stop();
      await this.link?.stop();
    } catch (err) {
      this.logger.error({ code: ErrorCodes.PLUGIN_STOP, err }, `portal stop: ${errorMessage(err)}`);
    }
    this.state = "stopped";
  }

  /** A listener that fails to start is reported by name and code; the portal runs on without it. */
  private async launchListener(path: string, config: Record<string, unknown>): Promise<void> {
    try {
      await this.launcher.launch(path, config);
    } catch (err) {
      const code = err instanceof PortalError ? err.code : ErrorCodes.PLUGIN_START;
      this.logger.error({ code, plugin: path }, `listener ${path} did not start: ${errorMessage(err)}`);
    }
  }

  status(): Record<string, unknown> {
    const sessions = this.handlerImpl?.all() ?? [];
    const byProtocol: Record<string, number> = {};
    const byVariant: Record<string, number> = {};
    for (const s of sessions) {
      byProtocol[s.protocol_key] = (byProtocol[s.protocol_key] ?? 0) + 1;
      if (s.variant) byVariant[`${s.protocol_key} ${s.variant}`] = (byVariant[`${s.protocol_key} ${s.variant}`] ?? 0) + 1;
    }
    return {
      portal_id: this.config.portalId,
      portal_run: this.run,
      pid: process.pid,
      uptime_s: Math.round((this.clock.now() - this.startTime) / 1000),
      link: { connected: this.gameConnected, address: this.link?.address, restart_mode: this.handlerImpl?.restartMode },
      sessions: { total: sessions.length, logged_in: this.handlerImpl?.count_loggedin() ?? 0, by_protocol: byProtocol, by_variant: byVariant },
      queued_connections: this.handlerImpl?.queuedConnections ?? 0,
      pending_inputs: this.handlerImpl?.pendingInputs ?? 0,
      pending_input_bytes: this.handlerImpl?.pendingInputBytes ?? 0,
      plugins: this.launcherImpl?.list() ?? [],
    };
  }

  private control(): PortalControl {
    return {
      gameStopRequested: (mode) => {
        this.logger.info({ mode }, "game asked to stop");
        this.options.onGameStopRequested?.(mode);
      },
      portalShutdownRequested: () => {
        this.logger.info({}, "game asked the portal to shut down");
        if (this.options.onShutdownRequested) this.options.onShutdownRequested();
        else void this.stop();
      },
      status: () => this.status(),
      clusterReply: (id, portals) => {
        const wait = this.clusterWaits.get(id);
        this.clusterWaits.delete(id);
        wait?.(portals);
      },
    };
  }
}
