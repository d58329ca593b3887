import { expect } from "chai";
import { describeDbError } from "../../../core/default-game/db-open.js";
import { cleanText, escapeMarkup, normalizeAddress, safeText, shortDuration } from "../../../core/default-game/text.js";

describe("default game: text helpers", () => {
  it("escapes markup so players cannot inject colour", () => {
    expect(escapeMarkup("a|rred|n")).to.equal("a||rred||n");
    expect(escapeMarkup("||")).to.equal("||||");
    expect(escapeMarkup("plain")).to.equal("plain");
  });

  it("cleans terminal escapes and control characters from player text", () => {
    expect(cleanText("\x1b[31mred\x1b[0m")).to.equal("red");
    expect(cleanText("bell\x07 and\ttab ")).to.equal("bell and tab");
    expect(cleanText("\x9b2Jx")).to.equal("x");
    expect(safeText(" hi |r\x00 ")).to.equal("hi ||r");
  });

  it("normalises addresses for bans", () => {
    expect(normalizeAddress("::ffff:127.0.0.1")).to.equal("127.0.0.1");
    expect(normalizeAddress("::1")).to.equal("::1");
    expect(normalizeAddress(null)).to.equal("");
  });

  it("short durations", () => {
    expect(shortDuration(5)).to.equal("5s");
    expect(shortDuration(125)).to.equal("2m");
    expect(shortDuration(3 * 3600 + 120)).to.equal("3h 2m");
    expect(shortDuration(90_000)).to.equal("1d 1h");
  });

  it("database errors become short reasons", () => {
    expect(describeDbError(Object.assign(new Error("x"), { code: "SQLITE_FULL" }))).to.equal("the disk is full");
    expect(describeDbError(Object.assign(new Error("x"), { code: "SQLITE_CANTOPEN" }))).to.match(/cannot be created or opened/);
    expect(describeDbError(Object.assign(new Error("x"), { code: "SQLITE_READONLY" }))).to.match(/read-only/);
    expect(describeDbError(new Error("first line\n    at stack"))).to.equal("first line");
  });
});
