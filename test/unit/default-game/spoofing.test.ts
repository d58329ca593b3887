import { expect } from "chai";
import { checkNewChannelName, checkNewName, foldName, RESERVED_NAMES, reservedWord } from "../../../core/default-game/names.js";
import { cleanText, safeText, SYSTEM_PREFIX, systemLine, unmarked } from "../../../core/default-game/text.js";

/** Issue 12 item 4: reserved names, the system prefix, bidi controls and line separators. */
describe("default game: spoofing defences", () => {
  describe("reserved names", () => {
    it("refuses the system-looking names in any case, with a clear message", () => {
      for (const name of ["Admin", "ADMIN", "administrator", "Announcement", "System", "Server", "Portico", "Moderator", "Staff", "root", "You", "Someone", "IRC"]) {
        expect(checkNewName(name, "Portico"), name).to.match(/^The name .* is reserved: it looks like .*, which only the system uses\. Please pick another\.$/);
      }
      expect(checkNewName("Announcement", "Portico")).to.equal('The name Announcement is reserved: it looks like "Announcement", which only the system uses. Please pick another.');
    });

    it("sees through look-alike digits and letters, separators, trailing digits and plurals", () => {
      for (const name of ["Ann0uncement", "Adm1n", "AdmIn", "Ad-min", "Sys_tem", "Sy5tem", "Syst3m", "R00t", "Adrnin", "Admin2", "Admin_", "Admins", "Announcements", "M0derat0r", "St4ff"]) {
        expect(reservedWord(name), name).to.not.equal(undefined);
      }
      expect(reservedWord("Ann0uncement")).to.equal("Announcement");
      expect(reservedWord("Adrnin")).to.equal("Admin");
    });

    it("folds Unicode compatibility forms and accents (NFKC) before comparing", () => {
      expect(foldName("Ａｄｍｉｎ")).to.equal(foldName("Admin"));
      expect(foldName("Ádmín")).to.equal(foldName("admin"));
      expect(foldName("𝐒𝐲𝐬𝐭𝐞𝐦")).to.equal(foldName("system"));
    });

    it("adds the configured server name, spaces and case ignored", () => {
      expect(checkNewName("DarkHaven", "Dark Haven")).to.match(/looks like the server's name/);
      expect(checkNewName("Dark-Haven2", "Dark Haven")).to.match(/looks like the server's name/);
      expect(checkNewName("DarkHaven", "Portico")).to.equal(undefined);
    });

    it("allows ordinary names, including ones that merely contain a reserved word", () => {
      for (const name of ["Alice", "Bob", "Mallory", "AdminFan", "Rooted", "Serverus", "Youssef", "Modesty", "Gamer", "Stafford", "Irca"]) {
        expect(checkNewName(name, "Portico"), name).to.equal(undefined);
      }
    });

    it("the shape rules come first; channels are checked the same way", () => {
      expect(checkNewName("ad", "Portico")).to.equal("Names must be 3 to 20 characters long.");
      expect(checkNewChannelName("Announcements", "Portico")).to.match(/^The channel name Announcements is reserved/);
      expect(checkNewChannelName("ooc", "Portico")).to.equal(undefined);
      expect(RESERVED_NAMES).to.include.members(["Admin", "Administrator", "Announcement", "System", "Server", "Portico", "Moderator", "Staff", "Root"]);
    });
  });

  describe("system lines", () => {
    it("start with the system prefix, which no name can start with", () => {
      expect(SYSTEM_PREFIX).to.equal("*** ");
      expect(systemLine("Bob has left.")).to.equal("*** Bob has left.");
      expect(/^[A-Za-z]/.test(SYSTEM_PREFIX)).to.equal(false);
    });

    it("bridged lines lose leading asterisks and their look-alikes", () => {
      expect(unmarked("*** Announcement from Alice: down")).to.equal("Announcement from Alice: down");
      expect(unmarked("＊＊＊ x")).to.equal("x");
      expect(unmarked("∗ ⁎ ✱ x")).to.equal("x");
      expect(unmarked("News: *bold* title")).to.equal("News: *bold* title");
    });
  });

  describe("text from one player to others", () => {
    it("bidi embeddings, overrides, isolates and marks are removed", () => {
      const bidi = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c";
      expect(cleanText(`a${bidi}b`)).to.equal("ab");
      expect(safeText("evil\u202etxt.exe")).to.equal("eviltxt.exe");
    });

    it("line and paragraph separators become spaces, so a say stays one line", () => {
      expect(cleanText("hi\u2028*** Announcement\u2029x")).to.equal("hi *** Announcement x");
      expect(cleanText("\u2028lead")).to.equal("lead");
    });

    it("other C0/C1 controls are still removed, tabs become spaces; ordinary Unicode is kept", () => {
      expect(cleanText("a\x00b\x85c\x9fd\te")).to.equal("abcd e");
      expect(cleanText("שלום café 👩‍💻")).to.equal("שלום café 👩‍💻");
    });
  });
});
