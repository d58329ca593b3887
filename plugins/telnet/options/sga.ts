import { OPT } from "../telnet-codes.js";
import { OptionModule, type OptionContext, type Where } from "./option-base.js";

/** SGA (3): offered at connect. Refused ⇒ lines end with IAC GA (NOGOAHEAD false). */
export class SgaOption extends OptionModule {
  constructor(ctx: OptionContext) {
    super(ctx, OPT.SGA);
    ctx.flags.NOGOAHEAD = true;
    ctx.flags.NOPROMPTGOAHEAD = true;
  }

  offer(): void {
    this.requestLocal();
  }

  protected override onEnabled(at: Where): void {
    if (at === "LOCAL") this.ctx.flags.NOGOAHEAD = true;
  }

  protected override onDisabled(at: Where): void {
    if (at === "LOCAL") this.goAhead();
  }

  protected override onRefused(at: Where): void {
    if (at === "LOCAL") this.goAhead();
  }

  private goAhead(): void {
    this.ctx.flags.NOGOAHEAD = false;
    this.ctx.flags.NOPROMPTGOAHEAD = false;
    this.ctx.flagsChanged();
  }
}
