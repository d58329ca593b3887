import type { TelnetOption } from "telnetlib";
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
  /** Every supported option by code. */
  byCode: Map<number, TelnetOption>;
  /** Offered at connect, in this order, and counted in the handshake. */
  offered: OptionModule[];
  echo: EchoOption;
  ttype: TtypeOption;
  gmcp: GmcpOption | undefined;
  msdp: MsdpOption | undefined;
}

/** Creates one session's option set from the listener config (disabled options are simply refused). */
export function buildOptions(ctx: OptionContext, config: TelnetConfig, ownPort: () => number, tls: boolean): SessionOptions {
  const echo = new EchoOption(ctx);
  const ttype = new TtypeOption(ctx);
  const gmcp = config.oob ? new GmcpOption(ctx) : undefined;
  const msdp = config.oob ? new MsdpOption(ctx) : undefined;
  const offered: OptionModule[] = [
    new SgaOption(ctx),
    new NawsOption(ctx),
    ttype,
    ...(config.mccp ? [new Mccp2Option(ctx)] : []),
    ...(config.mssp ? [new MsspOption(ctx, ownPort, tls)] : []),
    ...(msdp ? [msdp] : []),
    ...(gmcp ? [gmcp] : []),
    ...(config.mxp ? [new MxpOption(ctx)] : []),
    new EorOption(ctx),
    new CharsetOption(ctx),
  ];
  const byCode = new Map<number, TelnetOption>();
  for (const option of [echo, ...offered]) byCode.set(option.code, option);
  return { byCode, offered, echo, ttype, gmcp, msdp };
}
