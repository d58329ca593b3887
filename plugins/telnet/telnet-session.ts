import type { Socket } from "node:net";
import { TelnetOption } from "telnetlib";
import {
  SocketSession, colourDepthFor, renderAnsiLine, screenReaderText,
  type Clock, type CommandTuple, type Kwargs, type Logger, type Outputs, type PortalInfo, type TimerHandle,
} from "../../core/index.js";
import type { TelnetConfig } from "./config.js";
import { LineAssembler } from "./line-assembler.js";
import { OutputPipe, escapeIac } from "./output-pipe.js";
import { CMD, OPT } from "./telnet-codes.js";
import { TelnetParser } from "./telnet-parser.js";
import { HTTP_REPLY, crlf, encodeOutput, isHttpRequestLine } from "./text-encoding.js";
import { buildOptions, type SessionOptions } from "./options/index.js";
import type { OptionContext } from "./options/option-base.js";
import { msspPlaintext, msspTable } from "./options/mssp.js";

export interface TelnetSessionDeps {
  config: TelnetConfig;
  logger: Logger;
  info: PortalInfo;
  clock: Clock;
  /** This listener's port (for MSSP). */
  ownPort: () => number;
  /** Logged-in players on the portal (MSSP's PLAYERS). */
  players: () => number;
}

/** Unknown options the client mentions are tracked with telnetlib's default (refusing) option, up to this many. */
const MAX_UNKNOWN_OPTIONS = 64;

/** Told to a client disconnected for not finishing a line within partialInputTimeoutMs. */
export function partialInputMessage(limitMs: number): string {
  return `Your input line did not end within ${limitMs / 1000} seconds; disconnecting.`;
}

/** Go-ahead, end-of-record and keep-alive marks, written as they are (never changed) after lines and prompts. */
const IAC_GA = Buffer.from([CMD.IAC, CMD.GA]);
const IAC_EOR = Buffer.from([CMD.IAC, CMD.EOR]);
const IAC_NOP = Buffer.from([CMD.IAC, CMD.NOP]);

/** One telnet (or TLS telnet) client: parsing, negotiation, line assembly, rendering and output. */
export class TelnetSession extends SocketSession implements Outputs<TelnetSession, "text" | "prompt"> {
  private readonly parser: TelnetParser;
  private readonly lines: LineAssembler;
  private readonly out: OutputPipe;
  private readonly opts: SessionOptions;
  private readonly unknown = new Map<number, TelnetOption>();
  private readonly awaiting = new Set<number>();
  private readonly ctx: OptionContext;
  private handshakeTimer: TimerHandle | undefined;
  private syncTimer: TimerHandle | undefined;
  private keepaliveTimer: TimerHandle | undefined;
  /** Runs while a line or subnegotiation is unfinished; restarted whenever one ends (see partialInputTimeoutMs). */
  private partialTimer: TimerHandle | undefined;
  private handshakeComplete = false;
  private sawFirstLine = false;
  /** The first line was an HTTP request or MSSP-REQUEST: it was answered in plain text and the socket ended. */
  private answeredPlain = false;

