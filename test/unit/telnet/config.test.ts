import { expect } from "chai";
import { PortalError } from "../../../core/index.js";
import { parseTelnetConfig } from "../../../plugins/telnet/config.js";

const P = "plugins.telnet.TelnetFactory";

function rejected(raw: unknown): PortalError {
  try {
    parseTelnetConfig(raw);
  } catch (err) {
    expect(err).to.be.instanceOf(PortalError);
    return err as PortalError;
  }
  return expect.fail(`telnet config ${JSON.stringify(raw)} was accepted`);
}

function expectField(raw: unknown, field: string, problem?: string): void {
  const err = rejected(raw);
  expect(err.code).to.equal("PORTAL_ERR_PLUGIN_CONFIG");
  expect(err.details).to.deep.equal({ plugin: P, field });
  if (problem !== undefined) expect(err.message).to.equal(`${P} config "${field}": ${problem}`);
}

describe("telnet config (telnetConfigSchema)", () => {
  it("defaults are the ones the hand-written reader had", () => {
    expect(parseTelnetConfig({})).to.deep.equal({
      host: "0.0.0.0",
      port: 4000,
      tls: null,
      backlog: 4096,
      mccp: true,
      mccpLevel: 6,
      mccpWindowBits: 12,
      mccpMemLevel: 5,
      oob: true,
      mxp: true,
      mssp: true,
      msspTable: {},
      msspPorts: [],
      msspTlsPorts: [],
      handshakeTimeoutMs: 2000,
      keepaliveMs: 30_000,
      maxLineBytes: 65_536,
      maxSubnegotiationBytes: 65_536,
      partialInputTimeoutMs: 120_000,
      nawsDebounceMs: 250,
      defaultWidth: 78,
      defaultHeight: 45,
      maxWidth: 1000,
      maxHeight: 1000,
      maxBufferedBytes: 4 * 1024 * 1024,
    });
  });

  it("the port defaults to 4003 with tls, 4000 without; a given port wins", () => {
    const tls = { certFile: "/etc/tls/fullchain.pem", keyFile: "/etc/tls/privkey.pem" };
    expect(parseTelnetConfig({ tls }).port).to.equal(4003);
    expect(parseTelnetConfig({ tls }).tls).to.deep.equal(tls);
    expect(parseTelnetConfig({ tls: null }).port).to.equal(4000);
    expect(parseTelnetConfig({ tls, port: 0 }).port).to.equal(0);
    expect(parseTelnetConfig({ port: 5000 }).port).to.equal(5000);
  });

  it("keeps given values, MSSP tables and port lists", () => {
    const c = parseTelnetConfig({ host: "127.0.0.1", mccp: false, msspTable: { GENRE: "Fantasy", CODEBASE: ["Portico", "1"] }, msspTlsPorts: [4003] });
    expect([c.host, c.mccp, c.msspTable, c.msspTlsPorts]).to.deep.equal(["127.0.0.1", false, { GENRE: "Fantasy", CODEBASE: ["Portico", "1"] }, [4003]]);
  });

  it("bad values name the key path", () => {
    expectField({ tls: { keyFile: "k" } }, "tls.certFile", "missing, expected a string");
    expectField({ tls: { certFile: "c", keyFile: "" } }, "tls.keyFile", "must not be empty");
    expectField({ tls: "yes" }, "tls", 'expected an object, got "yes"');
    expectField({ tls: { certFile: "c", keyFile: "k", ca: "x" } }, "tls.ca", "unknown key");
    expectField({ port: 70000 }, "port", "must be between 0 and 65535, got 70000");
    expectField({ port: 4000.5 }, "port", "expected a whole number, got 4000.5");
    expectField({ mccpLevel: 10 }, "mccpLevel", "must be between 1 and 9, got 10");
    expectField({ backlog: 0 }, "backlog", "must be between 1 and 65535, got 0");
    expectField({ backlog: 511.5 }, "backlog", "expected a whole number, got 511.5");
    expectField({ mccp: "on" }, "mccp", 'expected true or false, got "on"');
    expectField({ msspTable: { GENRE: 5 } }, "msspTable.GENRE", "expected a string or a list of strings");
    expectField({ msspTable: [] }, "msspTable", "expected an object, got a list");
    expectField({ msspPorts: [4000, 0] }, "msspPorts[1]", "must be between 1 and 65535, got 0");
    expectField({ colour: true }, "colour", "unknown key");
    expectField(null, "(root)", "expected an object, got null");
  });
});
