import { expect } from "chai";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SessidAllocator } from "../../core/sessions/sessid-allocator.js";
import { DataDir } from "../../core/state/data-dir.js";
import { makeHarness } from "./session-handler-fixture.js";

describe("session ids (H01)", () => {
  it("allocates <portalId>:<run>:<n> with n counting up from 1", () => {
    const a = new SessidAllocator("north", 5);
    expect([a.next(), a.next(), a.next()]).to.deep.equal(["north:5:1", "north:5:2", "north:5:3"]);
  });

  it("1000 connect/disconnect cycles through the handler give 1000 distinct ids, none reused", () => {
    const h = makeHarness({ limits: { maxConnectionRate: 0 }, portalId: "p", run: 1 });
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i += 1) {
      const s = h.connect(`10.0.${i % 256}.1`);
      expect(s.sessid).to.match(/^p:1:[1-9]\d*$/);
      seen.add(s.sessid);
      s.drop();
    }
    expect(seen.size).to.equal(1000);
    const announced = h.channel.ofOp("session-connect").map((m) => m.session.sessid);
    expect(new Set(announced).size).to.equal(1000);
    expect(h.channel.ofOp("session-disconnect").map((m) => m.sessid)).to.deep.equal(announced);
  });

  it("ids from two portal runs (a restart) never collide", () => {
    const ids: string[] = [];
    for (const run of [1, 2]) {
      const alloc = new SessidAllocator("portal", run);
      for (let i = 0; i < 1000; i += 1) ids.push(alloc.next());
    }
    expect(new Set(ids).size).to.equal(2000);
  });

  it("ids of two portals sharing a run number never collide", () => {
    const a = new SessidAllocator("east", 1);
    const b = new SessidAllocator("west", 1);
    const ids = [a.next(), b.next(), a.next(), b.next()];
    expect(new Set(ids).size).to.equal(4);
  });

  describe("DataDir.nextRun", () => {
    let dir: string;

    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), "portico-run-"));
    });

    afterEach(() => {
      rmSync(dir, { recursive: true, force: true });
    });

    it("starts at 1 and goes up on every start, also with a new DataDir object (a restart)", () => {
      const runs: number[] = [];
      for (let i = 0; i < 3; i += 1) {
        const d = new DataDir(join(dir, "data"));
        d.ensure();
        runs.push(d.nextRun());
      }
      expect(runs).to.deep.equal([1, 2, 3]);
      expect(readFileSync(join(dir, "data", "portal-run"), "utf8")).to.equal("3\n");
      expect(statSync(join(dir, "data")).mode & 0o777).to.equal(0o700);
    });

    it("continues from a run number already on disk", () => {
      writeFileSync(join(dir, "portal-run"), "41\n");
      expect(new DataDir(dir).nextRun()).to.equal(42);
    });

    it("ids allocated across restarts of the same data dir never repeat", () => {
      const ids = new Set<string>();
      for (let restart = 0; restart < 3; restart += 1) {
        const alloc = new SessidAllocator("portal", new DataDir(dir).nextRun());
        for (let i = 0; i < 100; i += 1) ids.add(alloc.next());
      }
      expect(ids.size).to.equal(300);
    });
  });
});
