import { TelnetOption, type OptionHost, type Where } from "telnetlib";
import type { CommandTuple, Logger, PortalInfo, ProtocolFlags } from "../../../core/index.js";
import type { TelnetConfig } from "../config.js";

/** What an option module may do to its session. */
export interface OptionContext {
  readonly host: OptionHost;
  readonly flags: ProtocolFlags;
  readonly config: TelnetConfig;
  readonly logger: Logger;
  readonly info: PortalInfo;
  /** Sends IAC SB <code> <payload, IAC doubled> IAC SE. */
  sendSubnegotiation(code: number, payload: Buffer): void;
  /** Sends bytes as they are (commands), through compression when it is on. */
  writeRaw(bytes: Buffer): void;
  /** Starts or finishes the MCCP2 stream. */
  startCompression(): void;
  stopCompression(): void;
  /** Flags changed after the handshake: resync the game (debounced). */
  flagsChanged(): void;
  /** This option's part of the handshake is over (answered, refused, or its exchange done). */
  handshakeDone(code: number): void;
  /** Client out-of-band input for the game. */
  oobIn(commands: CommandTuple[]): void;
  /** Logged-in player count (MSSP). */
  players(): number;
  /** A malformed payload: logged, never fatal. */
  protocolError(message: string): void;
}

/**
 * One telnet option, built on telnetlib's RFC 1143 (Q method) state machine. Adds: replies written
 * before the enable hook runs (telnetlib enables first, which would compress a WILL MCCP2), and
 * requests that need no timers.
 */
export abstract class OptionModule extends TelnetOption {
  /** Offered at connect and counted in the handshake. */
  readonly offeredAtConnect: boolean = true;

  constructor(protected readonly ctx: OptionContext, code: number) {
    super(ctx.host, code);
  }

  /** The first offer (WILL or DO) sent at connect. */
  abstract offer(): void;

  override handleDo(): void {
    if (this.us === "NO" && this.socket.localOptions.has(this.code)) {
      this.socket.writer.writeWill(this.code);
      this.us = "YES";
      return;
    }
    super.handleDo();
  }

  override handleWill(): void {
    if (this.him === "NO" && this.socket.remoteOptions.has(this.code)) {
      this.socket.writer.writeDo(this.code);
      this.him = "YES";
      return;
    }
    super.handleWill();
  }

  override handleDont(): void {
    const before = this.us;
    super.handleDont();
    if (before === "WANTYES" && this.us === "NO") this.onRefused("LOCAL");
  }

  override handleWont(): void {
    const before = this.him;
    super.handleWont();
    if (before === "WANTYES" && this.him === "NO") this.onRefused("REMOTE");
  }

  /** Asks to enable on our side: WILL; while a WONT is unanswered the request is queued (RFC 1143). */
  requestLocal(): void {
    this.socket.localOptions.add(this.code);
    if (this.us === "WANTNO") this.usq = "OPPOSITE";
    else if (this.us === "WANTYES") this.usq = "EMPTY";
    if (this.us !== "NO") return;
    this.us = "WANTYES";
    this.socket.writer.writeWill(this.code);
  }

  /** Asks to disable on our side: WONT; while a WILL is unanswered the request is queued (RFC 1143). */
  releaseLocal(): void {
    this.socket.localOptions.delete(this.code);
    if (this.us === "WANTYES") this.usq = "OPPOSITE";
    else if (this.us === "WANTNO") this.usq = "EMPTY";
    if (this.us !== "YES") return;
    this.us = "WANTNO";
    this.socket.writer.writeWont(this.code);
  }

  /** Asks the client to enable: DO. */
  requestRemote(): void {
    this.socket.remoteOptions.add(this.code);
    if (this.him !== "NO") return;
    this.him = "WANTYES";
    this.socket.writer.writeDo(this.code);
  }

  /** Once the handshake is over, an option agreed or dropped later still reaches the game (a debounced resync). */
  override enabled(at: Where): void {
    this.onEnabled(at);
    this.ctx.flagsChanged();
  }

  override disabled(at: Where): void {
    this.onDisabled(at);
    this.ctx.flagsChanged();
  }

  override subnegotiation(payload: Buffer): void {
    try {
      this.onSubnegotiation(payload);
    } catch (err) {
      this.ctx.protocolError(`option ${this.code} subnegotiation: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  protected onEnabled(_at: Where): void {}
  /** The client answered our request with DONT / WONT. */
  protected onRefused(_at: Where): void {}
  protected onDisabled(_at: Where): void {}
  protected onSubnegotiation(_payload: Buffer): void {}
}
