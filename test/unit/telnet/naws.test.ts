import { expect } from "chai";
import { NawsOption, screenSize } from "../../../plugins/telnet/options/naws.js";
import { recordingContext } from "./option-fixture.js";

const size = (w: number, h: number) => Buffer.from([w >> 8, w & 0xff, h >> 8, h & 0xff]);

describe("NAWS option", () => {
  it("starts at the configured default size, as shared frozen {0: n} values (no object per session)", () => {
    const a = recordingContext();
    const b = recordingContext();
    new NawsOption(a);
    new NawsOption(b);
    expect(a.flags.SCREENWIDTH).to.deep.equal({ 0: 78 });
    expect(a.flags.SCREENHEIGHT).to.deep.equal({ 0: 45 });
    expect(a.flags.AUTORESIZE).to.equal(false);
    expect(a.flags.SCREENWIDTH).to.equal(b.flags.SCREENWIDTH);
    expect(Object.isFrozen(a.flags.SCREENWIDTH)).to.equal(true);
    expect(JSON.stringify(a.flags.SCREENWIDTH)).to.equal('{"0":78}');
  });

  it("screenSize shares values up to 1000 and makes larger ones fresh", () => {
    expect(screenSize(120)).to.equal(screenSize(120));
    expect(screenSize(1000)).to.equal(screenSize(1000));
    expect(screenSize(1001)).to.deep.equal({ 0: 1001 });
    expect(screenSize(1001)).to.not.equal(screenSize(1001));
  });

  it("takes the client's size (0 keeps the old one, clamped to the maximum) and resyncs on a change only", () => {
    const ctx = recordingContext({ maxWidth: 200 });
    const naws = new NawsOption(ctx);
    naws.offer();
    expect(ctx.written).to.deep.equal(["DO 31"]);
    naws.handleWill();
    expect(ctx.flags.AUTORESIZE).to.equal(true);
    const before = ctx.flagChanges;
    naws.subnegotiation(size(120, 40));
    expect([ctx.flags.SCREENWIDTH, ctx.flags.SCREENHEIGHT]).to.deep.equal([{ 0: 120 }, { 0: 40 }]);
    expect(ctx.flagChanges).to.equal(before + 1);
    naws.subnegotiation(size(0, 50));
    expect([ctx.flags.SCREENWIDTH, ctx.flags.SCREENHEIGHT]).to.deep.equal([{ 0: 120 }, { 0: 50 }]);
    naws.subnegotiation(size(5000, 50));
    expect(ctx.flags.SCREENWIDTH).to.deep.equal({ 0: 200 });
    const changes = ctx.flagChanges;
    naws.subnegotiation(size(200, 50));
    expect(ctx.flagChanges).to.equal(changes);
    naws.subnegotiation(Buffer.from([1, 2, 3]));
    expect(ctx.errors).to.deep.equal(["NAWS payload of 3 bytes (expected 4) ignored"]);
  });
});
