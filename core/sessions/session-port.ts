import type { CommandTuple } from "../messages/command-tuple.js";
import type { PortalSession } from "./portal-session.js";

/**
 * What a session reaches of the portal (core-internal: plugins never hold it; a session calls it
 * through its own protected methods). The portal binds each session to a port owned by the plugin
 * that opened it, so the plugin's sessions are known and it cannot reach any other.
 */
export interface SessionPort {
  /** A new connection is ready: throttle it, give it an id, announce it to the game. */
  connect(session: PortalSession): void;
  /** Negotiation finished or the window changed: resend the portal-owned fields. */
  sync(session: PortalSession): void;
  /** Input from the client. */
  data_in(session: PortalSession, commands: CommandTuple[]): void;
  /** The connection is gone (closed by either side). Idempotent. */
  disconnect(session: PortalSession): void;
}
