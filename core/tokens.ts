/** Injection tokens a plugin factory may ask for with `@inject(TOKEN)`. */
export const PROTOCOL_CONFIG = Symbol.for("portico.ProtocolConfig");
export const SESSION_PORT = Symbol.for("portico.SessionPort");
export const LOGGER = Symbol.for("portico.Logger");
export const CLOCK = Symbol.for("portico.Clock");
export const PORTAL_INFO = Symbol.for("portico.PortalInfo");
export const PLUGIN_CONTROL = Symbol.for("portico.PluginControl");

/** Given to each launched plugin: lets an outbound plugin end itself (its bot was deleted). */
export interface PluginControl {
  /** This launch's id, as listed in status. */
  readonly id: string;
  /** Stops this plugin instance and removes it from the running list. */
  stopSelf(): Promise<void>;
}

/** Facts about the running portal a plugin may need (MSSP, banners). */
export interface PortalInfo {
  readonly portalId: string;
  readonly serverName: string;
  readonly startTime: number;
  readonly dataDir: string;
}
