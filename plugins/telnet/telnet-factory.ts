import type { Socket } from "node:net";
import { SocketListener } from "../../core/index.js";
import type { TelnetConfig } from "./config.js";
import { TelnetSession } from "./telnet-session.js";

/** A telnet listener (plain, or TLS when `tls` is configured); one TelnetSession per connection. */
export class TelnetFactory extends SocketListener<TelnetConfig> {
  protected createSession(socket: Socket): TelnetSession {
    return new TelnetSession(socket, {
      config: this.config, logger: this.logger, info: this.ctx.portal, clock: this.ctx.clock,
      ownPort: () => this.boundPort, players: () => this.ctx.countPlayers(),
    });
  }
}
