import { expect } from "chai";
import { stripMarkup } from "../../../core/render/strip.js";
import {
  cleanNick, formatTemplate, gameToIrc, ircToGame, MAX_NICK_LENGTH, noPingNick, sanitizeOutgoing, ZWSP,
} from "../../../plugins/irc/irc-text.js";

/** Anything that could end an IRC line, truncate it, or start a CTCP. */
const WIRE_DANGER = /[\r\n\0\x01]/;

describe("irc-text", () => {
  describe("sanitizeOutgoing", () => {
    it("turns CR/LF into spaces so no command can be injected", () => {
      expect(sanitizeOutgoing("hi\r\nQUIT :bye")).to.equal("hi QUIT :bye");
      expect(sanitizeOutgoing("a\rb\nc\r\n\r\nd")).to.equal("a b c  d");
    });

    it("removes NUL", () => {
      expect(sanitizeOutgoing("\0")).to.equal("");
      expect(sanitizeOutgoing("a\0b")).to.equal("ab");
    });

    it("keeps the mIRC formatting codes", () => {
      const formatted = "\x02b\x02 \x0304,02c\x0f \x16r\x16 \x1di\x1d \x1fu\x1f \x1es\x1e \x11m\x11";
      expect(sanitizeOutgoing(formatted)).to.equal(formatted);
    });

    it("removes other controls (CTCP \\x01, bell, \\x04, DEL, C1) and ESC sequences; TAB becomes a space", () => {
      expect(sanitizeOutgoing("\x01VERSION\x01")).to.equal("VERSION");
      expect(sanitizeOutgoing("a\x07b\x04c\x7fd\x85e\x9b31mf")).to.equal("abcdef");
      expect(sanitizeOutgoing("\x1b[31mred\x1b[0m \x1b]0;title\x07ok\x1b")).to.equal("red ok");
      expect(sanitizeOutgoing("a\tb")).to.equal("a b");
    });

    it("keeps ordinary text, including multi-byte characters and emoji", () => {
      expect(sanitizeOutgoing("héllo 中文 😀 | {x}")).to.equal("héllo 中文 😀 | {x}");
    });

    it("no random mix of dangerous characters survives, directly or through gameToIrc", () => {
      const pieces = ["\r", "\n", "\0", "\x01", "\x1b", "[", "]", "31m", "|", "/", "a", " ", "QUIT", "\x03", "\x85", "\u2028", "😀"];
      let seed = 3;
      const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
      for (let round = 0; round < 500; round++) {
        let text = "";
        for (let i = 0; i < 30; i++) text += pieces[Math.floor(rand() * pieces.length)]!;
        expect(WIRE_DANGER.test(sanitizeOutgoing(text)), JSON.stringify(text)).to.equal(false);
        expect(WIRE_DANGER.test(gameToIrc(text)), JSON.stringify(text)).to.equal(false);
        expect(sanitizeOutgoing(text).includes("\x1b")).to.equal(false);
      }
    });
  });

  describe("gameToIrc", () => {
    it("CR/LF/NUL injection attempts never survive", () => {
      for (const attack of ["hi\r\nQUIT :bye", "hi\nPRIVMSG #x :owned", "hi\rJOIN #evil", "a\0b", "\0", "|/QUIT :x", "x\x01ACTION y\x01"]) {
        const out = gameToIrc(attack);
        expect(WIRE_DANGER.test(out), JSON.stringify(attack)).to.equal(false);
      }
      expect(gameToIrc("hi\r\nQUIT :bye")).to.equal("hi QUIT :bye");
      expect(gameToIrc("line|/QUIT :bye")).to.equal("line QUIT :bye");
    });

    it("turns markup into mIRC colours", () => {
      expect(gameToIrc("|rred|n plain")).to.equal("\x0304red\x0f plain");
      expect(gameToIrc("|hbold|H x")).to.equal("\x02bold\x02 x");
      expect(gameToIrc("a||b")).to.equal("a|b");
    });
  });

  describe("ircToGame", () => {
    it("turns mIRC colours into markup", () => {
      expect(ircToGame("\x0304red\x0f plain")).to.equal("|rred|n plain");
      expect(ircToGame("\x02bold\x02 x")).to.equal("|hbold|H x");
    });

    it("colours round-trip both ways", () => {
      for (const markup of ["|rred|n", "|hbold|H x", "|G|[Bx|n", "|ii|I|uu|U x", "a||b", "|*rev|n x"]) {
        expect(ircToGame(gameToIrc(markup)), markup).to.equal(markup);
      }
      for (const irc of ["\x0304red", "\x02bold\x02 plain", "\x0303,02x", "\x1dital\x1d x", "a|b"]) {
        expect(gameToIrc(ircToGame(irc)), JSON.stringify(irc)).to.equal(irc);
      }
    });

    it("strips raw ANSI escapes and control codes from IRC", () => {
      expect(ircToGame("\x1b[31mred\x1b[0m")).to.equal("red");
      expect(ircToGame("a\x07b\0c\rd\ne\x01f\x7fg\x9b31mh")).to.equal("abcdefgh");
      const out = ircToGame("\x1b]0;title\x07\x1b[2J\x1bcx");
      expect(out).to.equal("x");
      expect(/[\x00-\x08\x0a-\x1f\x7f-\x9f]/.test(ircToGame("\x1b[1;31m\x0e\x0f\x10x\x85"))).to.equal(false);
    });

    it("escapes | so IRC users cannot inject game markup", () => {
      expect(ircToGame("a|rb")).to.equal("a||rb");
      const attack = "|r|[b|lcquit|ltclick|le|n|/";
      expect(stripMarkup(ircToGame(attack))).to.equal(attack);
    });
  });

  describe("noPingNick", () => {
    it("inserts a zero-width space after the first character", () => {
      expect(noPingNick("Alice")).to.equal("A\u200blice");
      expect(noPingNick("Alice")).to.not.equal("Alice");
      expect(noPingNick("B")).to.equal("B" + ZWSP);
      expect(noPingNick("")).to.equal("");
    });

    it("does not split a surrogate pair or a leading colour code", () => {
      expect(noPingNick("😀bob")).to.equal("😀\u200bbob");
      expect(noPingNick("\x0304Alice")).to.equal("\x0304A\u200blice");
    });
  });

  describe("formatTemplate", () => {
    it("fills the relay templates", () => {
      expect(formatTemplate("[{channel}] {nick}: {text}", { channel: "public", nick: "Alice", text: "hello" }))
        .to.equal("[public] Alice: hello");
      expect(formatTemplate("[{channel}] {nick}@{ircchannel}: {text}", { channel: "public", nick: "bob", ircchannel: "#chan", text: "hi" }))
        .to.equal("[public] bob@#chan: hi");
    });

    it("leaves unknown placeholders and inherited names alone", () => {
      expect(formatTemplate("{nick} {unknown} {constructor} {toString} {}", { nick: "A" })).to.equal("A {unknown} {constructor} {toString} {}");
    });

    it("inserts values literally, without expanding placeholders inside them", () => {
      expect(formatTemplate("{nick}: {text}", { nick: "{text}", text: "{nick} $& $1" })).to.equal("{text}: {nick} $& $1");
    });

    it("fills repeated placeholders", () => {
      expect(formatTemplate("{user}/{user}", { user: "u" })).to.equal("u/u");
    });
  });

  describe("cleanNick", () => {
    it("removes controls, mIRC formatting and escape sequences", () => {
      expect(cleanNick("\x0304,02Evil\x0f\x02Nick\x1b[31m\x00\r\n")).to.equal("EvilNick");
      expect(cleanNick("bo\x07b")).to.equal("bob");
    });

    it("neutralises markup so the nick shows the same in markup and in plain text", () => {
      const nick = cleanNick("bob|away|r");
      expect(nick.includes("|")).to.equal(false);
      expect(nick).to.equal("bob¦away¦r");
      expect(stripMarkup(nick)).to.equal(nick);
    });

    it("removes invisible format characters such as bidi overrides and zero-width spaces", () => {
      expect(cleanNick("ad\u202emin\u200b")).to.equal("admin");
      expect(cleanNick(noPingNick("Alice"))).to.equal("Alice");
    });

    it("caps the length on a code point boundary", () => {
      expect(Array.from(cleanNick("n".repeat(500)))).to.have.length(MAX_NICK_LENGTH);
      const emoji = cleanNick("😀".repeat(100));
      expect(Array.from(emoji)).to.have.length(MAX_NICK_LENGTH);
      expect(Buffer.from(emoji, "utf8").toString("utf8")).to.equal(emoji);
    });

    it("keeps ordinary IRC nicks", () => {
      for (const nick of ["bob", "Alice_", "[m]ark", "x^y", "a-b`c{d}\\"]) expect(cleanNick(nick)).to.equal(nick);
    });
  });
});
