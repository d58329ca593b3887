import { colourDepthFor, renderAnsiLine, screenReaderText, type Kwargs, type Outputs } from "../../core/index.js";
import { escapeIac } from "./output-pipe.js";
import { CMD } from "./telnet-codes.js";
import { TelnetWire } from "./telnet-wire.js";
import { HTTP_REPLY, crlf, encodeOutput, isHttpRequestLine } from "./text-encoding.js";
import { msspPlaintext, msspTable } from "./options/mssp.js";

export { partialInputMessage, type TelnetSessionDeps } from "./telnet-wire.js";

/** Go-ahead and end-of-record marks, written as they are (never changed) after lines and prompts. */
const IAC_GA = Buffer.from([CMD.IAC, CMD.GA]);
const IAC_EOR = Buffer.from([CMD.IAC, CMD.EOR]);

/**
 * One telnet (or TLS telnet) client: lines in, rendered text and out-of-band messages out. The
 * bytes, the negotiation and the timers are `TelnetWire`'s.
 */
export class TelnetSession extends TelnetWire implements Outputs<TelnetSession, "text" | "prompt"> {
  private sawFirstLine = false;
  /** The first line was an HTTP request or MSSP-REQUEST: it was answered in plain text and the socket ended. */
  private answeredPlain = false;

  send_text(args: unknown[], kwargs: Kwargs): void {
    const options = (kwargs.options ?? {}) as Record<string, unknown>;
    if (options.echo === false) this.echo.mask(true);
    else if (options.echo === true) this.echo.mask(false);
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
    this.gmcp?.send(name, args, kwargs);
    this.msdp?.send(name, args, kwargs);
  }

  /** One complete input line: the first may be an HTTP request or a crawler's MSSP-REQUEST, answered in plain text. */
  line(bytes: Buffer): void {
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
        this.socket.end(msspPlaintext(msspTable(this, this.deps.ownPort(), this.deps.config.tls !== null)));
        return;
      }
    }
    if (this.answeredPlain || this.ending) return;
    if (!this.echo.masking) this.deps.logger.debug({ sessid: this.sessid, bytes: bytes.length }, "line in");
    this.textIn(bytes);
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
}
