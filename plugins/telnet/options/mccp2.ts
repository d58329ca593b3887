import { OPT, CMD } from "../telnet-codes.js";
import { OptionModule, type OptionContext, type Where } from "./option-base.js";

/**
 * MCCP2 (86): offered when enabled in config. On DO we send IAC SB MCCP2 IAC SE uncompressed,
 * then compress everything; on DONT the deflate stream is finished (Z_FINISH) before any plain byte.
 */
export class Mccp2Option extends OptionModule {
  constructor(ctx: OptionContext) {
    super(ctx, OPT.MCCP2);
    ctx.flags.MCCP = false;
  }

  offer(): void {
    this.requestLocal();
  }

  protected override onEnabled(at: Where): void {
    if (at !== "LOCAL") return;
    this.ctx.writeRaw(Buffer.from([CMD.IAC, CMD.SB, OPT.MCCP2, CMD.IAC, CMD.SE]));
    this.ctx.startCompression();
    this.ctx.flags.MCCP = true;
  }

  protected override onDisabled(at: Where): void {
    if (at !== "LOCAL") return;
    this.ctx.stopCompression();
    this.ctx.flags.MCCP = false;
    this.ctx.flagsChanged();
  }
}
