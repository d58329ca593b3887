/** Injection tokens a plugin factory may ask for with `@inject(TOKEN)`. */
export const PROTOCOL_CONFIG = Symbol.for("portico.ProtocolConfig");
export const SESSION_PORT = Symbol.for("portico.SessionPort");
export const LOGGER = Symbol.for("portico.Logger");
export const CLOCK = Symbol.for("portico.Clock");
export const PORTAL_INFO = Symbol.for("portico.PortalInfo");

/** Facts about the running portal a plugin may need (MSSP, banners). */
export interface PortalInfo {
  readonly portalId: string;
  readonly serverName: string;
  readonly startTime: number;
  readonly dataDir: string;
}
