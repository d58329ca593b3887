import { expect } from "chai";
import { parseIrcLink, parseRssLink } from "../../../core/default-game/commands/bots.js";
import { parseOptionSetting } from "../../../core/default-game/commands/options.js";
import { firstAndRest, parseCommand, splitAssignment, words } from "../../../core/default-game/commands/parse.js";

describe("default game: command parsing", () => {
  it("splits verb, switches and arguments", () => {
    expect(parseCommand("  say   hello there ")).to.deep.equal({ raw: "say   hello there", verb: "say", switches: [], args: "hello there", word: "say" });
    expect(parseCommand("IRC2CHAN/List")).to.include({ verb: "irc2chan", args: "" }).and.to.have.deep.property("switches", ["list"]);
    expect(parseCommand("irc2chan/delete 3")).to.deep.include({ verb: "irc2chan", switches: ["delete"], args: "3" });
    expect(parseCommand("@ban 10.0.0.1 spam")).to.deep.include({ verb: "@ban", args: "10.0.0.1 spam" });
    expect(parseCommand("Public hi all")).to.deep.include({ verb: "public", word: "Public", args: "hi all" });
    expect(parseCommand("")).to.deep.include({ verb: "", args: "" });
  });

  it("knows the shortcuts : (pose) and \" (say)", () => {
    expect(parseCommand(":waves")).to.deep.include({ verb: "pose", args: "waves" });
    expect(parseCommand('"hello')).to.deep.include({ verb: "say", args: "hello" });
    expect(parseCommand("'hi")).to.deep.include({ verb: "say", args: "hi" });
  });

  it("helpers: assignment, words, first and rest", () => {
    expect(splitAssignment("public = irc.x.org 6667")).to.deep.equal({ left: "public", right: "irc.x.org 6667" });
    expect(splitAssignment("no equals")).to.equal(undefined);
    expect(words("  a  b c ")).to.deep.equal(["a", "b", "c"]);
    expect(firstAndRest("bob  being rude ")).to.deep.equal(["bob", "being rude"]);
    expect(firstAndRest("")).to.deep.equal(["", ""]);
  });

  it("options settings", () => {
    expect(parseOptionSetting("SCREENWIDTH=100")).to.deep.equal({ flag: "SCREENWIDTH", value: { 0: 100 } });
    expect(parseOptionSetting("screenheight 40")).to.deep.equal({ flag: "SCREENHEIGHT", value: { 0: 40 } });
    expect(parseOptionSetting("NOCOLOR=on")).to.deep.equal({ flag: "NOCOLOR", value: true });
    expect(parseOptionSetting("LOCALECHO=off")).to.deep.equal({ flag: "LOCALECHO", value: false });
    expect(parseOptionSetting("ENCODING=latin1")).to.deep.equal({ flag: "ENCODING", value: "latin-1" });
    expect(parseOptionSetting("ENCODING=UTF-8")).to.deep.equal({ flag: "ENCODING", value: "utf-8" });
    expect(parseOptionSetting("ENCODING=ebcdic")).to.deep.equal({ error: "ENCODING must be utf-8 or latin-1." });
    expect(parseOptionSetting("SCREENWIDTH=-3")).to.have.property("error").that.matches(/whole number/);
    expect(parseOptionSetting("SCREENWIDTH=1e3")).to.have.property("error");
    expect(parseOptionSetting("NOCOLOR=maybe")).to.deep.equal({ error: "NOCOLOR must be on or off." });
    expect(parseOptionSetting("RAW=on")).to.have.property("error").that.matches(/^You cannot set RAW/);
    expect(parseOptionSetting("x|r=1")).to.have.property("error").that.includes("x||r");
    expect(parseOptionSetting("NOCOLOR")).to.deep.equal({ error: "Usage: options NOCOLOR=<value>" });
  });

  it("irc2chan arguments", () => {
    expect(parseIrcLink("public = irc.libera.chat 6697 #portico portbot tls")).to.deep.equal({
      channel: "public",
      config: { network: "irc.libera.chat", port: 6697, channel: "#portico", botname: "portbot", ssl: true },
    });
    expect(parseIrcLink("public = 127.0.0.1 6667 #x bot")).to.deep.include({ channel: "public" });
    expect(parseIrcLink("public = irc.x 6697 #a,#b bot selfsigned TLS sasl=acct:pa:ss nickserv=pw")).to.deep.equal({
      channel: "public",
      config: { network: "irc.x", port: 6697, channels: ["#a", "#b"], botname: "bot", ssl: true, allowSelfSigned: true, sasl: { account: "acct", password: "pa:ss" }, nickservPassword: "pw" },
    });
    expect(parseIrcLink("public = irc.x 6667 #x bot frobnicate")).to.have.property("error").that.matches(/^Usage/);
    expect(parseIrcLink("public = irc.x 6667 #x bot sasl=nopassword")).to.have.property("error").that.matches(/^Usage/);
    expect(parseIrcLink("public irc.x 6667 #x bot")).to.have.property("error").that.matches(/^Usage/);
    expect(parseIrcLink("public = irc.x 99999 #x bot")).to.have.property("error").that.matches(/port/);
    expect(parseIrcLink("public = irc.x 6667 x bot")).to.have.property("error").that.matches(/IRC channel/);
    expect(parseIrcLink("public = irc.x 6667 #x 9bot")).to.have.property("error").that.matches(/nick/);
    expect(parseIrcLink("public = bad_host! 6667 #x bot")).to.have.property("error").that.matches(/not a host/);
  });

  it("rss2chan arguments", () => {
    expect(parseRssLink("public = https://example.org/feed.xml")).to.deep.equal({ channel: "public", config: { url: "https://example.org/feed.xml", rate: 600 } });
    expect(parseRssLink("news = http://example.org/rss 120")).to.deep.include({ channel: "news" }).and.to.have.nested.property("config.rate", 120);
    expect(parseRssLink("news = ftp://example.org/rss")).to.have.property("error").that.matches(/http/);
    expect(parseRssLink("news = not a url")).to.have.property("error");
    // Short intervals are the portal's to raise (minIntervalSeconds); the game allows 1 to 86400.
    expect(parseRssLink("news = https://e.org/ 5")).to.have.nested.property("config.rate", 5);
    for (const bad of ["0", "86401", "1.5", "x"]) expect(parseRssLink(`news = https://e.org/ ${bad}`), bad).to.have.property("error").that.matches(/interval/);
  });
});
