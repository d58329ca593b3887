import { OPT } from "../telnet-codes.js";
import { OptionModule, type OptionContext, type Where } from "./option-base.js";

const IS = 0;
const SEND = 1;

/** MTTS bit → flag (each set true only when its bit is set). */
export const MTTS_BITS: readonly [number, string][] = [
  [1, "ANSI"], [2, "VT100"], [4, "UTF-8"], [8, "XTERM256"], [16, "MOUSE_TRACKING"], [32, "OSC_COLOR_PALETTE"],
  [64, "SCREENREADER"], [128, "PROXY"], [256, "TRUECOLOR"], [512, "MNES"], [1024, "MSLP"], [2048, "SSL"],
];

const XTERM256_CLIENTS = new Set(["ATLANTIS", "CMUD", "KILDCLIENT", "MUDLET", "MUSHCLIENT", "PUTTY", "BEIP", "POTATO", "TINYFUGUE"]);
const TRUECOLOR_CLIENTS = new Set(["AXMUD", "TINTIN", "TINTIN++"]);

/** Colour capabilities implied by a client name (first TTYPE answer), table-driven. */
export function capabilitiesFromName(name: string): { xterm256: boolean; truecolor: boolean } {
  const xterm256 =
    name.startsWith("XTERM") || name.endsWith("-256COLOR") || XTERM256_CLIENTS.has(name) ||
    (name.startsWith("MUDLET") && name.slice(6).trim() >= "1.1");
  const truecolor = name.endsWith("-TRUECOLOR") || TRUECOLOR_CLIENTS.has(name);
  return { xterm256: xterm256 || truecolor, truecolor };
}

/**
 * TTYPE (24) with the MTTS three-step cycle: client name, terminal type, then `MTTS <bits>`.
 * The cycle stops early when a client repeats its answer; the handshake counts it done at the
 * end of the cycle (or on refusal).
 */
export class TtypeOption extends OptionModule {
  private step = 0;
  private last = "";
  private done = false;

  constructor(ctx: OptionContext) {
    super(ctx, OPT.TTYPE);
    ctx.flags.TTYPE = false;
    ctx.flags.ANSI = true;
    ctx.flags.FORCEDENDLINE = true;
  }

  /** TTYPE holds the handshake until its cycle ends. */
  get holdsHandshake(): boolean {
    return this.him === "YES" && !this.done;
  }

  offer(): void {
    this.requestRemote();
  }

  protected override onEnabled(at: Where): void {
    if (at === "REMOTE") this.request();
  }

  protected override onRefused(at: Where): void {
    if (at === "REMOTE") this.finish(false);
  }

  protected override onSubnegotiation(payload: Buffer): void {
    if (this.done || payload.length === 0 || payload[0] !== IS) return;
    const answer = payload.subarray(1, 65).toString("latin1").replace(/[^\x20-\x7e]/g, "").trim();
    const repeated = this.step > 0 && answer === this.last;
    this.step += 1;
    this.last = answer;
    const flags = this.ctx.flags;
    if (this.step === 1) {
      const name = answer.toUpperCase() || "UNKNOWN";
      const caps = capabilitiesFromName(name);
      flags.CLIENTNAME = name;
      flags.ANSI = true;
      if (caps.xterm256) flags.XTERM256 = true;
      else flags.XTERM256 = false;
      if (caps.truecolor) flags.TRUECOLOR = true;
      else flags.TRUECOLOR = false;
      if (name.startsWith("MUDLET") && flags.NOGOAHEAD === false) {
        flags.NOGOAHEAD = true;
        flags.NOPROMPTGOAHEAD = false;
      }
      this.request();
      return;
    }
    if (repeated) {
      this.finish(true);
      return;
    }
    if (this.step === 2) {
      const term = answer.toUpperCase();
      if (term.endsWith("-256COLOR") || term.endsWith("XTERM") || term.startsWith("XTERM")) {
        flags.ANSI = true;
        flags.XTERM256 = true;
      }
      if (term.endsWith("-TRUECOLOR")) flags.TRUECOLOR = true;
      flags.TERM = answer;
      this.request();
      return;
    }
    const mtts = /^MTTS\s+(\d+)$/i.exec(answer);
    if (mtts) {
      const bits = Number(mtts[1]);
      for (const [bit, flag] of MTTS_BITS) if (bits & bit) flags[flag] = true;
    }
    this.finish(true);
  }

  private request(): void {
    if (this.step < 3) this.ctx.sendSubnegotiation(OPT.TTYPE, Buffer.from([SEND]));
  }

  private finish(answered: boolean): void {
    if (this.done) return;
    this.done = true;
    this.ctx.flags.TTYPE = answered;
    // Flags first: when TTYPE ends the handshake, its one resync already carries them (no second sync).
    this.ctx.flagsChanged();
    this.ctx.handshakeDone(OPT.TTYPE);
  }
}
