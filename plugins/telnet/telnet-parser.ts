import { CMD } from "./telnet-codes.js";

export interface ParserEvents {
  /** Plain data bytes (IAC IAC already turned into one 0xFF). The buffer may be a view of the chunk. */
  data(bytes: Buffer): void;
  /** WILL / WONT / DO / DONT with the option code. */
  negotiate(command: number, option: number): void;
  /** A complete subnegotiation: option code and payload (IAC IAC unescaped). */
  subnegotiation(option: number, payload: Buffer): void;
  /** Any other command byte after IAC (NOP, GA, EOR, AYT, ...). */
  command(command: number): void;
  /** A malformed sequence; parsing goes on. */
  protocolError(message: string): void;
}

const enum S { Data, Iac, Negotiate, SbOption, Sb, SbIac }

/**
 * The inbound telnet byte state machine. Keeps its state across chunks, so sequences may be split
 * at any byte. Subnegotiations are capped at `maxSubnegotiationBytes`; a longer one is dropped
 * (reported as a protocol error) and parsing continues. An IAC followed by anything but IAC or
 * SE inside a subnegotiation ends it as malformed, and the command is processed normally.
 */
export class TelnetParser {
  private state = S.Data;
  private negotiation = 0;
  private sbOption = 0;
  /** The subnegotiation under way, in parts (none allocated outside one). */
  private sbParts: Buffer[] | undefined;
  private sbBytes = 0;
  private sbOverflow = false;

  constructor(
    private readonly events: ParserEvents,
    private readonly maxSubnegotiationBytes = 64 * 1024,
  ) {}

  /** Subnegotiations ended so far (complete, over-long or interrupted). */
  subnegotiationsEnded = 0;

  /** True while a command or subnegotiation has begun and not ended. */
  get midSequence(): boolean {
    return this.state !== S.Data;
  }

  push(chunk: Buffer): void {
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      switch (this.state) {
        case S.Data: {
          const iac = chunk.indexOf(CMD.IAC, i);
          const end = iac < 0 ? n : iac;
          if (end > i) this.events.data(chunk.subarray(i, end));
          if (iac < 0) return;
          this.state = S.Iac;
          i = iac + 1;
          break;
        }
        case S.Iac: {
          const b = chunk[i++]!;
          this.onIacByte(b);
          if (b === CMD.IAC) {
            // The escaped 0xFF is emitted as data; continue in data state.
            this.events.data(chunk.subarray(i - 1, i));
          }
          break;
        }
        case S.Negotiate:
          this.state = S.Data;
          this.events.negotiate(this.negotiation, chunk[i++]!);
          break;
        case S.SbOption:
          this.sbOption = chunk[i++]!;
          this.sbParts = undefined;
          this.sbBytes = 0;
          this.sbOverflow = false;
          this.state = S.Sb;
          break;
        case S.Sb: {
          const iac = chunk.indexOf(CMD.IAC, i);
          const end = iac < 0 ? n : iac;
          if (end > i) this.collect(chunk.subarray(i, end));
          if (iac < 0) return;
          this.state = S.SbIac;
          i = iac + 1;
          break;
        }
        case S.SbIac: {
          const b = chunk[i++]!;
          if (b === CMD.IAC) {
            this.collect(chunk.subarray(i - 1, i));
            this.state = S.Sb;
          } else if (b === CMD.SE) {
            this.state = S.Data;
            this.finishSubnegotiation();
          } else {
            this.events.protocolError(`subnegotiation for option ${this.sbOption} interrupted by IAC ${b}`);
            this.resetSb();
            this.onIacByte(b);
          }
          break;
        }
      }
    }
  }

  private onIacByte(b: number): void {
    switch (b) {
      case CMD.IAC:
        this.state = S.Data;
        return;
      case CMD.WILL:
      case CMD.WONT:
      case CMD.DO:
      case CMD.DONT:
        this.negotiation = b;
        this.state = S.Negotiate;
        return;
      case CMD.SB:
        this.state = S.SbOption;
        return;
      case CMD.SE:
        this.state = S.Data;
        this.events.protocolError("IAC SE outside a subnegotiation");
        return;
      default:
        this.state = S.Data;
        this.events.command(b);
    }
  }

  private collect(part: Buffer): void {
    if (this.sbOverflow) return;
    if (this.sbBytes + part.length > this.maxSubnegotiationBytes) {
      this.sbOverflow = true;
      this.sbParts = undefined;
      return;
    }
    (this.sbParts ??= []).push(Buffer.from(part));
    this.sbBytes += part.length;
  }

  private finishSubnegotiation(): void {
    const option = this.sbOption;
    if (this.sbOverflow) {
      this.resetSb();
      this.events.protocolError(`subnegotiation for option ${option} longer than ${this.maxSubnegotiationBytes} bytes dropped`);
      return;
    }
    const parts = this.sbParts ?? [];
    const payload = parts.length === 1 ? parts[0]! : Buffer.concat(parts, this.sbBytes);
    this.resetSb();
    this.events.subnegotiation(option, payload);
  }

  private resetSb(): void {
    this.subnegotiationsEnded += 1;
    this.sbParts = undefined;
    this.sbBytes = 0;
    this.sbOverflow = false;
  }
}
