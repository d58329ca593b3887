import { OPT } from "../telnet-codes.js";
import { decodeGmcp, encodeGmcp, type Kwargs } from "../../../core/index.js";
import type { OptionContext } from "./option-base.js";
import { OobOption } from "./oob-option.js";

/**
 * GMCP (201): package names are sent in the game's case and matched case-insensitively on input.
 * Core.Hello sets CLIENTNAME; Core.Supports.Set/Add/Remove keep the GMCP_SUPPORTS list; Core.Ping
 * is answered here. Every message also goes to the game as input.
 */
export class GmcpOption extends OobOption {
  constructor(ctx: OptionContext) {
    super(ctx, OPT.GMCP);
    ctx.flags.OOB = ctx.flags.OOB ?? false;
  }

  protected get flag(): "GMCP" {
    return "GMCP";
  }

  protected encode(name: string, args: readonly unknown[], kwargs: Kwargs): string {
    return encodeGmcp(name, args, kwargs);
  }

  protected override onSubnegotiation(payload: Buffer): void {
    const { pkg, tuple } = decodeGmcp(payload.toString("utf8"));
    if (pkg === "") {
      this.ctx.protocolError("GMCP message without a package name ignored");
      return;
    }
    const lower = pkg.toLowerCase();
    const flags = this.ctx.flags;
    if (lower === "core.hello") {
      const kw = tuple[2];
      // Keys matched case-insensitively (some clients send "Client"/"Version").
      const field = (key: string) => {
        const value = kw[Object.keys(kw).find((k) => k.toLowerCase() === key) ?? key];
        return typeof value === "string" ? value : "";
      };
      const client = field("client");
      const version = field("version");
      if (client) flags.CLIENTNAME = `${client} ${version}`.trim();
      this.ctx.flagsChanged();
    } else if (lower === "core.supports.set" || lower === "core.supports.add" || lower === "core.supports.remove") {
      const current = new Set<string>(lower === "core.supports.set" ? [] : ((flags.GMCP_SUPPORTS as string[] | undefined) ?? []));
      for (const entry of tuple[1]) {
        if (typeof entry !== "string") continue;
        const module = entry.trim().split(/\s+/)[0]!;
        if (lower === "core.supports.remove") current.delete(module);
        else current.add(module);
      }
      flags.GMCP_SUPPORTS = [...current].slice(0, 256);
      this.ctx.flagsChanged();
    } else if (lower === "core.ping") {
      this.ctx.sendSubnegotiation(OPT.GMCP, Buffer.from("Core.Ping", "utf8"));
    }
    this.ctx.oobIn([tuple]);
  }
}