  constructor(socket: Socket, private readonly deps: TelnetSessionDeps) {
    super(deps.config.tls ? "telnet/ssl" : "telnet", socket);
    const { config, logger } = deps;
    this.protocol_flags.NOPKEEPALIVE = config.keepaliveMs > 0;
    this.out = new OutputPipe(socket, { level: config.mccpLevel, windowBits: config.mccpWindowBits, memLevel: config.mccpMemLevel }, () => {
      logger.warn({ sessid: this.sessid }, "client is not reading its output; disconnected");
      socket.destroy();
    }, config.maxBufferedBytes);
    const command = (verb: number) => (code: number) => this.out.write(Buffer.from([CMD.IAC, verb, code]));
    const host = {
      remoteOptions: new Set<number>(),
      localOptions: new Set<number>(),
      writer: { writeWill: command(CMD.WILL), writeWont: command(CMD.WONT), writeDo: command(CMD.DO), writeDont: command(CMD.DONT) },
      emit: () => true,
    };
    this.ctx = {
      host, flags: this.protocol_flags, config, logger, info: deps.info,
      sendSubnegotiation: (code, payload) => this.out.write(Buffer.concat([Buffer.from([CMD.IAC, CMD.SB, code]), escapeIac(payload), Buffer.from([CMD.IAC, CMD.SE])])),
      writeRaw: (bytes) => this.out.write(bytes),
      startCompression: () => this.out.startCompression(),
      stopCompression: () => this.out.stopCompression(),
      flagsChanged: () => this.scheduleSync(),
      handshakeDone: (code) => this.answered(code),
      oobIn: (commands: CommandTuple[]) => this.dataIn(...commands),
      players: () => deps.players(),
      protocolError: (message) => logger.debug({ sessid: this.sessid, message }, "telnet protocol error"),
    };
    this.opts = buildOptions(this.ctx, config, deps.ownPort, config.tls !== null);
    this.parser = new TelnetParser({
      data: (bytes) => this.lines.push(bytes),
      negotiate: (verb, code) => this.negotiate(verb, code),
      subnegotiation: (code, payload) => this.optionFor(code)?.subnegotiation(payload),
      command: () => undefined,
      protocolError: (message) => this.ctx.protocolError(message),
    }, config.maxSubnegotiationBytes);
    this.lines = new LineAssembler({
      line: (bytes) => this.onLine(bytes),
      overflow: () => this.send_text([`Your line was longer than ${config.maxLineBytes} bytes and was discarded.`], {}),
      idle: () => this.dataIn(["idle", [], {}]),
    }, config.maxLineBytes);
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 60_000);
  }

  /** Sends the option offers once the portal has the session; the banner never waits for the answers. */
  override onOpen(): void {
    for (const option of this.opts.offered) {
      this.awaiting.add(option.code);
      option.offer();
    }
    const { handshakeTimeoutMs, keepaliveMs } = this.deps.config;
    this.handshakeTimer = this.deps.clock.setTimeout(() => this.completeHandshake(), handshakeTimeoutMs);
    if (keepaliveMs > 0) this.armKeepalive();
  }

  send_text(args: unknown[], kwargs: Kwargs): void {
    const options = (kwargs.options ?? {}) as Record<string, unknown>;
    if (options.echo === false) this.opts.echo.mask(true);
    else if (options.echo === true) this.opts.echo.mask(false);
    const text = args[0] === undefined || args[0] === null ? "" : String(args[0]);
    if (text === "") return;
    let body = crlf(this.render(text, options, true));
    if (this.protocol_flags.FORCEDENDLINE !== false && !body.endsWith("\r\n")) body += "\r\n";
    this.writeText(body);
    if (this.protocol_flags.NOGOAHEAD === false) this.out.write(IAC_GA);
  }

  send_prompt(args: unknown[], kwargs: Kwargs): void {
    const options = (kwargs.options ?? {}) as Record<string, unknown>;
    const text = args[0] === undefined || args[0] === null ? "" : String(args[0]);
    this.writeText(crlf(this.render(text, options, false)));
    if (this.protocol_flags.EOR === true) this.out.write(IAC_EOR);
    else if ((this.protocol_flags.NOPROMPTGOAHEAD ?? this.protocol_flags.NOGOAHEAD) === false) this.out.write(IAC_GA);
  }

  /** Out-of-band output: GMCP and/or MSDP, whichever the client accepted; never as text. */
  override send_default(name: string, args: unknown[], kwargs: Kwargs): void {
    if (name === "options") return;
    this.opts.gmcp?.send(name, args, kwargs);
    this.opts.msdp?.send(name, args, kwargs);
  }

  protected received(chunk: Buffer): void {
    const ended = this.lines.linesEnded + this.parser.subnegotiationsEnded;
    this.parser.push(chunk);
    this.watchPartialInput(this.lines.linesEnded + this.parser.subnegotiationsEnded !== ended);
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

  /** Finishes the MCCP2 stream (if any) before the socket is ended. */
  protected override finishOutput(): void {
    this.out.end(() => this.socket.end());
  }

  private render(text: string, options: Record<string, unknown>, allowMxp: boolean): string {
    const r = colourDepthFor(this.protocol_flags, options);
    if (r.raw) return text;
    if (r.screenreader) return screenReaderText(text);
    // Prompts never carry MXP links (a half-typed line follows them).
    return renderAnsiLine(text, { depth: r.depth, mxp: allowMxp && r.mxp && this.protocol_flags.MXP === true });
  }

  private writeText(text: string): void {
    if (text === "") return;
    this.out.write(escapeIac(encodeOutput(text, this.protocol_flags.ENCODING)));
  }

  private onLine(bytes: Buffer): void {
    if (!this.sawFirstLine) {
      this.sawFirstLine = true;
      const first = bytes.toString("latin1");
      if (isHttpRequestLine(first)) {
        this.answeredPlain = true;
        this.socket.end(HTTP_REPLY);
        return;
      }
      if (this.deps.config.mssp && first.trim().toUpperCase() === "MSSP-REQUEST") {
        this.answeredPlain = true;
        this.socket.end(msspPlaintext(msspTable(this.ctx, this.deps.ownPort(), this.deps.config.tls !== null)));
        return;
      }
    }
    if (this.answeredPlain || this.ending) return;
    if (!this.opts.echo.masking) this.deps.logger.debug({ sessid: this.sessid, bytes: bytes.length }, "line in");
    this.textIn(bytes);
  }

  private negotiate(verb: number, code: number): void {
    const option = this.optionFor(code) ?? this.unknownOption(code);
    if (!option) return;
    switch (verb) {
      case CMD.WILL: option.handleWill(); break;
      case CMD.WONT: option.handleWont(); break;
      case CMD.DO: option.handleDo(); break;
      case CMD.DONT: option.handleDont(); break;
    }
    if (this.awaiting.has(code) && !(code === OPT.TTYPE && this.opts.ttype.holdsHandshake)) this.answered(code);
  }

  private optionFor(code: number): TelnetOption | undefined {
    return this.opts.byCode.get(code) ?? this.unknown.get(code);
  }

  private unknownOption(code: number): TelnetOption | undefined {
    if (this.unknown.size >= MAX_UNKNOWN_OPTIONS) {
      // Still refuse, without keeping state.
      return new TelnetOption(this.ctx.host, code);
    }
    const option = new TelnetOption(this.ctx.host, code);
    this.unknown.set(code, option);
    return option;
  }

  private answered(code: number): void {
    if (!this.awaiting.delete(code)) return;
    if (this.awaiting.size === 0) this.completeHandshake();
  }

  private completeHandshake(): void {
    if (this.handshakeComplete || this.ending) return;
    this.handshakeComplete = true;
    this.deps.clock.clearTimeout(this.handshakeTimer);
    this.awaiting.clear();
    this.syncFlags();
  }

  private scheduleSync(): void {
    if (!this.handshakeComplete || this.syncTimer !== undefined) return;
    this.syncTimer = this.deps.clock.setTimeout(() => {
      this.syncTimer = undefined;
      this.syncFlags();
    }, this.deps.config.nawsDebounceMs);
  }

  private armKeepalive(): void {
    this.keepaliveTimer = this.deps.clock.setTimeout(() => {
      if (this.ending) return;
      if (this.protocol_flags.NOPKEEPALIVE !== false) this.out.write(IAC_NOP);
      this.armKeepalive();
    }, this.deps.config.keepaliveMs);
  }

  protected override transportClosed(): void {
    const { clock } = this.deps;
    clock.clearTimeout(this.handshakeTimer);
    clock.clearTimeout(this.syncTimer);
    clock.clearTimeout(this.keepaliveTimer);
    clock.clearTimeout(this.partialTimer);
    this.out.close();
  }
}
