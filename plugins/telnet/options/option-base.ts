import type { CommandTuple, PortalInfo, ProtocolFlags } from "../../../core/index.js";
import type { TelnetConfig } from "../config.js";
import { CMD } from "../telnet-codes.js";

/** RFC 1143 ("Q method") state of one side of an option, and its request queue. */
export type OptionState = "NO" | "YES" | "WANTNO" | "WANTYES";
export type QueueState = "EMPTY" | "OPPOSITE";
/** Our side (LOCAL: WILL/WONT) or the client's (REMOTE: DO/DONT). */
export type Where = "LOCAL" | "REMOTE";

/** What an option module may do to its session. */
export interface OptionContext {
  readonly flags: ProtocolFlags;
  readonly config: TelnetConfig;
  readonly info: PortalInfo;
  /** Sends IAC <verb> <code> (WILL, WONT, DO or DONT). */
  sendCommand(verb: number, code: number): void;
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
  /** This listener's port (MSSP). */
  ownPort(): number;
  /** A malformed payload: logged, never fatal. */
  protocolError(message: string): void;
}

const STATES: readonly OptionState[] = ["NO", "YES", "WANTNO", "WANTYES"];
const NO = 0, YES = 1, WANTNO = 2, WANTYES = 3;

// One option's whole negotiation state in one small integer (a session holds eleven options):
// bits 0-1 us, 2 usq OPPOSITE, 3-4 him, 5 himq OPPOSITE, 6 enabled locally, 7 enabled remotely,
// 8 we agree to enable locally, 9 we agree to let the client enable, 10-17 the option code.
const US = 0, USQ = 2, HIM = 3, HIMQ = 5, ON_LOCAL = 6, ON_REMOTE = 7, AGREE_LOCAL = 8, AGREE_REMOTE = 9, CODE = 10;

/**
 * One telnet option: the RFC 1143 (Q method) state machine for both sides, and the hooks an option
 * module writes. Replies are written before the enable hook runs (enabling MCCP2 first would compress
 * its own WILL); a request while the opposite one is unanswered is queued. The state is one integer
 * and nothing is allocated per option beyond the object itself: every session holds eleven of them.
 */
export abstract class OptionModule {
  private bits: number;

  constructor(protected readonly ctx: OptionContext, code: number) {
    this.bits = code << CODE;
  }

  get code(): number {
    return this.bits >>> CODE;
  }

  /** Offered at connect and counted in the handshake. */
  get offeredAtConnect(): boolean {
    return true;
  }

  /** The first offer (WILL or DO) sent at connect. */
  abstract offer(): void;

  // ---- Q-method state (strings, as RFC 1143 names them) ----

  get us(): OptionState {
    return STATES[(this.bits >>> US) & 3]!;
  }

  /** Setting YES enables (once), NO disables (once): the `enabled`/`disabled` hooks run. */
  set us(state: OptionState) {
    this.setSide(US, ON_LOCAL, STATES.indexOf(state), "LOCAL");
  }

  get him(): OptionState {
    return STATES[(this.bits >>> HIM) & 3]!;
  }

  set him(state: OptionState) {
    this.setSide(HIM, ON_REMOTE, STATES.indexOf(state), "REMOTE");
  }

  get usq(): QueueState {
    return this.hasBit(USQ) ? "OPPOSITE" : "EMPTY";
  }

  set usq(q: QueueState) {
    this.setBit(USQ, q === "OPPOSITE");
  }

  get himq(): QueueState {
    return this.hasBit(HIMQ) ? "OPPOSITE" : "EMPTY";
  }

  set himq(q: QueueState) {
    this.setBit(HIMQ, q === "OPPOSITE");
  }

  /** True while the option is on at our side (us = YES). */
  get enabledLocal(): boolean {
    return this.hasBit(ON_LOCAL);
  }

  get enabledRemote(): boolean {
    return this.hasBit(ON_REMOTE);
  }

  /** We agree to enable at our side when the client asks (DO), or asked ourselves. */
  protected get agreesLocal(): boolean {
    return this.hasBit(AGREE_LOCAL);
  }

  protected set agreesLocal(on: boolean) {
    this.setBit(AGREE_LOCAL, on);
  }

  /** We agree to let the client enable at its side (WILL), or asked it ourselves. */
  protected get agreesRemote(): boolean {
    return this.hasBit(AGREE_REMOTE);
  }

  protected set agreesRemote(on: boolean) {
    this.setBit(AGREE_REMOTE, on);
  }

  // ---- the client's commands ----

  /** WILL: the client offers (or agrees) to enable at its side. */
  handleWill(): void {
    switch (this.sideState(HIM)) {
      case NO:
        if (this.agreesRemote) {
          this.ctx.sendCommand(CMD.DO, this.code);
          this.him = "YES";
        } else this.ctx.sendCommand(CMD.DONT, this.code);
        break;
      case WANTNO:
        // A DONT answered by WILL (an error): with a queued request it stands, otherwise it stays off.
        if (this.himq === "OPPOSITE") {
          this.him = "YES";
          this.himq = "EMPTY";
        } else this.him = "NO";
        break;
      case WANTYES:
        if (this.himq === "OPPOSITE") {
          this.him = "WANTNO";
          this.himq = "EMPTY";
          this.ctx.sendCommand(CMD.DONT, this.code);
        } else this.him = "YES";
        break;
    }
  }

