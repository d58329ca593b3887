import type { Socket } from "node:net";
import { ErrorCodes, FixedDelayTimers, SocketListener, errorMessage } from "../../core/index.js";
import type { TelnetConfig } from "./config.js";
import { TelnetSession } from "./telnet-session.js";
import type { TelnetSessionDeps, TelnetWire } from "./telnet-wire.js";

/** A telnet listener (plain, or TLS when `tls` is configured); one TelnetSession per connection. */
export class TelnetFactory extends SocketListener<TelnetConfig> {
  /** What every session shares, made with the first one. */
  private deps: TelnetSessionDeps | undefined;

  protected createSession(socket: Socket): TelnetSession {
    return new TelnetSession(socket, (this.deps ??= this.sessionDeps()));
  }

  override async stop(): Promise<void> {
    try {
      await super.stop();
    } finally {
      this.deps?.handshakes.clear();
      this.deps?.keepalives.clear();
    }
  }

  private sessionDeps(): TelnetSessionDeps {
    const { config, logger, ctx } = this;
    const failed = (what: string) => (err: unknown) =>
      logger.error({ code: ErrorCodes.SESSION_CALLBACK, err }, `${what} failed: ${errorMessage(err)}`);
    return {
      config, logger, info: ctx.portal, clock: ctx.clock,
      ownPort: () => this.boundPort,
      players: () => ctx.countPlayers(),
      handshakes: new FixedDelayTimers(ctx.clock, config.handshakeTimeoutMs, (s: TelnetWire) => s.handshakeDeadline(), failed("negotiation deadline")),
      keepalives: new FixedDelayTimers(ctx.clock, config.keepaliveMs, (s: TelnetWire) => s.keepaliveDue(), failed("keep-alive")),
    };
  }
}
