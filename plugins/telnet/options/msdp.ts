import type { Where } from "telnetlib";
import type { Kwargs } from "../../../core/index.js";
import { OPT } from "../telnet-codes.js";
import { decodeMsdp, encodeMsdp } from "../oob/msdp-codec.js";
import { OptionModule, type OptionContext } from "./option-base.js";

/** MSDP (69): LIST, REPORT, UNREPORT, SEND and RESET reach the game as msdp_list, msdp_report, ... */
export class MsdpOption extends OptionModule {
  constructor(ctx: OptionContext) {
    super(ctx, OPT.MSDP);
  }

  get active(): boolean {
    return this.us === "YES";
  }

  offer(): void {
    this.requestLocal();
  }

  send(name: string, args: readonly unknown[], kwargs: Kwargs): void {
    if (!this.active) return;
    this.ctx.sendSubnegotiation(OPT.MSDP, Buffer.from(encodeMsdp(name, args, kwargs), "utf8"));
  }

  protected override onEnabled(at: Where): void {
    if (at !== "LOCAL") return;
    this.ctx.flags.OOB = true;
    this.ctx.flags.MSDP = true;
  }

  protected override onDisabled(at: Where): void {
    if (at === "LOCAL") this.ctx.flags.MSDP = false;
  }

  protected override onSubnegotiation(payload: Buffer): void {
    const tuples = decodeMsdp(payload).filter(([name]) => name.trim() !== "");
    if (tuples.length > 0) this.ctx.oobIn(tuples);
  }
}
