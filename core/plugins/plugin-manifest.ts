import semver from "semver";
import type { z } from "zod";
import { ErrorCodes } from "../errors/error-codes.js";
import { PortalError } from "../errors/portal-error.js";
import type { FactoryClass } from "./protocol-factory.js";

/**
 * The plugin API this core provides (semver). A manifest declares the range it supports in
 * `pluginApi` (e.g. `"^2.0.0"`); registration refuses a manifest whose range this does not satisfy.
 * 2.0.0: sessions are handed to the portal by the base classes, plugins get a PluginContext,
 * configs are schemas.
 */
export const PLUGIN_API_VERSION = "2.0.0";

export type PluginDirection = "inbound" | "outbound";

export interface PluginManifest<S extends z.ZodType = z.ZodType> {
  /**
   * Dotted path the config and the game name the plugin by. Bundled plugins use
   * `plugins.<folder>.<Factory>`; an npm package's paths start with its name:
   * `portico-plugin-chat.ChatFactory`, `@acme/portico-chat.ChatFactory`.
   */
  readonly path: string;
  /** `inbound`: a listener players connect to; `outbound`: a bot that dials out (never throttled). */
  readonly direction: PluginDirection;
  /** The semver range of PLUGIN_API_VERSION this plugin works with, e.g. `"^2.0.0"`. */
  readonly pluginApi: string;
  /** The factory class; resolved afresh for every launch (see docs/plugin-contract.md). */
  readonly factory: FactoryClass;
  /** The config schema (zod, from `portico`'s `z`): validates, fills defaults, and gives editors completion. */
  readonly config: S;
  /** One line for status output and the config schema. */
  readonly description?: string;
}

const PATH = /^(@[a-z0-9][\w.-]*\/)?[A-Za-z_$][\w$-]*(\.[A-Za-z_$][\w$-]*)+$/;

/** Declares a plugin; the manifest is checked again when it is registered. */
export function definePlugin<S extends z.ZodType>(manifest: PluginManifest<S>): PluginManifest<S> {
  return Object.freeze({ ...manifest });
}

/** Something shaped like a manifest (a package's exports are searched for these). */
export function looksLikeManifest(value: unknown): boolean {
  const m = value as { path?: unknown; factory?: unknown } | null;
  return typeof m === "object" && m !== null && typeof m.path === "string" && typeof m.factory === "function";
}

/** Throws PORTAL_ERR_PLUGIN_MANIFEST / PORTAL_ERR_PLUGIN_API_MISMATCH for a manifest core cannot use. */
export function checkManifest(candidate: unknown, where: string): PluginManifest {
  const m = candidate as Partial<PluginManifest> & { portalApi?: unknown } | null;
  const bad = (field: string, why: string): never => {
    throw new PortalError(ErrorCodes.PLUGIN_MANIFEST, `plugin manifest from ${where}: ${field} ${why}`, { field, where });
  };
  if (typeof m !== "object" || m === null) return bad("manifest", "is not an object");
  if (typeof m.path !== "string" || !PATH.test(m.path)) bad("path", `must be a dotted path like plugins.irc.IrcBotFactory, got ${JSON.stringify(m.path)}`);
  if (m.direction !== "inbound" && m.direction !== "outbound") bad("direction", `must be "inbound" or "outbound", got ${JSON.stringify(m.direction)}`);
  if (typeof m.factory !== "function") bad("factory", "must be a class");
  const schema = m.config as { safeParse?: unknown } | undefined;
  if (typeof schema !== "object" || schema === null || typeof schema.safeParse !== "function") bad("config", "must be a zod schema (z.object({...}) from portico)");
  if (m.pluginApi === undefined && m.portalApi !== undefined) {
    throw new PortalError(
      ErrorCodes.PLUGIN_API_MISMATCH,
      `plugin ${m.path} declares portalApi ${JSON.stringify(m.portalApi)} (plugin API 1); this portal provides plugin API ${PLUGIN_API_VERSION}: update the plugin`,
      { path: m.path, portalApi: m.portalApi, provided: PLUGIN_API_VERSION },
    );
  }
  if (typeof m.pluginApi !== "string" || semver.validRange(m.pluginApi) === null) {
    bad("pluginApi", `must be a semver range such as "^2.0.0", got ${JSON.stringify(m.pluginApi)}`);
  }
  if (!semver.satisfies(PLUGIN_API_VERSION, m.pluginApi!)) {
    throw new PortalError(
      ErrorCodes.PLUGIN_API_MISMATCH,
      `plugin ${m.path} supports plugin API ${m.pluginApi}; this portal provides ${PLUGIN_API_VERSION}`,
      { path: m.path, pluginApi: m.pluginApi, provided: PLUGIN_API_VERSION },
    );
  }
  return m as PluginManifest;
}
