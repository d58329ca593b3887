import type { Kwargs } from "../../../core/index.js";
import { OptionModule, type Where } from "./option-base.js";

/**
 * An out-of-band channel (GMCP, MSDP) we offer with WILL. While the client agrees, the `OOB` flag
 * and the option's own flag are true and the game's out-of-band output is sent as subnegotiations.
 */
export abstract class OobOption extends OptionModule {
  /** The flag that is true while the client has this channel on. */
  protected abstract get flag(): "GMCP" | "MSDP";

  /** One output instruction as this channel's payload. */
  protected abstract encode(name: string, args: readonly unknown[], kwargs: Kwargs): string;

  get active(): boolean {
    return this.us === "YES";
  }

  offer(): void {
    this.requestLocal();
  }

  send(name: string, args: readonly unknown[], kwargs: Kwargs): void {
    if (!this.active) return;
    this.ctx.sendSubnegotiation(this.code, Buffer.from(this.encode(name, args, kwargs), "utf8"));
  }

  protected override onEnabled(at: Where): void {
    if (at !== "LOCAL") return;
    this.ctx.flags.OOB = true;
    this.ctx.flags[this.flag] = true;
  }

  protected override onDisabled(at: Where): void {
    if (at === "LOCAL") this.ctx.flags[this.flag] = false;
  }
}
