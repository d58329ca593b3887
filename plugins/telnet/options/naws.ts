import { OPT } from "../telnet-codes.js";
import { OptionModule, type OptionContext, type Where } from "./option-base.js";

/** `{0: n}` screen sizes up to this are shared, frozen objects (each new one costs about 150 bytes). */
const SHARED_SIZES = 1000;
const sizes = new Map<number, Readonly<Record<number, number>>>();

/** A SCREENWIDTH / SCREENHEIGHT flag value, `{0: n}`: one shared frozen object per size (a session's flags never change it in place). */
export function screenSize(n: number): Readonly<Record<number, number>> {
  if (n > SHARED_SIZES) return { 0: n };
  let size = sizes.get(n);
  if (!size) sizes.set(n, (size = Object.freeze({ 0: n })));
  return size;
}

/**
 * NAWS (31): window size. A 0 dimension is ignored (keeps the previous), sizes are clamped to
 * the configured maximum, and a change after the handshake resyncs the game (debounced).
 */
export class NawsOption extends OptionModule {
  constructor(ctx: OptionContext) {
    super(ctx, OPT.NAWS);
    this.setDefaults();
  }

  offer(): void {
    this.requestRemote();
  }

  protected override onEnabled(at: Where): void {
    if (at === "REMOTE") this.ctx.flags.AUTORESIZE = true;
  }

  protected override onRefused(at: Where): void {
    if (at === "REMOTE") this.setDefaults();
  }

  protected override onDisabled(at: Where): void {
    if (at === "REMOTE") {
      this.setDefaults();
      this.ctx.flagsChanged();
    }
  }

  protected override onSubnegotiation(payload: Buffer): void {
    if (payload.length !== 4) {
      this.ctx.protocolError(`NAWS payload of ${payload.length} bytes (expected 4) ignored`);
      return;
    }
    const { flags, config } = this.ctx;
    const width = payload.readUInt16BE(0);
    const height = payload.readUInt16BE(2);
    const oldW = (flags.SCREENWIDTH as Record<string, number>)[0];
    const oldH = (flags.SCREENHEIGHT as Record<string, number>)[0];
    const w = width === 0 ? oldW : Math.min(width, config.maxWidth);
    const h = height === 0 ? oldH : Math.min(height, config.maxHeight);
    flags.AUTORESIZE = true;
    if (w === oldW && h === oldH) return;
    flags.SCREENWIDTH = screenSize(w);
    flags.SCREENHEIGHT = screenSize(h);
    this.ctx.flagsChanged();
  }

  private setDefaults(): void {
    this.ctx.flags.SCREENWIDTH = screenSize(this.ctx.config.defaultWidth);
    this.ctx.flags.SCREENHEIGHT = screenSize(this.ctx.config.defaultHeight);
    this.ctx.flags.AUTORESIZE = false;
  }
}
