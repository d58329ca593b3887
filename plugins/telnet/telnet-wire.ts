import type { Socket } from "node:net";
import {
  SocketSession,
  type Clock, type CommandTuple, type FixedDelayTimers, type Logger, type PortalInfo, type ProtocolFlags, type TimerTicket, type TimerHandle,
} from "../../core/index.js";
import type { TelnetConfig } from "./config.js";
import { LineAssembler, type LineEvents } from "./line-assembler.js";
import { OutputPipe, escapeIac, type OutputOwner } from "./output-pipe.js";
import { CMD, OPT } from "./telnet-codes.js";
import { TelnetParser, type ParserEvents } from "./telnet-parser.js";
import { buildOptions, optionFor } from "./options/index.js";
import { RefusedOption, type OptionContext, type OptionModule } from "./options/option-base.js";
import type { EchoOption } from "./options/echo.js";
import type { GmcpOption } from "./options/gmcp.js";
import type { MsdpOption } from "./options/msdp.js";
import type { TtypeOption } from "./options/ttype.js";

/** What every session of one listener shares (made once per listener, not per connection). */
export interface TelnetSessionDeps {
  config: TelnetConfig;
  logger: Logger;
  info: PortalInfo;
  clock: Clock;
  /** This listener's port (for MSSP). */
  ownPort: () => number;
  /** Logged-in players on the portal (MSSP's PLAYERS). */
  players: () => number;
  /** Negotiation deadlines (`handshakeTimeoutMs`): calls `handshakeDeadline()`. */
  handshakes: FixedDelayTimers<TelnetWire>;
  /** Keep-alive NOPs (`keepaliveMs`): calls `keepaliveDue()`. */
  keepalives: FixedDelayTimers<TelnetWire>;
}

/** Unknown options the client mentions are tracked (and refused) up to this many. */
const MAX_UNKNOWN_OPTIONS = 64;

/** Told to a client disconnected for not finishing a line within partialInputTimeoutMs. */
export function partialInputMessage(limitMs: number): string {
  return `Your input line did not end within ${limitMs / 1000} seconds; disconnecting.`;
}

const IAC_NOP = Buffer.from([CMD.IAC, CMD.NOP]);

/** IAC <verb> <code>, one shared buffer per command (written as they are, never changed). */
const COMMANDS = new Map<number, Buffer>();
function command(verb: number, code: number): Buffer {
  const key = (verb << 8) | code;
  let bytes = COMMANDS.get(key);
  if (!bytes) COMMANDS.set(key, (bytes = Buffer.from([CMD.IAC, verb, code])));
  return bytes;
}

/**
 * The byte side of a telnet session: parsing, negotiation (the options, the handshake and its
 * deadline), keep-alives, the partial-input watch and the output pipe. `TelnetSession` adds lines
 * in and text out.
 *
 * The session is itself the event sink of its parser, line assembler, options and output pipe (the
 * public methods under "the parts' events"), so an idle session holds no closures and no timers of
 * its own: negotiation deadlines and keep-alives run on the listener's shared timers
 * (docs/performance-connections.md).
 */
export abstract class TelnetWire extends SocketSession implements ParserEvents, LineEvents, OptionContext, OutputOwner {
  protected readonly parser: TelnetParser;
  protected readonly lines: LineAssembler;
  protected readonly out: OutputPipe;
  protected readonly echo: EchoOption;
  protected readonly gmcp: GmcpOption | undefined;
  protected readonly msdp: MsdpOption | undefined;
  /** Every supported option, ECHO first (see buildOptions). */
  private readonly options: OptionModule[];
  private readonly ttype: TtypeOption;
  /** Options Portico does not support that the client mentioned (made on the first one). */
  private unknown: Map<number, OptionModule> | undefined;
  /** Offers not yet answered: bit i is `options[i]`. */
  private awaiting = 0;
  /** While the offers are made at connect, their commands are collected here and written at once. */
  private offers: number[] | undefined;
  private handshakeTicket: TimerTicket = 0;
  private keepaliveTicket: TimerTicket = 0;
  private syncTimer: TimerHandle | undefined;
  /** Runs while a line or subnegotiation is unfinished; restarted whenever one ends (see partialInputTimeoutMs). */
  private partialTimer: TimerHandle | undefined;
  private handshakeComplete = false;

