import { expect } from "chai";
import { LruCache } from "../../../core/render/lru-cache.js";

describe("LruCache", () => {
  it("evicts the least recently used entry", () => {
    const cache = new LruCache<string, number>(2);
    cache.set("a", 1);
    cache.set("b", 2);
    expect(cache.get("a")).to.equal(1); // a is now most recent
    cache.set("c", 3);
    expect(cache.get("b")).to.equal(undefined);
    expect(cache.get("a")).to.equal(1);
    expect(cache.get("c")).to.equal(3);
    expect(cache.size).to.equal(2);
  });
  it("overwrites without growing and shrinks on resize", () => {
    const cache = new LruCache<string, number>(3);
    cache.set("a", 1);
    cache.set("a", 2);
    cache.set("b", 3);
    cache.set("c", 4);
    expect(cache.size).to.equal(3);
    expect(cache.get("a")).to.equal(2);
    cache.resize(1);
    expect(cache.size).to.equal(1);
    expect(cache.get("a")).to.equal(2);
    cache.clear();
    expect(cache.size).to.equal(0);
  });
  it("capacity 0 stores nothing; invalid capacities throw", () => {
    const cache = new LruCache<string, number>(0);
    cache.set("a", 1);
    expect(cache.get("a")).to.equal(undefined);
    expect(() => new LruCache(-1)).to.throw(RangeError);
    expect(() => new LruCache(Number.NaN)).to.throw(RangeError);
  });
  it("keeps exact LRU order through many evictions, hits and overwrites (the eviction iterator is reused)", () => {
    const cache = new LruCache<number, number>(50);
    const model: number[] = []; // oldest first
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let i = 0; i < 5000; i++) {
      const key = Math.floor(rnd() * 120);
      if (rnd() < 0.5) {
        const hit = cache.get(key);
        const at = model.indexOf(key);
        expect(hit === undefined).to.equal(at < 0);
        if (at >= 0) model.push(...model.splice(at, 1));
      } else {
        cache.set(key, i);
        const at = model.indexOf(key);
        if (at >= 0) model.splice(at, 1);
        model.push(key);
        if (model.length > 50) model.shift();
      }
      expect(cache.size).to.equal(model.length);
    }
    for (const key of model) expect(cache.get(key)).to.not.equal(undefined);
  });
});
