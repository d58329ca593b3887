import { OPT } from "../telnet-codes.js";
import { OptionModule, type OptionContext, type Where } from "./option-base.js";

/** MXP (91): on DO we start the MXP session and lock the line mode (ESC[7z); links are then rendered as MXP tags. */
export class MxpOption extends OptionModule {
  constructor(ctx: OptionContext) {
    super(ctx, OPT.MXP);
    ctx.flags.MXP = false;
  }

  offer(): void {
    this.requestLocal();
  }

  protected override onEnabled(at: Where): void {
    if (at !== "LOCAL") return;
    this.ctx.sendSubnegotiation(OPT.MXP, Buffer.alloc(0));
    this.ctx.writeRaw(Buffer.from("\x1b[7z\r\n", "latin1"));
    this.ctx.flags.MXP = true;
  }

  protected override onDisabled(at: Where): void {
    if (at === "LOCAL") this.ctx.flags.MXP = false;
  }
}
