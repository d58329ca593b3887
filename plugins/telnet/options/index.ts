import type { TelnetConfig } from "../config.js";
import { CharsetOption } from "./charset.js";
import { EchoOption } from "./echo.js";
import { EorOption } from "./eor.js";
import { GmcpOption } from "./gmcp.js";
import { Mccp2Option } from "./mccp2.js";
import { MsdpOption } from "./msdp.js";
import { MsspOption } from "./mssp.js";
import { MxpOption } from "./mxp.js";
import { NawsOption } from "./naws.js";
import type { OptionContext, OptionModule } from "./option-base.js";
import { SgaOption } from "./sga.js";
import { TtypeOption } from "./ttype.js";

export interface SessionOptions {
  /** Every supported option: ECHO first, then those offered at connect, in the order they are offered. */
  all: OptionModule[];
  echo: EchoOption;
  ttype: TtypeOption;
  gmcp: GmcpOption | undefined;
  msdp: MsdpOption | undefined;
}

/** Creates one session's option set from the listener config (disabled options are simply refused). */
export function buildOptions(ctx: OptionContext, config: TelnetConfig): SessionOptions {
  const echo = new EchoOption(ctx);
  const ttype = new TtypeOption(ctx);
  const gmcp = config.oob ? new GmcpOption(ctx) : undefined;
  const msdp = config.oob ? new MsdpOption(ctx) : undefined;
  const all: OptionModule[] = [echo, new SgaOption(ctx), new NawsOption(ctx), ttype];
  if (config.mccp) all.push(new Mccp2Option(ctx));
  if (config.mssp) all.push(new MsspOption(ctx));
  if (msdp) all.push(msdp);
  if (gmcp) all.push(gmcp);
  if (config.mxp) all.push(new MxpOption(ctx));
  all.push(new EorOption(ctx), new CharsetOption(ctx));
  return { all, echo, ttype, gmcp, msdp };
}

/** The supported option with this code (at most a dozen to look through: no map per session). */
export function optionFor(options: readonly OptionModule[], code: number): OptionModule | undefined {
  for (const option of options) if (option.code === code) return option;
  return undefined;
}
