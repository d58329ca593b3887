import { OPT } from "../telnet-codes.js";
import { OptionModule, type OptionContext } from "./option-base.js";

/**
 * ECHO (1): WONT by default. While a password is typed the game sends `echo: false` and we say
 * WILL ECHO (the client stops echoing locally); `echo: true` says WONT again. A client's own
 * DO ECHO is refused.
 */
export class EchoOption extends OptionModule {
  override get offeredAtConnect(): boolean {
    return false;
  }

  constructor(ctx: OptionContext) {
    super(ctx, OPT.ECHO);
  }

  offer(): void {}

  /** True while the client is told not to echo (input is then never logged). */
  get masking(): boolean {
    return this.agreesLocal || this.us === "YES" || this.us === "WANTYES";
  }

  mask(on: boolean): void {
    if (on) this.requestLocal();
    else this.releaseLocal();
  }
}
