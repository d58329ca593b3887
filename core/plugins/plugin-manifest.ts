import { ErrorCodes } from "../errors/error-codes.js";
import { PortalError } from "../errors/portal-error.js";
import type { FactoryClass } from "./protocol-factory.js";

/** The plugin API this core provides. A plugin built for another major version is refused. */
export const PORTAL_API_VERSION = 1;

export type PluginDirection = "inbound" | "outbound";

export interface PluginManifest<C = unknown> {
  /** Dotted path the game and the config name the factory by, e.g. `plugins.irc.IrcBotFactory`. */
  readonly path: string;
  readonly direction: PluginDirection;
  /** The PORTAL_API_VERSION the plugin was written for. */
  readonly portalApi: number;
  /** An `@injectable()` class; resolved afresh (transient) for every launch. */
  readonly factory: FactoryClass;
  /** Validates raw config and fills defaults; throw PortalError(PORTAL_ERR_PLUGIN_CONFIG) naming the field. */
  readonly parseConfig: (raw: Record<string, unknown>) => C;
  /** One line for status output and docs. */
  readonly description?: string;
}

const PATH = /^(@[a-z0-9][\w.-]*\/)?[A-Za-z_$][\w$-]*(\.[A-Za-z_$][\w$-]*)+$/;

/** Declares a plugin; the manifest is checked again when it is registered. */
export function definePlugin<C>(manifest: PluginManifest<C>): PluginManifest<C> {
  return Object.freeze({ ...manifest });
}

/** Throws PORTAL_ERR_PLUGIN_MANIFEST / PORTAL_ERR_PLUGIN_API_MISMATCH for a manifest core cannot use. */
export function checkManifest(candidate: unknown, where: string): PluginManifest {
  const m = candidate as Partial<PluginManifest> | null;
  const bad = (field: string, why: string): never => {
    throw new PortalError(ErrorCodes.PLUGIN_MANIFEST, `plugin manifest from ${where}: ${field} ${why}`, { field, where });
  };
  if (typeof m !== "object" || m === null) return bad("manifest", "is not an object");
  if (typeof m.path !== "string" || !PATH.test(m.path)) bad("path", `must be a dotted path like plugins.irc.IrcBotFactory, got ${JSON.stringify(m.path)}`);
  if (m.direction !== "inbound" && m.direction !== "outbound") bad("direction", `must be "inbound" or "outbound", got ${JSON.stringify(m.direction)}`);
  if (typeof m.portalApi !== "number") bad("portalApi", "must be a number");
  if (typeof m.factory !== "function") bad("factory", "must be a class");
  if (typeof m.parseConfig !== "function") bad("parseConfig", "must be a function");
  if (m.portalApi !== PORTAL_API_VERSION) {
    throw new PortalError(
      ErrorCodes.PLUGIN_API_MISMATCH,
      `plugin ${m.path} was written for portal API ${m.portalApi}; this portal provides API ${PORTAL_API_VERSION}`,
      { path: m.path, portalApi: m.portalApi },
    );
  }
  return m as PluginManifest;
}
