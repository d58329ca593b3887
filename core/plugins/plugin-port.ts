import { ErrorCodes } from "../errors/error-codes.js";
import { errorMessage } from "../errors/portal-error.js";
import type { Logger } from "../logging/logger.js";
import type { CommandTuple } from "../messages/command-tuple.js";
import { CORE, sessionLogger, type PortalSession } from "../sessions/portal-session.js";
import type { SessionPort } from "../sessions/session-port.js";
import type { PluginDirection } from "./plugin-manifest.js";

/** What the session handler offers plugin ports. */
export interface SessionHost extends SessionPort {
  /** Registers a bot's session at once (no connection throttle). */
  connectBot(session: PortalSession): void;
  count_loggedin(includeUnloggedIn?: boolean): number;
  /** Like count_loggedin, without bots. */
  count_players(includeUnloggedIn?: boolean): number;
  /** Forgets a session whose plugin stopped without closing it; the game is told. */
  evict(session: PortalSession): void;
}

/**
 * The port every session of one plugin instance is bound to: it hands sessions to the handler the
 * same way for every plugin (inbound through the throttle, outbound at once), and knows which
 * sessions the plugin still has open, so a plugin that stops without closing them is caught.
 */
export class PluginPort implements SessionPort {
  private readonly open = new Set<PortalSession>();

  constructor(
    private readonly host: SessionHost,
    private readonly direction: PluginDirection,
    private readonly logger: Logger,
  ) {}

  /** Sessions handed to the portal and not yet closed. */
  get openSessions(): readonly PortalSession[] {
    return [...this.open];
  }

  connect(session: PortalSession): void {
    const core = session[CORE];
    if (core.state !== "new") {
      this.logger.warn({ code: ErrorCodes.SESSION_CALLBACK, state: core.state }, "a session was handed to the portal twice; ignored");
      return;
    }
    core.port = this;
    core.logger = this.logger; // the handler binds it to the session id it assigns
    this.open.add(session);
    if (this.direction === "outbound") this.host.connectBot(session);
    else this.host.connect(session);
    try {
      session.onOpen();
    } catch (err) {
      (sessionLogger(session) ?? this.logger).error({ code: ErrorCodes.SESSION_CALLBACK, err }, `onOpen failed; closing the session: ${errorMessage(err)}`);
      session.close();
    }
  }

  sync(session: PortalSession): void {
    this.host.sync(session);
  }

  data_in(session: PortalSession, commands: CommandTuple[]): void {
    this.host.data_in(session, commands);
  }

  disconnect(session: PortalSession): void {
    this.open.delete(session);
    this.host.disconnect(session);
  }

  /** Ends what the plugin left open: the sessions are closed and forgotten, the game told. Returns how many. */
  reclaim(): number {
    const left = [...this.open];
    for (const session of left) {
      this.open.delete(session);
      try {
        session.close();
      } catch {
        // The plugin is gone; its session is forgotten either way.
      }
      session[CORE].state = "closed";
      this.host.evict(session);
    }
    return left.length;
  }
}
