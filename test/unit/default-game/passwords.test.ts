import { expect } from "chai";
import { DEFAULT_SCRYPT, decoyRecord, hashPassword, parseParams, verifyPassword } from "../../../core/default-game/passwords.js";

describe("default game: scrypt passwords", () => {
  it("uses N=16384 r=8 p=1, a 64-byte key and a 16-byte salt by default", async () => {
    expect(DEFAULT_SCRYPT).to.deep.equal({ N: 16384, r: 8, p: 1, keylen: 64 });
    const rec = await hashPassword("hunter22");
    expect(rec.hash).to.match(/^[0-9a-f]{128}$/);
    expect(rec.salt).to.match(/^[0-9a-f]{32}$/);
    expect(rec.params).to.deep.equal(DEFAULT_SCRYPT);
  });

  it("verifies the right password and refuses a wrong one", async () => {
    const rec = await hashPassword("hunter22");
    expect(await verifyPassword("hunter22", rec)).to.equal(true);
    expect(await verifyPassword("hunter23", rec)).to.equal(false);
    expect(await verifyPassword("", rec)).to.equal(false);
  });

  it("salts: the same password hashes differently each time", async () => {
    const params = { N: 1024, r: 8, p: 1, keylen: 32 };
    const [a, b] = await Promise.all([hashPassword("same-pass", params), hashPassword("same-pass", params)]);
    expect(a.salt).to.not.equal(b.salt);
    expect(a.hash).to.not.equal(b.hash);
    expect(await verifyPassword("same-pass", a)).to.equal(true);
  });

  it("verifies with the parameters stored in the record (they may differ from today's default)", async () => {
    const rec = await hashPassword("older-hash", { N: 2048, r: 4, p: 1, keylen: 32 });
    const stored = { hash: rec.hash, salt: rec.salt, params: parseParams(JSON.stringify(rec.params)) };
    expect(stored.params).to.deep.equal({ N: 2048, r: 4, p: 1, keylen: 32 });
    expect(await verifyPassword("older-hash", stored)).to.equal(true);
  });

  it("parseParams refuses nonsense", () => {
    expect(parseParams('{"N":16384,"r":8,"p":1,"keylen":64}')).to.deep.equal(DEFAULT_SCRYPT);
    expect(() => parseParams('{"N":0,"r":8,"p":1,"keylen":64}')).to.throw(/bad scrypt/);
    expect(() => parseParams('{"N":"x"}')).to.throw(/bad scrypt/);
  });

  it("no password matches the decoy record", async () => {
    const decoy = decoyRecord({ N: 1024, r: 8, p: 1, keylen: 64 });
    expect(await verifyPassword("anything", decoy)).to.equal(false);
  });
});