  /** WONT: the client refuses, or turns off, its side. */
  handleWont(): void {
    const before = this.sideState(HIM);
    switch (before) {
      case YES:
        this.him = "NO";
        this.ctx.sendCommand(CMD.DONT, this.code);
        break;
      case WANTNO:
        if (this.himq === "OPPOSITE") {
          this.him = "WANTYES";
          this.himq = "EMPTY";
          this.ctx.sendCommand(CMD.DO, this.code);
        } else this.him = "NO";
        break;
      case WANTYES:
        this.him = "NO";
        this.himq = "EMPTY";
        break;
    }
    if (before === WANTYES && this.sideState(HIM) === NO) this.onRefused("REMOTE");
  }

  /** DO: the client asks (or agrees) that we enable at our side. */
  handleDo(): void {
    switch (this.sideState(US)) {
      case NO:
        if (this.agreesLocal) {
          this.ctx.sendCommand(CMD.WILL, this.code);
          this.us = "YES";
        } else this.ctx.sendCommand(CMD.WONT, this.code);
        break;
      case WANTNO:
        // A WONT answered by DO (an error): with a queued request it stands, otherwise it stays off.
        if (this.usq === "OPPOSITE") {
          this.us = "YES";
          this.usq = "EMPTY";
        } else this.us = "NO";
        break;
      case WANTYES:
        if (this.usq === "OPPOSITE") {
          this.us = "WANTNO";
          this.usq = "EMPTY";
          this.ctx.sendCommand(CMD.WONT, this.code);
        } else this.us = "YES";
        break;
    }
  }

  /** DONT: the client refuses, or asks us to turn off, our side. */
  handleDont(): void {
    const before = this.sideState(US);
    switch (before) {
      case YES:
        this.us = "NO";
        this.ctx.sendCommand(CMD.WONT, this.code);
        break;
      case WANTNO:
        if (this.usq === "OPPOSITE") {
          this.us = "WANTYES";
          this.usq = "EMPTY";
          this.ctx.sendCommand(CMD.WILL, this.code);
        } else this.us = "NO";
        break;
      case WANTYES:
        this.us = "NO";
        this.usq = "EMPTY";
        break;
    }
    if (before === WANTYES && this.sideState(US) === NO) this.onRefused("LOCAL");
  }

  // ---- our requests ----

  /** Asks to enable on our side: WILL; while a WONT is unanswered the request is queued (RFC 1143). */
  requestLocal(): void {
    this.agreesLocal = true;
    const us = this.sideState(US);
    if (us === WANTNO) this.usq = "OPPOSITE";
    else if (us === WANTYES) this.usq = "EMPTY";
    if (us !== NO) return;
    this.us = "WANTYES";
    this.ctx.sendCommand(CMD.WILL, this.code);
  }

  /** Asks to disable on our side: WONT; while a WILL is unanswered the request is queued (RFC 1143). */
  releaseLocal(): void {
    this.agreesLocal = false;
    const us = this.sideState(US);
    if (us === WANTYES) this.usq = "OPPOSITE";
    else if (us === WANTNO) this.usq = "EMPTY";
    if (us !== YES) return;
    this.us = "WANTNO";
    this.ctx.sendCommand(CMD.WONT, this.code);
  }

  /** Asks the client to enable: DO. */
  requestRemote(): void {
    this.agreesRemote = true;
    if (this.sideState(HIM) !== NO) return;
    this.him = "WANTYES";
    this.ctx.sendCommand(CMD.DO, this.code);
  }

  /** A complete subnegotiation for this option; a throwing module is reported, never fatal. */
  subnegotiation(payload: Buffer): void {
    try {
      this.onSubnegotiation(payload);
    } catch (err) {
      this.ctx.protocolError(`option ${this.code} subnegotiation: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** Once the handshake is over, an option agreed or dropped later still reaches the game (a debounced resync). */
  protected enabled(at: Where): void {
    this.onEnabled(at);
    this.ctx.flagsChanged();
  }

  protected disabled(at: Where): void {
    this.onDisabled(at);
    this.ctx.flagsChanged();
  }

  protected onEnabled(_at: Where): void {}
  /** The client answered our request with DONT / WONT. */
  protected onRefused(_at: Where): void {}
  protected onDisabled(_at: Where): void {}
  protected onSubnegotiation(_payload: Buffer): void {}

  private sideState(shift: number): number {
    return (this.bits >>> shift) & 3;
  }

  /** Moves one side to `state`; entering YES enables and leaving for NO disables, once each. */
  private setSide(shift: number, onBit: number, state: number, at: Where): void {
    if (state < 0) throw new RangeError("not an option state");
    this.bits = (this.bits & ~(3 << shift)) | (state << shift);
    if (state === YES && !this.hasBit(onBit)) {
      this.setBit(onBit, true);
      this.enabled(at);
    } else if (state === NO && this.hasBit(onBit)) {
      this.setBit(onBit, false);
      this.disabled(at);
    }
  }

  private hasBit(bit: number): boolean {
    return (this.bits & (1 << bit)) !== 0;
  }

  private setBit(bit: number, on: boolean): void {
    this.bits = on ? this.bits | (1 << bit) : this.bits & ~(1 << bit);
  }
}

/** An option Portico does not support: every request of the client's is refused. */
export class RefusedOption extends OptionModule {
  override get offeredAtConnect(): boolean {
    return false;
  }

  offer(): void {}
}
