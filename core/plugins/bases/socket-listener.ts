import { createServer as createNetServer, type Server, type Socket } from "node:net";
import { createServer as createTlsServer, type SecureContextOptions } from "node:tls";
import { ErrorCodes } from "../../errors/error-codes.js";
import { errorMessage } from "../../errors/portal-error.js";
import type { PortalSession } from "../../sessions/portal-session.js";
import { InboundListener, type ListenConfig } from "./inbound-listener.js";

/**
 * An inbound listener with one session per TCP (or TLS) connection. A subclass writes only
 * `createSession(socket)`; listening, TLS, reload, socket tracking, stop and handing the session
 * to the portal are done here.
 */
export abstract class SocketListener<C extends ListenConfig = ListenConfig> extends InboundListener<C> {
  /** Wraps one accepted connection in the plugin's session. */
  protected abstract createSession(socket: Socket): PortalSession;

  protected createServer(secure: SecureContextOptions | null): Server {
    const accept = (socket: Socket) => this.accept(socket);
    return secure ? createTlsServer(secure, accept) : createNetServer(accept);
  }

  private accept(socket: Socket): void {
    try {
      this.open(this.createSession(socket));
    } catch (err) {
      this.logger.error({ code: ErrorCodes.SESSION_CALLBACK, err }, `session setup failed: ${errorMessage(err)}`);
      socket.destroy();
    }
  }
}
