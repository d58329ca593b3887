import { expect } from "chai";
import {
  MIN_TEXT_BUDGET, relayPrefixBytes, splitMessage, splitWithPrefix, textBudget, utf8Bytes,
} from "../../../plugins/irc/line-splitter.js";
import { prng } from "../../support/prng.js";

const bytes = (s: string): number => Buffer.byteLength(s, "utf8");
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Every part fits, is valid UTF-16/UTF-8 on its own, and the parts join back to the text. */
function expectSound(text: string, parts: readonly string[], budget: number): void {
  for (const part of parts) {
    expect(part).to.not.equal("");
    expect(bytes(part), JSON.stringify(part)).to.be.at.most(budget);
    expect(LONE_SURROGATE.test(part), `lone surrogate in ${JSON.stringify(part)}`).to.equal(false);
    expect(Buffer.from(part, "utf8").toString("utf8")).to.equal(part);
  }
  expect(parts.join("")).to.equal(text);
}

describe("irc line-splitter", () => {
  describe("relayPrefixBytes", () => {
    it("counts :nick!user@host and the space", () => {
      expect(relayPrefixBytes("bot", "~bot", "example.org")).to.equal(1 + 3 + 1 + 4 + 1 + 11 + 1);
    });
    it("uses generous defaults for an unknown user and host", () => {
      expect(relayPrefixBytes("bot")).to.equal(1 + 3 + 1 + 10 + 1 + 63 + 1);
      expect(relayPrefixBytes("bot", "", "")).to.equal(relayPrefixBytes("bot"));
    });
    it("counts UTF-8 bytes, not characters", () => {
      expect(relayPrefixBytes("bötß", "u", "h")).to.equal(1 + 6 + 1 + 1 + 1 + 1 + 1);
    });
  });

  describe("textBudget", () => {
    const nick = "PorticoBridgeBot";
    const user = "~portico";
    const host = "a".repeat(20) + ".very-long-reverse-dns-name.example-isp.net"; // 63 bytes
    const target = "#evennia";

    it("a relayed PRIVMSG with exactly the budget fills a 512-byte line, CRLF included", () => {
      expect(bytes(host)).to.equal(63);
      const budget = textBudget({ target, nick, user, host });
      expect(budget).to.equal(512 - 2 - (1 + 16 + 1 + 8 + 1 + 63 + 1) - bytes("PRIVMSG ") - 8 - 2);
      const line = (text: string): string => `:${nick}!${user}@${host} PRIVMSG ${target} :${text}\r\n`;
      expect(bytes(line("x".repeat(budget)))).to.equal(512);
      expect(bytes(line("x".repeat(budget + 1)))).to.equal(513);
    });

    it("an ACTION loses the \\x01ACTION …\\x01 wrapper", () => {
      const plain = textBudget({ target, nick, user, host });
      const action = textBudget({ target, nick, user, host, action: true });
      expect(action).to.equal(plain - 9);
      const line = `:${nick}!${user}@${host} PRIVMSG ${target} :\x01ACTION ${"x".repeat(action)}\x01\r\n`;
      expect(bytes(line)).to.equal(512);
    });

    it("defaults to unknown user/host being long, so the budget is smaller", () => {
      const known = textBudget({ target, nick, user: "~p", host: "h.example" });
      const unknown = textBudget({ target, nick });
      expect(unknown).to.equal(512 - 2 - relayPrefixBytes(nick) - 8 - 8 - 2);
      expect(unknown).to.be.below(known);
    });

    it("uses ISUPPORT LINELEN when given and 512 for nonsense", () => {
      expect(textBudget({ lineLength: 1024, target, nick, user, host }) - textBudget({ target, nick, user, host })).to.equal(512);
      expect(textBudget({ lineLength: Number.NaN, target, nick })).to.equal(textBudget({ target, nick }));
      expect(textBudget({ lineLength: 0, target, nick })).to.equal(textBudget({ target, nick }));
    });

    it("never goes below the floor", () => {
      expect(textBudget({ lineLength: 100, target: "#" + "c".repeat(200), nick })).to.equal(MIN_TEXT_BUDGET);
    });
  });

  describe("splitMessage", () => {
    it("empty text gives no parts", () => {
      expect(splitMessage("", 100)).to.deep.equal([]);
    });

    it("short text is one part", () => {
      expect(splitMessage("hello world", 100)).to.deep.equal(["hello world"]);
      expect(splitMessage("hello", 5)).to.deep.equal(["hello"]);
    });

    it("splits before the last space that fits; the space starts the next part (servers strip trailing spaces)", () => {
      expect(splitMessage("hello world foo", 12)).to.deep.equal(["hello world", " foo"]);
      expect(splitMessage("hello world foo", 8)).to.deep.equal(["hello", " world", " foo"]);
      expect(splitMessage("aaa bb", 4)).to.deep.equal(["aaa", " bb"]);
      expect(splitMessage("aa   bb cc", 6)).to.deep.equal(["aa", "   bb", " cc"]);
    });

    it("a word longer than the budget is cut hard", () => {
      expect(splitMessage("abcdefghij", 4)).to.deep.equal(["abcd", "efgh", "ij"]);
      expect(splitMessage("x abcdefghij", 5)).to.deep.equal(["x", " abcd", "efghi", "j"]);
    });

    it("does not make a part of spaces only", () => {
      const parts = splitMessage("   " + "a".repeat(20), 10);
      expect(parts[0]).to.equal("   aaaaaaa");
      expectSound("   " + "a".repeat(20), parts, 10);
    });

    it("a 2 000-byte ASCII message: all parts fit, nothing is lost, cuts are at spaces", () => {
      const words = ["portico", "bridges", "game", "chat", "to", "irc", "without", "losing", "a", "byte"];
      let text = "";
      for (let i = 0; text.length < 2000; i++) text += words[i % words.length] + (i % 7 === 6 ? ", " : " ");
      text = text.slice(0, 2000);
      expect(bytes(text)).to.equal(2000);
      const budget = textBudget({ target: "#chan", nick: "PorticoBot" });
      const parts = splitMessage(text, budget);
      expectSound(text, parts, budget);
      expect(parts.length).to.be.within(Math.ceil(2000 / budget), Math.ceil(2000 / budget) + 1);
      for (const part of parts.slice(0, -1)) expect(part.endsWith(" ")).to.equal(false);
      for (const part of parts.slice(1)) expect(part.startsWith(" ")).to.equal(true);
    });

    it("a 2 000-byte message of multi-byte characters and emoji, with and without spaces", () => {
      const pieces = ["é", "€", "中文", "😀", "👍🏽", "👨‍👩‍👧", "🇫🇷", "é", "ẞ", "𝄞", "a"];
      for (const sep of [" ", ""]) {
        let text = "";
        for (let i = 0; bytes(text) < 2000; i++) text += pieces[i % pieces.length]! + (i % 3 === 2 ? sep : "");
        expect(bytes(text)).to.be.at.least(2000);
        for (const budget of [4, 5, 7, 64, 399, 400, 401]) expectSound(text, splitMessage(text, budget), budget);
      }
    });

    it("never cuts a surrogate pair", () => {
      const text = "😀".repeat(50); // 4 bytes, 2 UTF-16 units each
      for (const budget of [4, 5, 6, 7, 9, 10, 11]) {
        const parts = splitMessage(text, budget);
        expectSound(text, parts, budget);
        for (const part of parts) expect(bytes(part) % 4).to.equal(0);
      }
    });

    it("keeps a grapheme cluster together when it fits", () => {
      const family = "👨‍👩‍👧"; // 18 bytes, 8 UTF-16 units
      const text = "a".repeat(30) + family + "b".repeat(10);
      const parts = splitMessage(text, 40);
      expect(parts[0]).to.equal("a".repeat(30));
      expect(parts[1]!.startsWith(family)).to.equal(true);
      expectSound(text, parts, 40);
      const accents = "e\u0301".repeat(30); // e + combining acute, 3 bytes each
      const accentParts = splitMessage(accents, 10);
      for (const part of accentParts) expect(part.startsWith("\u0301")).to.equal(false);
      expectSound(accents, accentParts, 10);
    });

    it("does not cut inside an mIRC colour sequence, and moves codes to the text they colour", () => {
      const text = "a".repeat(17) + "\x0304,02" + "colour" + "b".repeat(20);
      for (const cutAt of [18, 19, 20, 21, 22, 23]) {
        const parts = splitMessage(text, cutAt);
        expect(parts[0], `budget ${cutAt}`).to.equal("a".repeat(17));
        expect(parts[1]!.startsWith("\x0304,02col")).to.equal(true);
        expectSound(text, parts, cutAt);
      }
      const bold = "a".repeat(9) + "\x02" + "b".repeat(9);
      expect(splitMessage(bold, 10)).to.deep.equal(["a".repeat(9), "\x02" + "b".repeat(9)]);
      const hex = "a".repeat(5) + "\x04ff8000,000080" + "x".repeat(5);
      expect(splitMessage(hex, 12)[0]).to.equal("aaaaa");
    });

    it("random text with spaces, controls and astral characters always splits soundly", () => {
      const alphabet = ["a", "b", " ", " ", "é", "中", "😀", "\x03", "4", ",", "\x02", "👨‍👩‍👧", "e\u0301", "|"];
      const next = prng(42);
      for (let round = 0; round < 300; round++) {
        let text = "";
        const length = Math.floor(next() * 200);
        for (let i = 0; i < length; i++) text += alphabet[Math.floor(next() * alphabet.length)]!;
        const budget = 4 + Math.floor(next() * 60);
        expectSound(text, splitMessage(text, budget), budget);
      }
    });

    it("rejects a budget too small for any code point", () => {
      expect(() => splitMessage("abc", 3)).to.throw(RangeError);
      expect(() => splitMessage("abc", Number.NaN)).to.throw(RangeError);
    });

    it("handles a 10 000-character message", () => {
      const text = "word ".repeat(2000);
      const parts = splitMessage(text, 400);
      expectSound(text, parts, 400);
      expect(parts.length).to.equal(26);
      for (const part of parts.slice(0, -1)) expect(part.endsWith(" ")).to.equal(false);
    });
  });

  describe("splitWithPrefix", () => {
    const prefix = "[public] Alice: ";

    it("puts the prefix on every part and counts it in the budget", () => {
      let text = "";
      for (let i = 0; bytes(text) < 2000; i++) text += `word${i} ✓ `;
      const budget = 400;
      const parts = splitWithPrefix(prefix, text, budget);
      expect(parts.length).to.be.greaterThan(4);
      for (const part of parts) {
        expect(part.startsWith(prefix)).to.equal(true);
        expect(bytes(part)).to.be.at.most(budget);
      }
      expect(parts.map((p) => p.slice(prefix.length)).join("")).to.equal(text);
    });

    it("empty text gives no parts", () => {
      expect(splitWithPrefix(prefix, "", 400)).to.deep.equal([]);
    });

    it("a prefix that leaves too little room is truncated on a code point boundary", () => {
      const longPrefix = "[public] " + "Ä😀".repeat(60) + ": "; // far more than the budget
      const text = "hello world ".repeat(20);
      const budget = 100;
      // at most half the budget (50 bytes) for the prefix: 9 + 6 × 6 + 2 = 47, the next 😀 would make 51
      const head = "[public] " + "Ä😀".repeat(6) + "Ä";
      expect(utf8Bytes(head)).to.equal(47);
      const parts = splitWithPrefix(longPrefix, text, budget);
      expect(parts.length).to.be.greaterThan(1);
      for (const part of parts) {
        expect(part.startsWith(head)).to.equal(true);
        expect(part.startsWith(head + "😀")).to.equal(false);
        expect(bytes(part)).to.be.at.most(budget);
        expect(Buffer.from(part, "utf8").toString("utf8")).to.equal(part);
      }
      expect(parts.map((p) => p.slice(head.length)).join("")).to.equal(text);
    });

    it("a prefix that fits is never truncated", () => {
      const parts = splitWithPrefix("[public] " + "n".repeat(30) + ": ", "x".repeat(100), 100);
      for (const part of parts) expect(part.startsWith("[public] " + "n".repeat(30) + ": ")).to.equal(true);
    });
  });
});
