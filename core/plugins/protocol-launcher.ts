import type { DependencyContainer } from "tsyringe";
import { ErrorCodes } from "../errors/error-codes.js";
import { PortalError, errorMessage } from "../errors/portal-error.js";
import type { Logger } from "../logging/logger.js";
import { PLUGIN_CONTEXT, type PortalInfo } from "../tokens.js";
import type { Clock } from "../time/clock.js";
import type { Launcher, LaunchResult } from "./launcher.js";
import { PackageLoader, type PackageOptions } from "./package-loader.js";
import type { PluginContext } from "./plugin-context.js";
import { parsePluginConfig } from "./plugin-config.js";
import type { PluginManifest } from "./plugin-manifest.js";
import { PluginPort, type SessionHost } from "./plugin-port.js";
import type { PluginRegistry } from "./plugin-registry.js";
import type { FactoryClass, ProtocolFactory } from "./protocol-factory.js";
import { settleWithin } from "./settle-within.js";

export interface LauncherOptions extends Partial<PackageOptions> {
  /** Operator settings per plugin path, laid over each launch's raw config (`plugins.settings`). */
  settings?: Readonly<Record<string, Record<string, unknown>>>;
  /** How long a factory's start() may take (PORTAL_ERR_PLUGIN_START_TIMEOUT after it). */
  startTimeoutMs?: number;
  /** How long a factory's stop() may take before it is given up on (PORTAL_ERR_PLUGIN_STOP). */
  stopTimeoutMs?: number;
}

export interface LauncherServices {
  logger: Logger;
  clock: Clock;
  info: PortalInfo;
  /** Where the sessions of launched plugins are handed over (the portal's session handler). */
  sessions: SessionHost;
}

interface Running {
  id: string;
  path: string;
  direction: string;
  factory: ProtocolFactory;
  scope: DependencyContainer;
  port: PluginPort;
}

export interface PluginListing {
  id: string;
  path: string;
  direction: string;
  status: Record<string, unknown>;
}

/** Failed launches kept for status, newest last. */
const FAILURES_KEPT = 20;
/** After stop(), how long sessions that are closing get before they count as leaked. */
const LEAK_GRACE_MS = 500;

/** A factory with its own decorated constructor is built by tsyringe; any other gets the context as its one argument. */
function construct(factory: FactoryClass, scope: DependencyContainer, ctx: PluginContext): ProtocolFactory {
  if (Reflect.getOwnMetadata("design:paramtypes", factory) !== undefined) return scope.resolve(factory as never);
  return new (factory as unknown as new (ctx: PluginContext) => ProtocolFactory)(ctx);
}

/**
 * Starts plugins by dotted path: finds the manifest (registry, then an allowed npm package),
 * validates the config with its schema, resolves a fresh factory in a child container, and awaits
 * start() within a time limit. Every session a plugin opens is bound to that plugin's port, so a
 * plugin that stops without closing them is reported and cleaned up after.
 */
export class ProtocolLauncher implements Launcher {
  private readonly running = new Map<string, Running>();
  private readonly failures: PluginListing[] = [];
  private readonly packages: PackageLoader;
  private counter = 0;

  constructor(
    private readonly root: DependencyContainer,
    private readonly registry: PluginRegistry,
    private readonly services: LauncherServices,
    private readonly options: LauncherOptions = {},
  ) {
    this.packages = new PackageLoader(registry, {
      packages: options.packages ?? [], allowPackages: options.allowPackages ?? [],
      ...(options.resolveFrom !== undefined ? { resolveFrom: options.resolveFrom } : {}),
    });
  }

  /** Loads every package in `plugins.packages`; each failure is logged with its code and the package's name. */
  async loadPackages(): Promise<void> {
    for (const pkg of this.options.packages ?? []) {
      try {
        const paths = await this.packages.load(pkg);
        this.services.logger.info({ package: pkg, paths }, "plugin package loaded");
      } catch (err) {
        const e = err instanceof PortalError ? err : new PortalError(ErrorCodes.PLUGIN_PACKAGE, `plugin package ${pkg}: ${errorMessage(err)}`);
        this.services.logger.error({ code: e.code, package: pkg }, e.message);
      }
    }
  }

  async launch(path: string, rawConfig: Record<string, unknown>): Promise<LaunchResult> {
    const id = `${path}#${++this.counter}`;
    const manifest = this.registry.get(path) ?? (await this.packages.manifestFor(path)) ?? this.notFound(path);
    try {
      const operator = this.options.settings?.[path] ?? {};
      await this.start(id, manifest, parsePluginConfig(path, manifest.config, { ...rawConfig, ...operator }));
      return { id, path };
    } catch (err) {
      const e = err instanceof PortalError ? err : new PortalError(ErrorCodes.PLUGIN_START, `${path} failed to start: ${errorMessage(err)}`, { path }, { cause: err });
      // Kept for status, so an operator sees which plugin is not running and why.
      this.failures.push({ id, path, direction: manifest.direction, status: { state: "failed", error: { code: e.code, message: e.message } } });
      if (this.failures.length > FAILURES_KEPT) this.failures.shift();
      throw e;
    }
  }

