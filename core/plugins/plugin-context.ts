import type { Logger } from "../logging/logger.js";
import type { PortalSession } from "../sessions/portal-session.js";
import type { Clock } from "../time/clock.js";
import type { PortalInfo } from "../tokens.js";
import type { PluginDirection } from "./plugin-manifest.js";

/**
 * Everything a running plugin gets from the portal: its validated config, a logger, the clock,
 * facts about the portal, and the one way to hand a session to the portal. Base classes
 * (`SocketListener`, `InboundListener`, `OutboundBot`) take it in their constructor; a factory
 * written from scratch asks for it with `@inject(PLUGIN_CONTEXT)`.
 */
export interface PluginContext<C = unknown> {
  /** The dotted path this plugin was launched by, e.g. `plugins.telnet.TelnetFactory`. */
  readonly path: string;
  /** This launch's id, as listed in status (`<path>#<n>`). */
  readonly id: string;
  readonly direction: PluginDirection;
  /** The config, validated by the manifest's schema, defaults filled in. */
  readonly config: C;
  /** A logger bound to this plugin (`plugin: <path>`). */
  readonly logger: Logger;
  /** Use it for every timer, so tests can drive time with a fake clock. */
  readonly clock: Clock;
  readonly portal: PortalInfo;
  /**
   * Hands a new session to the portal: it gets an id and is announced to the game. Inbound
   * sessions wait their turn in the connection throttle; outbound (bot) sessions never do.
   * The base classes call this; it is the only way a session reaches the portal.
   */
  openSession(session: PortalSession): void;
  /** How many players on the whole portal are logged in (or connected, when asked); bots are not counted. MSSP's PLAYERS. */
  countPlayers(includeNotLoggedIn?: boolean): number;
  /** Stops this plugin instance and removes it from the running list (a bot the game deleted). */
  stopSelf(): Promise<void>;
}
