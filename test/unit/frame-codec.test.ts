import { expect } from "chai";
import { FRAME_HEADER_BYTES, FrameDecoder, encodeFrame } from "../../core/link/frame-codec.js";
import { PortalError } from "../../core/errors/portal-error.js";
import { ErrorCodes } from "../../core/errors/error-codes.js";
import { prng } from "../support/prng.js";

const MAX = 1024 * 1024;

/** Bodies of varied size and content, including ones whose bytes end in 00 00. */
function sampleBodies(): string[] {
  const bodies = [
    "[]",
    "{}",
    JSON.stringify([{ op: "ping" }]),
    JSON.stringify([{ op: "data-out", sessid: "portal:1:1", cmds: [["text", ["hello"], {}]] }]),
    "x\u0000\u0000", // body ends in 00 00
    "\u0000\u0000", // body is only 00 00
    "\u0000\u0000\u0000\u0000", // looks like a zero-length header inside a body
    JSON.stringify(["é€😀 中文 ÆØÅ"]),
    "😀".repeat(40), // 4-byte sequences only
    "a".repeat(255),
    "b".repeat(256), // header 00 00 01 00
    "c".repeat(257),
    JSON.stringify([{ op: "data-in", sessid: "s", cmds: [["text", ["ü".repeat(100)], {}]] }]),
    "€\u0000\u0000",
  ];
  const rnd = prng(7);
  for (let i = 0; i < 20; i++) {
    const len = 1 + Math.floor(rnd() * 120);
    let s = "";
    for (let j = 0; j < len; j++) {
      const r = rnd();
      s += r < 0.6 ? String.fromCharCode(32 + Math.floor(rnd() * 90)) : r < 0.75 ? "\u0000" : r < 0.85 ? "ß" : r < 0.95 ? "€" : "🎲";
    }
    bodies.push(s);
  }
  return bodies;
}

function decodeChunks(chunks: Buffer[], max = MAX): string[] {
  const decoder = new FrameDecoder(max);
  const out: string[] = [];
  for (const c of chunks) out.push(...decoder.push(c));
  expect(decoder.pendingBytes, "bytes left over after the last frame").to.equal(0);
  return out;
}

function expectFrameError(fn: () => unknown): PortalError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, "expected a PortalError").to.be.instanceOf(PortalError);
  expect((caught as PortalError).code).to.equal(ErrorCodes.LINK_FRAME);
  expect((caught as PortalError).code).to.equal("PORTAL_ERR_LINK_FRAME");
  return caught as PortalError;
}

function header(length: number): Buffer {
  const b = Buffer.alloc(FRAME_HEADER_BYTES);
  b.writeUInt32BE(length, 0);
  return b;
}