  async stop(id: string): Promise<boolean> {
    const r = this.running.get(id);
    if (!r) return false;
    this.running.delete(id);
    await this.safeStop(r.path, r.factory);
    await this.reclaim(r.path, r.port);
    void r.scope.dispose();
    return true;
  }

  /** Stops every running plugin at once, each within the stop time limit. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.running.keys()].reverse().map((id) => this.stop(id)));
  }

  /** Asks every running plugin that supports it to reload (certificates and the like); failures are logged. */
  async reloadAll(): Promise<void> {
    for (const r of this.running.values()) {
      try {
        await r.factory.reload?.();
      } catch (err) {
        this.services.logger.error({ code: ErrorCodes.PLUGIN_RELOAD, plugin: r.path, err }, `reload of ${r.path} failed: ${errorMessage(err)}`);
      }
    }
  }

  /** The factory instance of a running launch (tests and status). */
  factory(id: string): ProtocolFactory | undefined {
    return this.running.get(id)?.factory;
  }

  /** Running plugins, then the most recent failed launches (`status.state` "failed"). */
  list(): PluginListing[] {
    const running = [...this.running.values()].map((r) => ({ id: r.id, path: r.path, direction: r.direction, status: this.statusOf(r) }));
    return [...running, ...this.failures];
  }

  private async start(id: string, manifest: PluginManifest, config: unknown): Promise<void> {
    const { path } = manifest;
    const host = this.services.sessions;
    const logger = this.services.logger.child({ plugin: path });
    const port = new PluginPort(host, manifest.direction, logger);
    const ctx: PluginContext = {
      path, id, direction: manifest.direction, config, logger, clock: this.services.clock, portal: this.services.info,
      openSession: (session) => port.connect(session),
      countPlayers: (all) => host.count_players(all),
      stopSelf: () => this.stop(id).then(() => undefined),
    };
    const scope = this.root.createChildContainer();
    scope.register(PLUGIN_CONTEXT, { useValue: ctx });
    scope.register(path, { useFactory: (c) => construct(manifest.factory, c, ctx) });
    let factory: ProtocolFactory | undefined;
    try {
      factory = scope.resolve<ProtocolFactory>(path);
      const timeoutMs = this.options.startTimeoutMs ?? 10_000;
      const done = await settleWithin(factory.start(), timeoutMs);
      if (!done) throw new PortalError(ErrorCodes.PLUGIN_START_TIMEOUT, `${path} did not start within ${timeoutMs} ms`, { path, timeoutMs });
    } catch (err) {
      await this.safeStop(path, factory);
      await this.reclaim(path, port);
      void scope.dispose();
      throw err;
    }
    this.running.set(id, { id, path, direction: manifest.direction, factory, scope, port });
    logger.info({ id }, "plugin started");
  }

  private statusOf(r: Running): Record<string, unknown> {
    try {
      return r.factory.status?.() ?? { state: "running" };
    } catch (err) {
      return { error: errorMessage(err) };
    }
  }

  private async safeStop(path: string, factory: ProtocolFactory | undefined): Promise<void> {
    if (!factory) return;
    const timeoutMs = this.options.stopTimeoutMs ?? 2000;
    try {
      const done = await settleWithin(Promise.resolve().then(() => factory.stop()), timeoutMs);
      if (!done) throw new Error(`did not stop within ${timeoutMs} ms`);
    } catch (err) {
      this.services.logger.error({ code: ErrorCodes.PLUGIN_STOP, plugin: path, err }, `stopping ${path} failed: ${errorMessage(err)}`);
    }
  }

  /** Sessions the plugin left open after stop(): reported (PORTAL_ERR_PLUGIN_LEAK), closed, and the game told. */
  private async reclaim(path: string, port: PluginPort): Promise<void> {
    const deadline = Date.now() + LEAK_GRACE_MS;
    while (port.openSessions.length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    const n = port.reclaim();
    if (n > 0) this.services.logger.error({ code: ErrorCodes.PLUGIN_LEAK, plugin: path, sessions: n }, `${path} left ${n} session(s) open after stopping; the portal closed them`);
  }

  private notFound(path: string): never {
    throw new PortalError(ErrorCodes.UNKNOWN_PROTOCOL, `ServerConnect: protocol factory '${path}' not found.`, { path });
  }
}
