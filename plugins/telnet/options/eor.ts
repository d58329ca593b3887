import { OPT } from "../telnet-codes.js";
import { OptionModule, type OptionContext, type Where } from "./option-base.js";

/** EOR (25): when the client agrees, prompts are marked with IAC EOR (instead of IAC GA). */
export class EorOption extends OptionModule {
  constructor(ctx: OptionContext) {
    super(ctx, OPT.EOR);
  }

  offer(): void {
    this.requestLocal();
  }

  protected override onEnabled(at: Where): void {
    if (at === "LOCAL") this.ctx.flags.EOR = true;
  }

  protected override onDisabled(at: Where): void {
    if (at === "LOCAL") this.ctx.flags.EOR = false;
  }
}