describe("frame codec", () => {
  const bodies = sampleBodies();
  const stream = Buffer.concat(bodies.map((b) => encodeFrame(b)));

  it("encodes a 4-byte big-endian byte length followed by the UTF-8 body", () => {
    const frame = encodeFrame("é😀");
    expect(frame.readUInt32BE(0)).to.equal(6);
    expect(frame.length).to.equal(10);
    expect(frame.subarray(4).toString("utf8")).to.equal("é😀");
    expect([...encodeFrame("ab")]).to.deep.equal([0, 0, 0, 2, 0x61, 0x62]);
  });

  it("decodes a whole stream pushed at once", () => {
    expect(decodeChunks([stream])).to.deep.equal(bodies);
  });

  it("decodes identically when split in two at every byte boundary (A07)", () => {
    for (let i = 1; i < stream.length; i++) {
      const got = decodeChunks([stream.subarray(0, i), stream.subarray(i)]);
      expect(got, `split at byte ${i}`).to.deep.equal(bodies);
    }
  });

  it("decodes identically from 1-byte chunks", () => {
    const chunks: Buffer[] = [];
    for (let i = 0; i < stream.length; i++) chunks.push(stream.subarray(i, i + 1));
    expect(decodeChunks(chunks)).to.deep.equal(bodies);
  });

  it("decodes identically when split at three boundaries at once", () => {
    const rnd = prng(99);
    for (let n = 0; n < 500; n++) {
      const cuts = [0, 0, 0].map(() => 1 + Math.floor(rnd() * (stream.length - 1))).sort((a, b) => a - b);
      const chunks = [stream.subarray(0, cuts[0]), stream.subarray(cuts[0], cuts[1]), stream.subarray(cuts[1], cuts[2]), stream.subarray(cuts[2])];
      expect(decodeChunks(chunks), `cuts ${cuts.join(",")}`).to.deep.equal(bodies);
    }
  });

  it("decodes identically with arbitrary coalescing (random chunk sizes, many seeds)", () => {
    for (let seed = 1; seed <= 200; seed++) {
      const rnd = prng(seed);
      const chunks: Buffer[] = [];
      let at = 0;
      while (at < stream.length) {
        const r = rnd();
        const size = r < 0.3 ? 1 : r < 0.5 ? 2 + Math.floor(rnd() * 6) : r < 0.9 ? 1 + Math.floor(rnd() * 300) : 1 + Math.floor(rnd() * stream.length);
        chunks.push(stream.subarray(at, at + size));
        at += size;
      }
      expect(decodeChunks(chunks), `seed ${seed}`).to.deep.equal(bodies);
    }
  });

  it("returns every frame completed by one chunk, in order, and keeps a partial tail", () => {
    const a = encodeFrame("one");
    const b = encodeFrame("two");
    const c = encodeFrame("three");
    const decoder = new FrameDecoder(MAX);
    const joined = Buffer.concat([a, b, c]);
    expect(decoder.push(joined.subarray(0, a.length + b.length + 5))).to.deep.equal(["one", "two"]);
    expect(decoder.pendingBytes).to.equal(5);
    expect(decoder.push(joined.subarray(a.length + b.length + 5))).to.deep.equal(["three"]);
    expect(decoder.pendingBytes).to.equal(0);
  });

  it("handles large frames (> 64 KiB, several MiB) split arbitrarily", () => {
    const big1 = "x".repeat(70_000) + "\u0000\u0000";
    const big2 = JSON.stringify(["é€😀".repeat(200_000)]);
    const expected = ["a", big1, "b", big2, "c"];
    const data = Buffer.concat(expected.map((s) => encodeFrame(s)));
    const rnd = prng(3);
    for (let n = 0; n < 5; n++) {
      const chunks: Buffer[] = [];
      let at = 0;
      while (at < data.length) {
        const size = 1 + Math.floor(rnd() * 65_536);
        chunks.push(data.subarray(at, at + size));
        at += size;
      }
      expect(decodeChunks(chunks, 8 * 1024 * 1024)).to.deep.equal(expected);
    }
  });

  it("keeps multi-byte UTF-8 characters intact when a chunk ends inside one", () => {
    const body = "é€😀中";
    const frame = encodeFrame(body);
    // Every cut inside the body, including the middle of each 2-, 3- and 4-byte sequence.
    for (let i = FRAME_HEADER_BYTES + 1; i < frame.length; i++) {
      expect(decodeChunks([frame.subarray(0, i), frame.subarray(i)]), `cut at ${i}`).to.deep.equal([body]);
    }
    const bytes: Buffer[] = [];
    for (let i = 0; i < frame.length; i++) bytes.push(frame.subarray(i, i + 1));
    expect(decodeChunks(bytes)).to.deep.equal([body]);
  });

  it("rejects a zero length with PORTAL_ERR_LINK_FRAME", () => {
    const decoder = new FrameDecoder(MAX);
    const err = expectFrameError(() => decoder.push(Buffer.concat([header(0), Buffer.from("[]")])));
    expect(err.details.length).to.equal(0);
  });

  it("rejects a zero length that follows a valid frame", () => {
    const decoder = new FrameDecoder(MAX);
    expect(decoder.push(encodeFrame("ok"))).to.deep.equal(["ok"]);
    expectFrameError(() => decoder.push(header(0)));
  });

  it("rejects a length over maxFrameBytes with PORTAL_ERR_LINK_FRAME, even when the header arrives in pieces", () => {
    const max = 1024;
    const ok = new FrameDecoder(max);
    const exact = "y".repeat(max);
    expect(ok.push(encodeFrame(exact))).to.deep.equal([exact]);

    const decoder = new FrameDecoder(max);
    const h = header(max + 1);
    expect(decoder.push(h.subarray(0, 2))).to.deep.equal([]);
    expect(decoder.push(h.subarray(2, 3))).to.deep.equal([]);
    const err = expectFrameError(() => decoder.push(h.subarray(3)));
    expect(err.details.length).to.equal(max + 1);

    expectFrameError(() => new FrameDecoder(max).push(header(0xffffffff)));
  });

  it("is unusable after a bad length (returns nothing more, holds nothing)", () => {
    const decoder = new FrameDecoder(1024);
    expectFrameError(() => decoder.push(header(5000)));
    expect(decoder.pendingBytes).to.equal(0);
    expect(decoder.push(encodeFrame("later"))).to.deep.equal([]);
  });

  it("waits for a full header before judging the length", () => {
    const decoder = new FrameDecoder(MAX);
    expect(decoder.push(Buffer.from([0, 0, 0]))).to.deep.equal([]);
    expect(decoder.pendingBytes).to.equal(3);
    expect(decoder.push(Buffer.from([2, 0x7b, 0x7d]))).to.deep.equal(["{}"]);
  });
});
