import { OPT } from "../telnet-codes.js";
import { OptionModule, type OptionContext, type Where } from "./option-base.js";

const VAR = 1;
const VAL = 2;

/** The MSSP variables: defaults from the running portal, then the configured table on top. */
export function msspTable(ctx: Pick<OptionContext, "config" | "info" | "players">, ownPort: number, tls: boolean): Record<string, string | string[]> {
  const { config, info } = ctx;
  const ports = config.msspPorts.length > 0 ? config.msspPorts : tls ? [] : [ownPort];
  const tlsPorts = config.msspTlsPorts.length > 0 ? config.msspTlsPorts : tls ? [ownPort] : [];
  const table: Record<string, string | string[]> = {
    NAME: info.serverName,
    PLAYERS: String(ctx.players()),
    UPTIME: String(Math.floor(info.startTime / 1000)),
    PORT: ports.map(String),
    SSL: tlsPorts.length > 0 ? tlsPorts.map(String) : "0",
    // Mudlet reads TLS (legacy SSL) as a port number; both keys are sent.
    TLS: tlsPorts.length > 0 ? tlsPorts.map(String) : "0",
    "CRAWL DELAY": "-1",
    CODEBASE: "Portico",
    FAMILY: "Custom",
    ANSI: "1",
    GMCP: config.oob ? "1" : "0",
    MSDP: config.oob ? "1" : "0",
    MCCP: config.mccp ? "1" : "0",
    MXP: config.mxp ? "1" : "0",
    "UTF-8": "1",
    VT100: "0",
    "XTERM 256 COLORS": "1",
    "XTERM TRUE COLORS": "1",
    ATCP: "0", MCP: "0", MSP: "0", PUEBLO: "0", ZMP: "0",
  };
  return { ...table, ...config.msspTable };
}

/** Encodes the table as MSSP subnegotiation payload (lists repeat VAL). */
export function encodeMssp(table: Record<string, string | string[]>): Buffer {
  const parts: Buffer[] = [];
  const text = (s: string) => Buffer.from(s.replace(/[\x00-\x02\xff]/g, ""), "utf8");
  for (const [name, value] of Object.entries(table)) {
    parts.push(Buffer.from([VAR]), text(name));
    for (const v of Array.isArray(value) ? value : [value]) parts.push(Buffer.from([VAL]), text(v));
  }
  return Buffer.concat(parts);
}

/** The plaintext answer to a crawler's `MSSP-REQUEST` line. */
export function msspPlaintext(table: Record<string, string | string[]>): string {
  const lines = ["", "MSSP-REPLY-START"];
  for (const [name, value] of Object.entries(table)) lines.push(`${name}\t${(Array.isArray(value) ? value : [value]).join("\t")}`);
  lines.push("MSSP-REPLY-END", "");
  return lines.join("\r\n");
}

/** MSSP (70): on DO, the table is sent once. */
export class MsspOption extends OptionModule {
  constructor(ctx: OptionContext) {
    super(ctx, OPT.MSSP);
  }

  offer(): void {
    this.requestLocal();
  }

  protected override onEnabled(at: Where): void {
    if (at === "LOCAL") this.ctx.sendSubnegotiation(OPT.MSSP, encodeMssp(msspTable(this.ctx, this.ctx.ownPort(), this.ctx.config.tls !== null)));
  }
}
