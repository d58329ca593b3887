import type { Socket } from "node:net";
import { SocketListener } from "portico";
import type { LineConfig } from "./config.js";
import { LineSession } from "./line-session.js";

/** Listens for plain TCP connections (TLS when `tls` is configured) and gives each one a LineSession. */
export class LineFactory extends SocketListener<LineConfig> {
  protected createSession(socket: Socket): LineSession {
    return new LineSession(socket, this.config.maxLineBytes);
  }
}
