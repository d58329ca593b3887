import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { DependencyContainer } from "tsyringe";
import { ErrorCodes } from "../errors/error-codes.js";
import { PortalError, errorMessage } from "../errors/portal-error.js";
import type { Logger } from "../logging/logger.js";
import { CLOCK, LOGGER, PLUGIN_CONTROL, PORTAL_INFO, PROTOCOL_CONFIG, SESSION_PORT, type PluginControl, type PortalInfo } from "../tokens.js";
import type { Clock } from "../time/clock.js";
import type { SessionPort } from "../sessions/session-port.js";
import type { Launcher, LaunchResult } from "./launcher.js";
import type { PluginManifest } from "./plugin-manifest.js";
import type { PluginRegistry } from "./plugin-registry.js";
import type { ProtocolFactory } from "./protocol-factory.js";

export interface LauncherOptions {
  /** npm packages (or `@scope/*`) whose exports may be loaded by dotted path. */
  allowPackages: readonly string[];
  /** Where community packages are resolved from (their node_modules); default the working directory. */
  resolveFrom?: string;
  /** How long a factory's stop() may take before it is given up on. */
  stopTimeoutMs?: number;
}

interface Running {
  id: string;
  path: string;
  direction: string;
  factory: ProtocolFactory;
  scope: DependencyContainer;
}

/** Splits `@scope/pkg.Export` / `pkg.Export` into package and export name. */
export function splitPackagePath(path: string): { pkg: string; exportName: string } | undefined {
  const dot = path.lastIndexOf(".");
  if (dot <= 0 || dot === path.length - 1) return undefined;
  return { pkg: path.slice(0, dot), exportName: path.slice(dot + 1) };
}

/** A bare npm package name (`name` or `@scope/name`): no subpaths, no `.`/`..` segments. */
const PACKAGE_NAME = /^(@[a-z0-9][\w.~-]*\/)?[a-z0-9][\w.~-]*$/i;

function allowed(pkg: string, allowList: readonly string[]): boolean {
  if (!PACKAGE_NAME.test(pkg)) return false;
  return allowList.some((entry) => entry === pkg || (entry.endsWith("/*") && pkg.startsWith(entry.slice(0, -1))));
}

/**
 * Starts plugins by dotted path: finds the manifest (bundled registry first, then an allowed npm
 * package), validates the config, resolves a fresh factory in a child container and awaits start().
 */
export class ProtocolLauncher implements Launcher {
  private readonly running = new Map<string, Running>();
  private counter = 0;

  constructor(
    private readonly root: DependencyContainer,
    private readonly registry: PluginRegistry,
    private readonly services: { port: SessionPort; logger: Logger; clock: Clock; info: PortalInfo },
    private readonly options: LauncherOptions,
  ) {}

  async launch(path: string, rawConfig: Record<string, unknown>): Promise<LaunchResult> {
    const manifest = this.registry.get(path) ?? (await this.loadFromPackage(path));
    let config: unknown;
    try {
      config = manifest.parseConfig(rawConfig);
    } catch (err) {
      if (err instanceof PortalError) throw err;
      throw new PortalError(ErrorCodes.PLUGIN_CONFIG, `config for ${path} rejected: ${errorMessage(err)}`, { path });
    }
    const scope = this.root.createChildContainer();
    const id = `${path}#${++this.counter}`;
    const logger = this.services.logger.child({ plugin: path });
    const control: PluginControl = { id, stopSelf: () => this.stop(id).then(() => undefined) };
    scope.register(PLUGIN_CONTROL, { useValue: control });
    scope.register(PROTOCOL_CONFIG, { useValue: config });
    scope.register(SESSION_PORT, { useValue: this.services.port });
    scope.register(LOGGER, { useValue: logger });
    scope.register(CLOCK, { useValue: this.services.clock });
    scope.register(PORTAL_INFO, { useValue: this.services.info });
    scope.register(path, { useClass: manifest.factory as never });
    let factory: ProtocolFactory;
    try {
      factory = scope.resolve<ProtocolFactory>(path);
      await factory.start();
    } catch (err) {
      const e = err instanceof PortalError ? err : new PortalError(ErrorCodes.PLUGIN_START, `${path} failed to start: ${errorMessage(err)}`, { path }, { cause: err });
      await this.safeStop(path, (factory! as ProtocolFactory | undefined));
      void scope.dispose();
      throw e;
    }
    this.running.set(id, { id, path, direction: manifest.direction, factory, scope });
    logger.info({ id }, "plugin started");
    return { id, path };
  }

  async stop(id: string): Promise<boolean> {
    const r = this.running.get(id);
    if (!r) return false;
    this.running.delete(id);
    await this.safeStop(r.path, r.factory);
    void r.scope.dispose();
    return true;
  }

  /** Stops every running plugin, newest first. */
  async stopAll(): Promise<void> {
    for (const id of [...this.running.keys()].reverse()) await this.stop(id);
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

  list(): { id: string; path: string; direction: string; status: Record<string, unknown> }[] {
    return [...this.running.values()].map((r) => ({ id: r.id, path: r.path, direction: r.direction, status: this.statusOf(r) }));
  }

  private statusOf(r: Running): Record<string, unknown> {
    try {
      return r.factory.status?.() ?? {};
    } catch (err) {
      return { error: errorMessage(err) };
    }
  }

  private async safeStop(path: string, factory: ProtocolFactory | undefined): Promise<void> {
    if (!factory) return;
    const timeoutMs = this.options.stopTimeoutMs ?? 5000;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        factory.stop(),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`did not stop within ${timeoutMs} ms`)), timeoutMs))),
      ]);
    } catch (err) {
      this.services.logger.error({ code: ErrorCodes.PLUGIN_STOP, plugin: path, err }, `stopping ${path} failed: ${errorMessage(err)}`);
    } finally {
      clearTimeout(timer);
    }
  }

  private notFound(path: string): PortalError {
    return new PortalError(ErrorCodes.UNKNOWN_PROTOCOL, `ServerConnect: protocol factory '${path}' not found.`, { path });
  }

  private async loadFromPackage(path: string): Promise<PluginManifest> {
    const parts = splitPackagePath(path);
    if (!parts || path.startsWith("plugins.")) throw this.notFound(path);
    if (!allowed(parts.pkg, this.options.allowPackages)) {
      throw new PortalError(ErrorCodes.PLUGIN_NOT_ALLOWED, `ServerConnect: protocol factory '${path}' not found (package ${parts.pkg} is not in plugins.allowPackages).`, { path });
    }
    let mod: Record<string, unknown>;
    try {
      const require = createRequire(join(this.options.resolveFrom ?? process.cwd(), "noop.js"));
      mod = (await import(pathToFileURL(require.resolve(parts.pkg)).href)) as Record<string, unknown>;
    } catch (err) {
      this.services.logger.warn({ code: ErrorCodes.UNKNOWN_PROTOCOL, path, err }, `cannot load package ${parts.pkg}`);
      throw this.notFound(path);
    }
    const exported = mod[parts.exportName];
    if (exported === undefined) throw this.notFound(path);
    const declared = (exported as { path?: unknown } | null)?.path;
    if (declared !== path) {
      throw new PortalError(ErrorCodes.PLUGIN_MANIFEST, `export ${parts.exportName} of ${parts.pkg} declares path ${JSON.stringify(declared)}, not ${path}`, { path });
    }
    const existing = this.registry.get(path);
    return existing ?? this.registry.register(exported, `package ${parts.pkg}`);
  }
}
