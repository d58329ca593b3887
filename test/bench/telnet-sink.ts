import { connect, type Socket } from "node:net";
import { parseArgs } from "node:util";
import { createInflate, type Inflate } from "node:zlib";

/**
 * The telnet benchmark's client (a child process): opens `--clients` sockets to 127.0.0.1:`--port`
 * and counts what arrives. Raw mode (default) counts the bytes as they are; with `--telnet` it
 * answers the server's negotiation like a MUD client (DO SGA and EOR; WILL NAWS with 100x40 and
 * TTYPE with MUDLET / ANSI-TRUECOLOR / MTTS 269; everything else refused). With `--mccp` it accepts
 * MCCP2 (telnet mode) or inflates the whole stream (raw mode), with a streaming zlib inflater.
 *
 * Prints "CONNECTED <n>" once every socket is open, then "P <lines> <bytes> <wire>" (totals over
 * all sockets: LF bytes in the data, logical bytes after inflating, bytes read from the sockets)
 * at most once per event-loop turn while they change. Its own telnet parser is independent of the
 * plugin's. Exits on SIGTERM or when stdin closes.
 */
const { values: args } = parseArgs({
  options: {
    port: { type: "string" },
    clients: { type: "string", default: "1" },
    telnet: { type: "boolean", default: false },
    mccp: { type: "boolean", default: false },
  },
});
const port = Number(args.port);
const clients = Number(args.clients);
const telnetMode = args.telnet === true;
const mccp = args.mccp === true;

const IAC = 255, DONT = 254, DO = 253, WONT = 252, WILL = 251, SB = 250, SE = 240;
const SGA = 3, TTYPE = 24, EOR = 25, NAWS = 31, MCCP2 = 86;
const LF = 10;
const TTYPE_ANSWERS = ["MUDLET", "ANSI-TRUECOLOR", "MTTS 269"];

let lines = 0;
let bytes = 0;
let wire = 0;
let reported = "";
let reportScheduled = false;

function report(): void {
  if (reportScheduled) return;
  reportScheduled = true;
  setImmediate(() => {
    reportScheduled = false;
    const line = `P ${lines} ${bytes} ${wire}\n`;
    if (line !== reported) {
      reported = line;
      process.stdout.write(line);
    }
  });
}

function countLf(buf: Buffer, from: number, to: number): void {
  let at = buf.indexOf(LF, from);
  while (at >= 0 && at < to) {
    lines += 1;
    at = buf.indexOf(LF, at + 1);
  }
}

const enum S { Data, Iac, Neg, SbOpt, Sb, SbIac }

class Client {
  private state = S.Data;
  private verb = 0;
  private sbOpt = 0;
  private sb: number[] = [];
  private ttypeStep = 0;
  private inflater: Inflate | undefined;

  constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    if (!telnetMode && mccp) this.startInflate();
    socket.on("data", (chunk: Buffer) => {
      wire += chunk.length;
      if (this.inflater) this.inflater.write(chunk);
      else this.logical(chunk, 0);
      report();
    });
    socket.on("error", () => undefined);
  }

  private startInflate(): void {
    const inflater = createInflate();
    inflater.on("data", (out: Buffer) => {
      this.logical(out, 0);
      report();
    });
    inflater.on("error", (err) => {
      process.stderr.write(`telnet sink: inflate failed: ${err.message}\n`);
      process.exit(1);
    });
    this.inflater = inflater;
  }

  /** Counts logical bytes; in telnet mode parses them (data lines, negotiation) first. */
  private logical(buf: Buffer, from: number): void {
    bytes += buf.length - from;
    if (!telnetMode) {
      countLf(buf, from, buf.length);
      return;
    }
    let i = from;
    const n = buf.length;
    while (i < n) {
      switch (this.state) {
        case S.Data: {
          const iac = buf.indexOf(IAC, i);
          const end = iac < 0 ? n : iac;
          countLf(buf, i, end);
          if (iac < 0) return;
          this.state = S.Iac;
          i = iac + 1;
          break;
        }
        case S.Iac: {
          const b = buf[i++]!;
          if (b === WILL || b === WONT || b === DO || b === DONT) {
            this.verb = b;
            this.state = S.Neg;
          } else if (b === SB) this.state = S.SbOpt;
          else this.state = S.Data; // IAC IAC (a data 0xFF, never a LF), GA, EOR, NOP ...
          break;
        }
        case S.Neg:
          this.state = S.Data;
          this.negotiate(this.verb, buf[i++]!);
          break;
        case S.SbOpt:
          this.sbOpt = buf[i++]!;
          this.sb = [];
          this.state = S.Sb;
          break;
        case S.Sb: {
          const b = buf[i++]!;
          if (b === IAC) this.state = S.SbIac;
          else this.sb.push(b);
          break;
        }
        case S.SbIac: {
          const b = buf[i++]!;
          if (b === IAC) {
            this.sb.push(b);
            this.state = S.Sb;
            break;
          }
          this.state = S.Data;
          if (b !== SE) break;
          if (this.sbOpt === TTYPE && this.sb[0] === 1) this.answerTtype();
          if (this.sbOpt === MCCP2 && mccp && !this.inflater) {
            // Everything after IAC SB MCCP2 IAC SE is compressed; its inflated bytes come back to logical().
            bytes -= n - i;
            this.startInflate();
            if (i < n) this.inflater!.write(buf.subarray(i));
            return;
          }
          break;
        }
      }
    }
  }

  private negotiate(verb: number, option: number): void {
    if (verb === WILL) {
      const yes = option === SGA || option === EOR || (option === MCCP2 && mccp);
      this.socket.write(Buffer.from([IAC, yes ? DO : DONT, option]));
    } else if (verb === DO) {
      const yes = option === NAWS || option === TTYPE;
      this.socket.write(Buffer.from([IAC, yes ? WILL : WONT, option]));
      if (option === NAWS) this.socket.write(Buffer.from([IAC, SB, NAWS, 0, 100, 0, 40, IAC, SE]));
    }
  }

  private answerTtype(): void {
    const answer = TTYPE_ANSWERS[Math.min(this.ttypeStep++, TTYPE_ANSWERS.length - 1)]!;
    this.socket.write(Buffer.concat([Buffer.from([IAC, SB, TTYPE, 0]), Buffer.from(answer, "ascii"), Buffer.from([IAC, SE])]));
  }
}

const sockets: Socket[] = [];
let connected = 0;
for (let i = 0; i < clients; i += 1) {
  const socket = connect({ host: "127.0.0.1", port }, () => {
    connected += 1;
    if (connected === clients) process.stdout.write(`CONNECTED ${clients}\n`);
  });
  socket.on("close", () => {
    if (!quitting) {
      process.stderr.write("telnet sink: connection closed by the server\n");
      process.exit(1);
    }
  });
  sockets.push(socket);
  new Client(socket);
}

let quitting = false;
function quit(): void {
  quitting = true;
  for (const s of sockets) s.destroy();
  process.exit(0);
}
process.on("SIGTERM", quit);
process.stdin.on("end", quit);
process.stdin.resume();
