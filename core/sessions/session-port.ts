import type { CommandTuple } from "../messages/command-tuple.js";
import type { PortalSession } from "./portal-session.js";

/** The narrow surface a session sees of the PortalSessionHandler. */
export interface SessionPort {
  /** A new connection is ready: throttle it, give it an id, announce it to the game. */
  connect(session: PortalSession): void;
  /** Negotiation finished or the window changed: resend the portal-owned fields. */
  sync(session: PortalSession): void;
  /** Input from the client. */
  data_in(session: PortalSession, commands: CommandTuple[]): void;
  /** The connection is gone (closed by either side). Idempotent. */
  disconnect(session: PortalSession): void;
  /** How many sessions are logged in (or all, when asked); MSSP's PLAYERS. */
  count_loggedin(includeUnloggedIn?: boolean): number;
}
