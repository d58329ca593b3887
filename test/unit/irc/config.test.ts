import { expect } from "chai";
import { PortalError } from "../../../core/index.js";
import { parseIrcConfig } from "../../../plugins/irc/config.js";

const P = "plugins.irc.IrcBotFactory";
const BASE = { uid: "irc:1", nick: "portico", host: "irc.example.org", channels: ["#mygame"] };

function expectField(raw: Record<string, unknown>, field: string, problem?: string): void {
  try {
    parseIrcConfig(raw);
  } catch (err) {
    expect(err).to.be.instanceOf(PortalError);
    const e = err as PortalError;
    expect(e.code).to.equal("PORTAL_ERR_PLUGIN_CONFIG");
    expect(e.details).to.deep.equal({ plugin: P, field });
    if (problem !== undefined) expect(e.message).to.equal(`${P} config "${field}": ${problem}`);
    return;
  }
  expect.fail(`IRC config ${JSON.stringify(raw)} was accepted`);
}

describe("IRC config (ircConfigSchema)", () => {
  it("defaults are the ones the hand-written reader had", () => {
    expect(parseIrcConfig(BASE)).to.deep.equal({
      uid: "irc:1",
      nick: "portico",
      host: "irc.example.org",
      port: 6667,
      tls: false,
      allowSelfSigned: false,
      channels: ["#mygame"],
      sasl: null,
      nickservPassword: null,
      realname: "Portico IRC bridge",
      relayFormat: "[{channel}] {nick}: {text}",
      actionFormat: "[{channel}] {nick} {text}",
      relayJoinPart: false,
      ignore: [],
      flood: { ratePerSec: 1, burst: 3, queueMax: 100 },
      lineLength: 512,
      registrationTimeoutMs: 30_000,
      pingTimeoutMs: 120_000,
      rejoinDelayMs: 2000,
      reconnect: { initialMs: 1000, factor: 1.5, maxMs: 60_000, jitter: 0.2 },
    });
  });

  it("accepts Evennia's keys (botname, network, ssl, channel); Portico's win when both are given", () => {
    const c = parseIrcConfig({ uid: 7, botname: "evbot", network: "irc.libera.chat", ssl: true, channel: "#evennia" });
    expect([c.uid, c.nick, c.host, c.tls, c.port, c.channels]).to.deep.equal([7, "evbot", "irc.libera.chat", true, 6697, ["#evennia"]]);
    const both = parseIrcConfig({ ...BASE, tls: false, botname: "other", network: "other.example", ssl: true, channel: "#other" });
    expect([both.nick, both.host, both.tls, both.port, both.channels]).to.deep.equal(["portico", "irc.example.org", false, 6667, ["#mygame"]]);
    expect(both).to.not.have.any.keys("botname", "network", "ssl", "channel");
  });

  it("fills the TLS port, cleans realname, lowercases ignore, dedupes channels, treats an empty NickServ password as none", () => {
    const c = parseIrcConfig({ ...BASE, tls: true, realname: "a\r\nb", ignore: ["OtherBridge"], channels: ["#a", "#a", "#b"], nickservPassword: "" });
    expect([c.port, c.realname, c.ignore, c.channels, c.nickservPassword]).to.deep.equal([6697, "a  b", ["otherbridge"], ["#a", "#b"], null]);
    expect(parseIrcConfig({ ...BASE, tls: true, port: 7000 }).port).to.equal(7000);
    expect(parseIrcConfig({ ...BASE, realname: "x".repeat(150) }).realname).to.have.length(100);
    expect(parseIrcConfig({ ...BASE, sasl: { account: "bot", password: "pw" } }).sasl).to.deep.equal({ account: "bot", password: "pw" });
    expect(parseIrcConfig({ ...BASE, flood: { burst: 5 } }).flood).to.deep.equal({ ratePerSec: 1, burst: 5, queueMax: 100 });
  });

  it("bad values name the key path", () => {
    expectField({ ...BASE, uid: undefined }, "uid", "expected the game's id for this bot");
    expectField({ ...BASE, nick: "1bad" }, "nick", 'not a valid IRC nick: "1bad"');
    expectField({ ...BASE, nick: undefined, botname: "bad nick" }, "nick", 'not a valid IRC nick: "bad nick"');
    expectField({ ...BASE, host: "bad host" }, "host", 'not a host name or address: "bad host"');
    expectField({ ...BASE, port: 0 }, "port", "must be between 1 and 65535, got 0");
    expectField({ ...BASE, channels: [] }, "channels", "expected one to twenty IRC channel names such as #mygame");
    expectField({ ...BASE, channels: "#a" }, "channels", "expected one to twenty IRC channel names such as #mygame");
    expectField({ ...BASE, channels: Array.from({ length: 21 }, (_, i) => `#c${i}`) }, "channels");
    expectField({ ...BASE, channels: ["#ok", "nohash"] }, "channels[1]", 'not an IRC channel name such as #mygame: "nohash"');
    expectField({ ...BASE, sasl: { account: "bot" } }, "sasl.password", "missing, expected a string");
    expectField({ ...BASE, sasl: { account: "", password: "x" } }, "sasl.account", "must not be empty");
    expectField({ ...BASE, relayFormat: "no placeholder" }, "relayFormat", "must contain {text} and no line breaks");
    expectField({ ...BASE, actionFormat: "{text}\n" }, "actionFormat", "must contain {text} and no line breaks");
    expectField({ ...BASE, flood: { ratePerSec: 0 } }, "flood.ratePerSec", "must be between 0.05 and 100, got 0");
    expectField({ ...BASE, flood: { rate: 1 } }, "flood.rate", "unknown key");
    expectField({ ...BASE, reconnect: { jitter: 2 } }, "reconnect.jitter", "must be between 0 and 1, got 2");
    expectField({ ...BASE, ignore: ["ok", 5] }, "ignore[1]", "expected a string, got 5");
    expectField({ ...BASE, nickservPassword: 5 }, "nickservPassword");
    expectField({ ...BASE, colour: true }, "colour", "unknown key");
  });
});
