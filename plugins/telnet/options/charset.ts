import { OPT } from "../telnet-codes.js";
import { OptionModule, type OptionContext, type Where } from "./option-base.js";

const REQUEST = 1;
const ACCEPTED = 2;
const REJECTED = 3;

/** Charset names we can speak, in preference order, mapped to the ENCODING flag value. */
const SUPPORTED: readonly [string, string][] = [
  ["UTF-8", "utf-8"],
  ["ISO-8859-1", "latin-1"],
  ["LATIN1", "latin-1"],
  ["US-ASCII", "utf-8"],
];

function lookup(name: string): string | undefined {
  const upper = name.trim().toUpperCase();
  return SUPPORTED.find(([n]) => n === upper)?.[1];
}

/**
 * CHARSET (42, RFC 2066): we offer WILL and, when agreed, request UTF-8 (then ISO-8859-1). The
 * answer only changes ENCODING; the handshake never waits for it.
 */
export class CharsetOption extends OptionModule {
  constructor(ctx: OptionContext) {
    super(ctx, OPT.CHARSET);
    this.agreesRemote = true;
  }

  offer(): void {
    this.requestLocal();
  }

  protected override onEnabled(at: Where): void {
    if (at !== "LOCAL") return;
    this.ctx.sendSubnegotiation(OPT.CHARSET, Buffer.concat([Buffer.from([REQUEST]), Buffer.from(";UTF-8;ISO-8859-1", "ascii")]));
  }

  protected override onSubnegotiation(payload: Buffer): void {
    const kind = payload[0];
    const rest = payload.subarray(1).toString("ascii");
    if (kind === ACCEPTED) {
      const encoding = lookup(rest);
      if (encoding) {
        this.ctx.flags.ENCODING = encoding;
        this.ctx.flagsChanged();
      } else this.ctx.protocolError(`client accepted a charset we did not offer: ${rest.slice(0, 40)}`);
      return;
    }
    if (kind === REJECTED) return;
    if (kind === REQUEST) {
      // The client asks us: [TTABLE ]<sep><name><sep><name>...
      const list = rest.startsWith("[TTABLE]") ? rest.slice(9) : rest;
      const sep = list[0] ?? ";";
      const names = list.slice(1).split(sep);
      const chosen = names.find((n) => lookup(n) !== undefined);
      if (chosen) {
        this.ctx.flags.ENCODING = lookup(chosen)!;
        this.ctx.sendSubnegotiation(OPT.CHARSET, Buffer.concat([Buffer.from([ACCEPTED]), Buffer.from(chosen, "ascii")]));
        this.ctx.flagsChanged();
      } else {
        this.ctx.sendSubnegotiation(OPT.CHARSET, Buffer.from([REJECTED]));
      }
    }
  }
}
