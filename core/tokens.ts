/**
 * The injection token of a plugin's `PluginContext`: a factory that does not extend a base class
 * asks for it with `constructor(@inject(PLUGIN_CONTEXT) ctx: PluginContext<MyConfig>)`.
 */
export const PLUGIN_CONTEXT = Symbol.for("portico.PluginContext");

/** Facts about the running portal a plugin may need (MSSP, banners). */
export interface PortalInfo {
  readonly portalId: string;
  readonly serverName: string;
  readonly startTime: number;
  readonly dataDir: string;
  /** Portico's version (e.g. for a User-Agent). */
  readonly version: string;
}
