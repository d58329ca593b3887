import { expect } from "chai";
import { readFileSync } from "node:fs";

const root = new URL("../../../", import.meta.url);

describe("README: the Debian packages the test command installs", () => {
  it("are the ones test/ensure-peers.mjs makes sure of", () => {
    const peers = [...readFileSync(new URL("test/ensure-peers.mjs", root), "utf8").matchAll(/\{ pkg: "([^"]+)", file: "[^"]+" \}/g)].map((m) => m[1]!);
    const readme = readFileSync(new URL("README.md", root), "utf8");
    const listed = /need — ([^—]+) — when run as root/.exec(readme.replace(/\s+/g, " "));
    expect(listed, "the README's sentence naming the packages").to.not.equal(null);
    expect(listed![1]!.split(",").map((x) => x.trim()).sort()).to.deep.equal([...peers].sort());
    expect(peers).to.include("nats-server");
  });
});
