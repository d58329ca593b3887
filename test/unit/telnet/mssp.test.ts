import { expect } from "chai";
import { MsspOption, encodeMssp, msspPlaintext, msspTable } from "../../../plugins/telnet/options/mssp.js";
import { recordingContext } from "./option-fixture.js";

/** Parses an MSSP payload into name → values. */
function parseMssp(payload: Buffer): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  let name: string | undefined;
  let i = 0;
  while (i < payload.length) {
    const kind = payload[i]!;
    let end = i + 1;
    while (end < payload.length && payload[end]! > 2) end++;
    const text = payload.toString("utf8", i + 1, end);
    if (kind === 1) {
      name = text;
      out[name] ??= [];
    } else if (kind === 2 && name !== undefined) out[name]!.push(text);
    i = end;
  }
  return out;
}

describe("MSSP", () => {
  it("encodes VAR/VAL pairs, a list repeating VAL", () => {
    const payload = encodeMssp({ NAME: "Test", PORT: ["4000", "4001"] });
    expect(payload.toString("latin1")).to.equal("\x01NAME\x02Test\x01PORT\x024000\x024001");
  });

  it("strips VAR, VAL, NUL and 0xFF from names and values", () => {
    expect(encodeMssp({ "A\x01B": "x\x02y\x00z\xff" }).toString("latin1")).to.equal("\x01AB\x02xyz");
  });

  it("has the required and generic fields; UPTIME is an integer epoch; PLAYERS counts logins", () => {
    const ctx = recordingContext();
    ctx.playerCount = 3;
    const table = msspTable(ctx, 4000, false);
    expect(table.NAME).to.equal("TestMUD");
    expect(table.PLAYERS).to.equal("3");
    expect(table.UPTIME).to.equal("1700000000");
    expect(table.UPTIME).to.match(/^\d+$/);
    expect(table.PORT).to.deep.equal(["4000"]);
    expect(table["CRAWL DELAY"]).to.equal("-1");
    for (const [k, v] of Object.entries(table)) expect(typeof v === "string" || Array.isArray(v), k).to.equal(true);
  });

  it("TLS ports are given as port numbers under both TLS and SSL, never as 1", () => {
    const tls = msspTable(recordingContext(), 4003, true);
    expect(tls.SSL).to.deep.equal(["4003"]);
    expect(tls.TLS).to.deep.equal(["4003"]);
    expect(tls.PORT).to.deep.equal([]);
    const plain = msspTable(recordingContext({ msspTlsPorts: [4003] }), 4000, false);
    expect(plain.PORT).to.deep.equal(["4000"]);
    expect(plain.SSL).to.deep.equal(["4003"]);
    expect(plain.TLS).to.deep.equal(["4003"]);
    const none = msspTable(recordingContext(), 4000, false);
    expect(none.SSL).to.not.equal("1");
    expect(none.TLS ?? "0").to.not.equal("1");
  });

  it("configured ports and the game's table override the defaults", () => {
    const ctx = recordingContext({ msspPorts: [23, 4000], msspTable: { FAMILY: "DikuMUD", CONTACT: "a@b.c", PORT: ["7777"] } });
    const table = msspTable(ctx, 4000, false);
    expect(table.FAMILY).to.equal("DikuMUD");
    expect(table.CONTACT).to.equal("a@b.c");
    expect(table.PORT).to.deep.equal(["7777"]);
    expect(msspTable(recordingContext({ msspPorts: [23, 4000] }), 4000, false).PORT).to.deep.equal(["23", "4000"]);
  });

  it("the plaintext reply lists every variable between the markers", () => {
    const text = msspPlaintext({ NAME: "Test", PORT: ["4000", "4001"] });
    expect(text.split("\r\n")).to.deep.equal(["", "MSSP-REPLY-START", "NAME\tTest", "PORT\t4000\t4001", "MSSP-REPLY-END", ""]);
  });

  it("sends the table once on DO, and nothing on DONT", () => {
    const ctx = recordingContext();
    const opt = new MsspOption(ctx);
    opt.offer();
    expect(ctx.written).to.deep.equal(["WILL 70"]);
    opt.handleDo();
    expect(ctx.subnegotiations).to.have.length(1);
    expect(ctx.subnegotiations[0]!.code).to.equal(70);
    const parsed = parseMssp(ctx.subnegotiations[0]!.payload);
    expect(parsed.NAME).to.deep.equal(["TestMUD"]);
    expect(parsed.PORT).to.deep.equal(["4000"]);
    opt.handleDo();
    expect(ctx.subnegotiations).to.have.length(1);

    const refused = recordingContext();
    const opt2 = new MsspOption(refused);
    opt2.offer();
    opt2.handleDont();
    expect(refused.subnegotiations).to.have.length(0);
  });
});

export { parseMssp };
