import type { Kwargs } from "../../../core/index.js";
import { OPT } from "../telnet-codes.js";
import { decodeMsdp, encodeMsdp } from "../oob/msdp-codec.js";
import type { OptionContext } from "./option-base.js";
import { OobOption } from "./oob-option.js";

/** MSDP (69): LIST, REPORT, UNREPORT, SEND and RESET reach the game as msdp_list, msdp_report, ... */
export class MsdpOption extends OobOption {
  constructor(ctx: OptionContext) {
    super(ctx, OPT.MSDP);
  }

  protected get flag(): "MSDP" {
    return "MSDP";
  }

  protected encode(name: string, args: readonly unknown[], kwargs: Kwargs): string {
    return encodeMsdp(name, args, kwargs);
  }

  protected override onSubnegotiation(payload: Buffer): void {
    const tuples = decodeMsdp(payload).filter(([name]) => name.trim() !== "");
    if (tuples.length > 0) this.ctx.oobIn(tuples);
  }
}
