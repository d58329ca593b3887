import { isIP } from "node:net";

/**
 * The address group a connection counts against for per-address limits (the connection throttle's
 * turns and its per-address cap):
 * - an IPv4 address is its own group (`203.0.113.7`);
 * - an IPv4-mapped IPv6 address (`::ffff:203.0.113.7`, what a dual-stack listener reports for IPv4
 *   clients) is the IPv4 address;
 * - any other IPv6 address is grouped by its first `ipv6PrefixLength` bits, written as the masked
 *   address in full hex words and the prefix (`2001:db8:0:1:0:0:0:0/64`), since one host is
 *   usually given a whole /64 and can pick any address in it; a zone (`%eth0`) is ignored;
 * - anything else (no address, a Unix socket path, a string that is not an IP) is grouped by the
 *   string as it is (`""` when there is no address).
 */
export function addressGroup(address: string | null, ipv6PrefixLength: number): string {
  if (address === null) return "";
  let a = address.trim();
  if (a.startsWith("[") && a.endsWith("]")) a = a.slice(1, -1);
  const zone = a.indexOf("%");
  if (zone > 0 && a.includes(":")) a = a.slice(0, zone);
  const family = isIP(a);
  if (family === 4) return a;
  if (family !== 6) return address;
  const words = ipv6Words(a);
  if (!words) return address;
  if (words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff) {
    return `${words[6]! >> 8}.${words[6]! & 0xff}.${words[7]! >> 8}.${words[7]! & 0xff}`;
  }
  const bits = Math.max(0, Math.min(128, Math.trunc(ipv6PrefixLength)));
  const masked = words.map((w, i) => {
    const keep = Math.max(0, Math.min(16, bits - i * 16));
    return keep === 0 ? 0 : w & ((0xffff << (16 - keep)) & 0xffff);
  });
  return `${masked.map((w) => w.toString(16)).join(":")}/${bits}`;
}

/** The eight 16-bit words of a textual IPv6 address (which `isIP` already accepted), or undefined. */
function ipv6Words(text: string): number[] | undefined {
  let s = text.toLowerCase();
  const tail: number[] = [];
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (v4) {
    const [b0, b1, b2, b3] = v4.slice(1).map(Number) as [number, number, number, number];
    tail.push((b0 << 8) | b1, (b2 << 8) | b3);
    s = s.slice(0, v4.index);
    if (s.endsWith(":") && !s.endsWith("::")) s = s.slice(0, -1);
  }
  const parse = (part: string) => (part === "" ? [] : part.split(":").map((h) => Number.parseInt(h, 16)));
  const gap = s.indexOf("::");
  let words: number[];
  if (gap >= 0) {
    const head = parse(s.slice(0, gap));
    const rest = [...parse(s.slice(gap + 2)), ...tail];
    const fill = 8 - head.length - rest.length;
    if (fill < 0) return undefined;
    words = [...head, ...new Array<number>(fill).fill(0), ...rest];
  } else {
    words = [...parse(s), ...tail];
  }
  if (words.length !== 8 || words.some((w) => !Number.isInteger(w) || w < 0 || w > 0xffff)) return undefined;
  return words;
}
