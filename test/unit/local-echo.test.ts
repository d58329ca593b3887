import { expect } from "chai";
import { DEFAULT_CONFIG } from "../../core/config/portal-config.js";
import { fill } from "../../core/sessions/portal-session-handler.js";
import { makeHarness } from "./session-handler-fixture.js";

/** Issue 12 item 5: LOCALECHO never echoes input the game has masked (echo: false), whatever the protocol. */
describe("LOCALECHO and masked input", () => {
  const setup = (limits: Partial<typeof DEFAULT_CONFIG.limits> = {}) => {
    const h = makeHarness({ limits: { maxConnectionRate: 0, ...limits } });
    const s = h.connect();
    s.protocol_flags.LOCALECHO = true;
    return { h, s };
  };

  it("echoes typed lines, not the line typed after echo: false, and again after echo: true", () => {
    const { h, s } = setup();
    s.input("connect Alice");
    h.handler.data_out(s.sessid, [["text", ["Password:"], { options: { echo: false } }]]);
    expect(h.handler.inputMasked(s)).to.equal(true);
    s.input("hunter22");
    s.input("still masked");
    h.handler.data_out(s.sessid, [["text", ["Welcome, Alice!"], { options: { echo: true } }]]);
    expect(h.handler.inputMasked(s)).to.equal(false);
    s.input("look");
    expect(s.texts).to.deep.equal(["connect Alice", "Password:", "Welcome, Alice!", "look"]);
    // The game still gets every line.
    expect(h.channel.cmdsFor(s.sessid)).to.deep.equal([["text", ["connect Alice"], {}], ["text", ["hunter22"], {}], ["text", ["still masked"], {}], ["text", ["look"], {}]]);
  });

  it("output without an echo option leaves the state as it was (a \"Server restarted.\" during the prompt)", () => {
    const { h, s } = setup();
    h.handler.data_out(s.sessid, [["text", ["Password:"], { options: { echo: false } }]]);
    h.handler.data_out(s.sessid, [["text", ["Server restarted."], {}], ["prompt", ["> "], { options: {} }]]);
    s.input("hunter22");
    expect(s.texts).to.deep.equal(["Password:", "Server restarted."]);
  });

  it("an echo option on a prompt or an out-of-band instruction counts too; a non-boolean one is ignored", () => {
    const { h, s } = setup();
    h.handler.data_out(s.sessid, [["prompt", ["Password: "], { options: { echo: false } }]]);
    h.handler.data_out(s.sessid, [["text", ["x"], { options: { echo: "yes" } }]]);
    expect(h.handler.inputMasked(s)).to.equal(true);
    h.handler.data_out(s.sessid, [["client_options", [], { options: { echo: true } }]]);
    expect(h.handler.inputMasked(s)).to.equal(false);
  });

  it("the 'input not kept' notice does not repeat a masked line", () => {
    const { h, s } = setup({ pendingInputMax: 1 });
    h.channel.autoAck = false;
    h.handler.data_out(s.sessid, [["text", ["Password:"], { options: { echo: false } }]]);
    s.input("first-secret");
    s.input("second-secret");
    const dropped = s.texts.filter((t) => t.includes("was not kept"));
    expect(dropped).to.have.length(1);
    expect(dropped[0]).to.match(/\(hidden input\)$/);
    expect(s.texts.join("\n")).to.not.include("secret");
  });

  it("a text input whose argument is not a string, even one String() throws on, is echoed and reported without throwing (fuzz-websocket regression)", () => {
    // Found by test/torture/fuzz-websocket.test.ts: a web client's ["text", [{"toString": 1}], {}]
    // threw out of data_in (LOCALECHO, and the 'input not kept' notice).
    const { h, s } = setup({ pendingInputMax: 1 });
    h.channel.autoAck = false;
    const hostile = JSON.parse('{"toString": 1, "valueOf": 2}') as unknown;
    expect(() => {
      s.oob("text", [hostile]);
      s.oob("text", [hostile]);
      s.oob("text", [42]);
    }).to.not.throw();
    const dropped = s.texts.filter((t) => t.includes("was not kept"));
    expect(dropped).to.have.length(2);
    expect(dropped[0]).to.match(/: $/);
    expect(dropped[1]).to.match(/: 42$/);
    expect(h.channel.cmdsFor(s.sessid)).to.deep.equal([["text", [hostile], {}]]);
  });

  it("fill() fills only its own values: {constructor} and {__proto__} stay as written", () => {
    expect(fill("{servername} {constructor} {toString} {__proto__} {x}", { servername: "Portico" })).to.equal("Portico {constructor} {toString} {__proto__} {x}");
  });
});
