import { expect } from "chai";
import { checkChannelName, checkName, checkPassword } from "../../../core/default-game/names.js";

describe("default game: name and password rules", () => {
  it("accepts 3-20 letters, digits, _ and -, starting with a letter", () => {
    for (const ok of ["Bob", "alice", "A_b-c", "x12", "abcdefghijklmnopqrst"]) expect(checkName(ok), ok).to.equal(undefined);
  });

  it("rejects control characters and markup with their own messages", () => {
    expect(checkName("Al\x01ice")).to.equal("Names cannot contain control characters.");
    expect(checkName("Al\x1b[31mice")).to.equal("Names cannot contain control characters.");
    expect(checkName("Bob\t")).to.equal("Names cannot contain control characters.");
    expect(checkName("Al\u0085ice")).to.equal("Names cannot contain control characters.");
    expect(checkName("Al|rice")).to.equal("Names cannot contain '|' (it is used for colour codes).");
    expect(checkName("||")).to.match(/cannot contain '\|'/);
  });

  it("explains length, first character and allowed characters", () => {
    expect(checkName("ab")).to.equal("Names must be 3 to 20 characters long.");
    expect(checkName("a".repeat(21))).to.equal("Names must be 3 to 20 characters long.");
    expect(checkName("1abc")).to.equal("Names must start with a letter.");
    expect(checkName("_abc")).to.equal("Names must start with a letter.");
    expect(checkName("ab cd")).to.equal("Names may only contain letters, digits, underscores and hyphens.");
    expect(checkName("abé")).to.equal("Names may only contain letters, digits, underscores and hyphens.");
    expect(checkName("")).to.equal("Please give a name.");
  });

  it("checks channel names the same way, from 2 characters", () => {
    expect(checkChannelName("ic")).to.equal(undefined);
    expect(checkChannelName("o|oc")).to.match(/Channel names cannot contain/);
    expect(checkChannelName("x")).to.equal("Channel names must be 2 to 20 characters long.");
  });

  it("passwords: 6-128 characters, spaces allowed, no control characters", () => {
    expect(checkPassword("secret")).to.equal(undefined);
    expect(checkPassword("correct horse battery")).to.equal(undefined);
    expect(checkPassword("a|b|c|d")).to.equal(undefined);
    expect(checkPassword("short")).to.equal("Passwords must be 6 to 128 characters long.");
    expect(checkPassword("x".repeat(129))).to.equal("Passwords must be 6 to 128 characters long.");
    expect(checkPassword("secret\x00")).to.equal("Passwords cannot contain control characters.");
  });
});
