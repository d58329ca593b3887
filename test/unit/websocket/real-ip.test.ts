import { expect } from "chai";
import { clientAddress, normalizeIp, parseCidr, TrustedProxies } from "../../../plugins/websocket/real-ip.js";

describe("websocket client address (trusted proxies)", () => {
  const local = new TrustedProxies(["127.0.0.1/32", "::1/128", "10.0.0.0/8"]);

  it("parses addresses and CIDR ranges, refusing anything else", () => {
    expect(parseCidr("10.0.0.0/8")).to.deep.equal({ address: "10.0.0.0", prefix: 8, family: "ipv4" });
    expect(parseCidr("2001:db8::/32")).to.deep.equal({ address: "2001:db8::", prefix: 32, family: "ipv6" });
    expect(parseCidr("192.0.2.1")).to.deep.equal({ address: "192.0.2.1", prefix: 32, family: "ipv4" });
    for (const bad of ["10.0.0.0/33", "::1/129", "localhost", "10.0.0/8", "1.2.3.4/8/9", "1.2.3.4/x", ""]) expect(parseCidr(bad), bad).to.equal(undefined);
    expect(() => new TrustedProxies(["nope"])).to.throw('not an IP address or CIDR range: "nope"');
  });

  it("normalises IPv4-mapped IPv6, brackets and ports", () => {
    expect(normalizeIp("::ffff:127.0.0.1")).to.equal("127.0.0.1");
    expect(normalizeIp("[2001:db8::1]:4711")).to.equal("2001:db8::1");
    expect(normalizeIp("192.0.2.5:1234")).to.equal("192.0.2.5");
    expect(normalizeIp("unknown")).to.equal(undefined);
  });

  const cases: [string, string, Record<string, string>, string][] = [
    ["a direct client's headers are ignored", "198.51.100.7", { "x-forwarded-for": "203.0.113.9" }, "198.51.100.7"],
    ["a trusted proxy with no header is the address", "127.0.0.1", {}, "127.0.0.1"],
    ["the right-most untrusted XFF entry wins", "::ffff:127.0.0.1", { "x-forwarded-for": "6.6.6.6, 203.0.113.9, 10.1.2.3" }, "203.0.113.9"],
    ["an all-trusted chain gives its left-most entry", "127.0.0.1", { "x-forwarded-for": "10.0.0.5, 10.0.0.6" }, "10.0.0.5"],
    ["a malformed entry stops the walk", "127.0.0.1", { "x-forwarded-for": "203.0.113.9, garbage, 10.0.0.6" }, "10.0.0.6"],
    ["Forwarded for= (quoted IPv6 with port)", "::1", { forwarded: 'for="[2001:db8:cafe::17]:4711";proto=https, for=10.0.0.2' }, "2001:db8:cafe::17"],
    ["XFF is preferred over Forwarded", "127.0.0.1", { "x-forwarded-for": "203.0.113.1", forwarded: "for=203.0.113.2" }, "203.0.113.1"],
  ];
  for (const [what, socket, headers, expected] of cases) {
    it(what, () => expect(clientAddress(socket, headers, local)).to.equal(expected));
  }

  it("an empty trust list trusts no header", () => {
    expect(clientAddress("127.0.0.1", { "x-forwarded-for": "203.0.113.9" }, new TrustedProxies([]))).to.equal("127.0.0.1");
  });
});
