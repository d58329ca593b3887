import type { Server } from "node:net";
import { ErrorCodes } from "../errors/error-codes.js";
import { PortalError } from "../errors/portal-error.js";

export interface ListenAddress {
  host: string;
  port: number;
  /** Pending-connection queue length; Node's default when omitted. */
  backlog?: number;
}

/**
 * Starts `server` (net, tls or http) listening on `address`. Rejects with PORTAL_ERR_LISTEN_FAILED
 * (`<what> cannot listen on <host>:<port>: ...`, details `{ port }`) when it cannot bind; once it
 * listens, later server errors go to `onError`.
 */
export function listenOrFail(server: Server, address: ListenAddress, what: string, onError: (err: Error) => void): Promise<void> {
  const { host, port, backlog } = address;
  return new Promise<void>((resolve, reject) => {
    const onListenError = (err: Error) =>
      reject(new PortalError(ErrorCodes.LISTEN_FAILED, `${what} cannot listen on ${host}:${port}: ${err.message}`, { port }));
    server.once("error", onListenError);
    server.listen(backlog === undefined ? { host, port } : { host, port, backlog }, () => {
      server.off("error", onListenError);
      server.on("error", onError);
      resolve();
    });
  });
}