  constructor(socket: Socket, protected readonly deps: TelnetSessionDeps) {
    super(deps.config.tls ? "telnet/ssl" : "telnet", socket);
    const { config } = deps;
    this.protocol_flags.NOPKEEPALIVE = config.keepaliveMs > 0;
    this.out = new OutputPipe(socket, config, this);
    const { all, echo, ttype, gmcp, msdp } = buildOptions(this, config);
    this.options = all;
    this.echo = echo;
    this.ttype = ttype;
    this.gmcp = gmcp;
    this.msdp = msdp;
    this.parser = new TelnetParser(this, config.maxSubnegotiationBytes);
    this.lines = new LineAssembler(this, config.maxLineBytes);
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 60_000);
  }

  /** Sends the option offers (in one write) once the portal has the session; the banner never waits for the answers. */
  override onOpen(): void {
    const offers: number[] = [];
    this.offers = offers;
    try {
      for (let i = 0; i < this.options.length; i++) {
        const option = this.options[i]!;
        if (!option.offeredAtConnect) continue;
        this.awaiting |= 1 << i;
        option.offer();
      }
    } finally {
      this.offers = undefined;
    }
    if (offers.length > 0) this.out.write(Buffer.from(offers));
    this.handshakeTicket = this.deps.handshakes.add(this);
    if (this.deps.config.keepaliveMs > 0) this.keepaliveTicket = this.deps.keepalives.add(this);
  }

  // ---- the parts' events (parser, line assembler, options, output pipe, the listener's timers) ----

  /** Parser: plain data bytes. */
  data(bytes: Buffer): void {
    this.lines.push(bytes);
  }

  /** Parser: WILL / WONT / DO / DONT. */
  negotiate(verb: number, code: number): void {
    const option = this.optionFor(code) ?? this.unknownOption(code);
    switch (verb) {
      case CMD.WILL: option.handleWill(); break;
      case CMD.WONT: option.handleWont(); break;
      case CMD.DO: option.handleDo(); break;
      case CMD.DONT: option.handleDont(); break;
    }
    if (!(code === OPT.TTYPE && this.ttype.holdsHandshake)) this.answered(code);
  }

  /** Parser: a complete subnegotiation. */
  subnegotiation(code: number, payload: Buffer): void {
    this.optionFor(code)?.subnegotiation(payload);
  }

  /** Parser: any other command (NOP, GA, AYT, ...): ignored. */
  command(): void {}

  /** Parser and options: a malformed sequence or payload; logged, never fatal. */
  protocolError(message: string): void {
    this.deps.logger.debug({ sessid: this.sessid, message }, "telnet protocol error");
  }

  /** Line assembler: one complete line. */
  abstract line(bytes: Buffer): void;

  /** Line assembler: a line longer than maxLineBytes was discarded. */
  overflow(): void {
    this.send_text([`Your line was longer than ${this.deps.config.maxLineBytes} bytes and was discarded.`], {});
  }

  /** Line assembler: a lone NUL between lines (a client keep-alive). */
  idle(): void {
    this.dataIn(["idle", [], {}]);
  }

  /** Options: the session's flags. */
  get flags(): ProtocolFlags {
    return this.protocol_flags;
  }

  /** Options: the listener's config. */
  get config(): TelnetConfig {
    return this.deps.config;
  }

  get info(): PortalInfo {
    return this.deps.info;
  }

  sendCommand(verb: number, code: number): void {
    if (this.offers) this.offers.push(CMD.IAC, verb, code);
    else this.out.write(command(verb, code));
  }

  sendSubnegotiation(code: number, payload: Buffer): void {
    this.out.write(Buffer.concat([Buffer.from([CMD.IAC, CMD.SB, code]), escapeIac(payload), Buffer.from([CMD.IAC, CMD.SE])]));
  }

  writeRaw(bytes: Buffer): void {
    this.out.write(bytes);
  }

  startCompression(): void {
    this.out.startCompression();
  }

  stopCompression(): void {
    this.out.stopCompression();
  }

  flagsChanged(): void {
    this.scheduleSync();
  }

  handshakeDone(code: number): void {
    this.answered(code);
  }

  oobIn(commands: CommandTuple[]): void {
    this.dataIn(...commands);
  }

  players(): number {
    return this.deps.players();
  }

  ownPort(): number {
    return this.deps.ownPort();
  }

  /** Output pipe: the client stopped reading (the pipe destroys the socket next). */
  outputOverflow(): void {
    this.deps.logger.warn({ sessid: this.sessid }, "client is not reading its output; disconnected");
  }

  /** The listener's handshake timer: the negotiation answers are late; the game gets the flags as they are. */
  handshakeDeadline(): void {
    this.handshakeTicket = 0;
    this.completeHandshake();
  }

  /** The listener's keep-alive timer: IAC NOP (while the NOPKEEPALIVE flag is on), then again after keepaliveMs. */
  keepaliveDue(): void {
    this.keepaliveTicket = 0;
    if (this.ending) return;
    if (this.protocol_flags.NOPKEEPALIVE !== false) this.out.write(IAC_NOP);
    this.keepaliveTicket = this.deps.keepalives.add(this);
  }

  // ---- internals ----

  protected received(chunk: Buffer): void {
    const ended = this.lines.linesEnded + this.parser.subnegotiationsEnded;
    this.parser.push(chunk);
    this.watchPartialInput(this.lines.linesEnded + this.parser.subnegotiationsEnded !== ended);
  }

  /** Finishes the MCCP2 stream (if any) before the socket is ended. */
  protected override finishOutput(): void {
    this.out.end(() => this.socket.end());
  }

  protected override transportClosed(): void {
    const { clock, handshakes, keepalives } = this.deps;
    handshakes.cancel(this.handshakeTicket);
    keepalives.cancel(this.keepaliveTicket);
    this.handshakeTicket = 0;
    this.keepaliveTicket = 0;
    clock.clearTimeout(this.syncTimer);
    clock.clearTimeout(this.partialTimer);
    this.out.close();
  }

  /**
   * A line (or subnegotiation) must arrive within partialInputTimeoutMs of its first byte: the timer
   * starts when input stops at an unfinished one and restarts whenever one ends, so a client that
   * trickles a line that never ends is disconnected, while one that sends lines slowly, or a long paste
   * in many chunks, is not.
   */
  private watchPartialInput(progressed: boolean): void {
    const limitMs = this.deps.config.partialInputTimeoutMs;
    if (limitMs <= 0 || this.ending) return;
    const unfinished = this.lines.midLine || this.parser.midSequence;
    if (!unfinished || progressed) {
      this.deps.clock.clearTimeout(this.partialTimer);
      this.partialTimer = undefined;
    }
    if (unfinished && this.partialTimer === undefined) {
      this.partialTimer = this.deps.clock.setTimeout(() => {
        this.partialTimer = undefined;
        if (this.ending) return;
        this.deps.logger.info({ sessid: this.sessid, partialInputTimeoutMs: limitMs }, "telnet client did not finish its input line in time; disconnected");
        this.close(partialInputMessage(limitMs));
      }, limitMs);
    }
  }

  private optionFor(code: number): OptionModule | undefined {
    return optionFor(this.options, code) ?? this.unknown?.get(code);
  }

  /** An option we do not support: refused, and its state kept (up to MAX_UNKNOWN_OPTIONS; past that, refused without state). */
  private unknownOption(code: number): OptionModule {
    const option = new RefusedOption(this, code);
    const unknown = (this.unknown ??= new Map());
    if (unknown.size < MAX_UNKNOWN_OPTIONS) unknown.set(code, option);
    return option;
  }

  private answered(code: number): void {
    const i = this.options.findIndex((o) => o.code === code);
    if (i < 0 || (this.awaiting & (1 << i)) === 0) return;
    this.awaiting &= ~(1 << i);
    if (this.awaiting === 0) this.completeHandshake();
  }

  private completeHandshake(): void {
    if (this.handshakeComplete || this.ending) return;
    this.handshakeComplete = true;
    this.deps.handshakes.cancel(this.handshakeTicket);
    this.handshakeTicket = 0;
    this.awaiting = 0;
    this.syncFlags();
  }

  private scheduleSync(): void {
    if (!this.handshakeComplete || this.syncTimer !== undefined) return;
    this.syncTimer = this.deps.clock.setTimeout(() => {
      this.syncTimer = undefined;
      this.syncFlags();
    }, this.deps.config.nawsDebounceMs);
  }
}
