import { BlockList, isIP } from "node:net";

/** An address without IPv6's IPv4-mapped prefix or brackets/port, or undefined when it is not an IP. */
export function normalizeIp(raw: string): string | undefined {
  let a = raw.trim();
  if (a.startsWith("[")) a = a.slice(1, a.indexOf("]") > 0 ? a.indexOf("]") : undefined);
  else if (/^\d+\.\d+\.\d+\.\d+:\d+$/.test(a)) a = a.slice(0, a.lastIndexOf(":"));
  if (a.toLowerCase().startsWith("::ffff:") && isIP(a.slice(7)) === 4) a = a.slice(7);
  return isIP(a) ? a : undefined;
}

/** Parses `addr` or `addr/prefix` (IPv4 or IPv6); undefined when it is neither. */
export function parseCidr(entry: string): { address: string; prefix: number; family: "ipv4" | "ipv6" } | undefined {
  const [addr, bits, extra] = entry.trim().split("/");
  if (extra !== undefined || addr === undefined) return undefined;
  const family = isIP(addr);
  if (family === 0) return undefined;
  const max = family === 4 ? 32 : 128;
  const prefix = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) return undefined;
  return { address: addr, prefix, family: family === 4 ? "ipv4" : "ipv6" };
}

/** The addresses of trusted reverse proxies (CIDR ranges). */
export class TrustedProxies {
  private readonly list = new BlockList();
  private readonly empty: boolean;

  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const c = parseCidr(entry);
      if (!c) throw new Error(`not an IP address or CIDR range: ${JSON.stringify(entry)}`);
      this.list.addSubnet(c.address, c.prefix, c.family);
    }
    this.empty = entries.length === 0;
  }

  has(address: string): boolean {
    if (this.empty) return false;
    const a = normalizeIp(address);
    if (!a) return false;
    return this.list.check(a, isIP(a) === 4 ? "ipv4" : "ipv6");
  }
}

/** The `for=` addresses of a `Forwarded` header (RFC 7239), in order. */
function forwardedFor(header: string): string[] {
  const out: string[] = [];
  for (const element of header.split(",")) {
    for (const pair of element.split(";")) {
      const eq = pair.indexOf("=");
      if (eq < 0 || pair.slice(0, eq).trim().toLowerCase() !== "for") continue;
      out.push(pair.slice(eq + 1).trim().replace(/^"|"$/g, ""));
    }
  }
  return out;
}

/**
 * The player's address: the socket's, unless it is a trusted proxy; then the right-most address in
 * `X-Forwarded-For` (else `Forwarded: for=`) that is not itself a trusted proxy. A malformed entry
 * stops the walk (nothing left of it can be trusted); all-trusted chains give the left-most entry.
 */
export function clientAddress(socketAddress: string | undefined, headers: Record<string, string | string[] | undefined>, trusted: TrustedProxies): string | null {
  const direct = socketAddress ? normalizeIp(socketAddress) ?? socketAddress : null;
  if (!direct || !trusted.has(direct)) return direct;
  const join = (v: string | string[] | undefined) => (Array.isArray(v) ? v.join(",") : v);
  const xff = join(headers["x-forwarded-for"]);
  const chain = xff !== undefined ? xff.split(",") : forwardedFor(join(headers.forwarded) ?? "");
  let candidate = direct;
  for (let i = chain.length - 1; i >= 0; i--) {
    const a = normalizeIp(chain[i]!);
    if (!a) break;
    candidate = a;
    if (!trusted.has(a)) break;
  }
  return candidate;
}
