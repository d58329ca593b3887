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

/** Counts the bytes the decoder copies (Buffer#copy, Buffer.concat) and the buffers it allocates while `fn` runs. */
function countCopies<T>(fn: () => T): { result: T; copiedBytes: number; copies: number; concats: number; allocations: number } {
  const proto = Buffer.prototype as unknown as { copy: (...args: unknown[]) => number };
  const originalCopy = proto.copy;
  const originalConcat = Buffer.concat;
  const originalAllocUnsafe = Buffer.allocUnsafe;
  const originalAlloc = Buffer.alloc;
  let copiedBytes = 0;
  let copies = 0;
  let concats = 0;
  let allocations = 0;
  proto.copy = function (this: Buffer, ...args: unknown[]): number {
    const n = originalCopy.apply(this, args);
    copies += 1;
    copiedBytes += n;
    return n;
  };
  Buffer.concat = (...args: Parameters<typeof Buffer.concat>) => {
    concats += 1;
    return originalConcat(...args);
  };
  Buffer.allocUnsafe = (size: number) => {
    allocations += 1;
    return originalAllocUnsafe(size);
  };
  Buffer.alloc = ((...args: Parameters<typeof Buffer.alloc>) => {
    allocations += 1;
    return originalAlloc(...args);
  }) as typeof Buffer.alloc;
  try {
    return { result: fn(), copiedBytes, copies, concats, allocations };
  } finally {
    proto.copy = originalCopy;
    Buffer.concat = originalConcat;
    Buffer.allocUnsafe = originalAllocUnsafe;
    Buffer.alloc = originalAlloc;
  }
}

describe("frame decoder: linear reassembly and a settable cap", () => {
  it("decodes a 1 MiB frame fed in 1-byte chunks, copying each byte once (header bytes into the 4-byte scratch)", () => {
    const body = JSON.stringify(["é€😀 ".repeat(80_000)]).slice(0, 1024 * 1024 - 8);
    const frame = encodeFrame(body);
    const decoder = new FrameDecoder(2 * 1024 * 1024);
    const { result, copiedBytes, concats, allocations } = countCopies(() => {
      const out: string[] = [];
      for (let i = 0; i < frame.length; i++) out.push(...decoder.push(frame.subarray(i, i + 1)));
      return out;
    });
    expect(result).to.have.length(1);
    expect(result[0] === body, "decoded body equals the original").to.equal(true);
    expect(copiedBytes).to.equal(frame.length);
    expect(concats).to.equal(0);
    expect(allocations, "one buffer for the body").to.equal(1);
    expect(decoder.pendingBytes).to.equal(0);
  });

  it("copies at most 4 bytes for a header that straddles chunks, and none for a body that lies whole in one chunk", () => {
    const frame = encodeFrame("z".repeat(5000));
    for (const cut of [1, 2, 3]) {
      const decoder = new FrameDecoder(MAX);
      const { result, copiedBytes, allocations } = countCopies(() => [...decoder.push(frame.subarray(0, cut)), ...decoder.push(frame.subarray(cut))]);
      expect(result, `cut ${cut}`).to.deep.equal(["z".repeat(5000)]);
      expect(copiedBytes, `cut ${cut}`).to.equal(FRAME_HEADER_BYTES);
      expect(allocations, `cut ${cut}`).to.equal(0);
    }
    // The header whole at the end of one chunk and the body whole in the next: nothing copied at all.
    const decoder = new FrameDecoder(MAX);
    const { result, copiedBytes } = countCopies(() => [...decoder.push(frame.subarray(0, 4)), ...decoder.push(frame.subarray(4))]);
    expect(result).to.deep.equal(["z".repeat(5000)]);
    expect(copiedBytes).to.equal(0);
  });

  for (const [a, b] of [[1, 3], [2, 2], [3, 1]] as const) {
    it(`decodes a header split ${a}+${b}, also right after another frame in the same chunk`, () => {
      const first = encodeFrame("first");
      const second = encodeFrame('{"op":"second"}');
      const decoder = new FrameDecoder(MAX);
      expect(decoder.push(Buffer.concat([first, second.subarray(0, a)]))).to.deep.equal(["first"]);
      expect(decoder.pendingBytes).to.equal(a);
      expect(decoder.push(second.subarray(a, a + b))).to.deep.equal([]);
      expect(decoder.pendingBytes).to.equal(FRAME_HEADER_BYTES);
      expect(decoder.push(second.subarray(a + b))).to.deep.equal(['{"op":"second"}']);
      expect(decoder.pendingBytes).to.equal(0);
    });
  }

  it("decodes many frames in one chunk without copying or allocating", () => {
    const bodies = Array.from({ length: 10_000 }, (_, i) => JSON.stringify([{ op: "data-in", n: i, text: "é".repeat(i % 50) }]));
    const chunk = Buffer.concat(bodies.map((b) => encodeFrame(b)));
    const decoder = new FrameDecoder(MAX);
    const { result, copiedBytes, copies, concats, allocations } = countCopies(() => decoder.push(chunk));
    expect(result).to.deep.equal(bodies);
    expect({ copiedBytes, copies, concats, allocations }).to.deep.equal({ copiedBytes: 0, copies: 0, concats: 0, allocations: 0 });
    expect(decoder.pendingBytes).to.equal(0);
  });

  it("reports pendingBytes through a partial frame: header bytes, then header plus body bytes so far", () => {
    const frame = encodeFrame("p".repeat(1000));
    const decoder = new FrameDecoder(MAX);
    expect(decoder.pendingBytes).to.equal(0);
    expect(decoder.push(frame.subarray(0, 2))).to.deep.equal([]);
    expect(decoder.pendingBytes).to.equal(2);
    expect(decoder.push(frame.subarray(2, 4))).to.deep.equal([]);
    expect(decoder.pendingBytes).to.equal(4);
    expect(decoder.push(frame.subarray(4, 300))).to.deep.equal([]);
    expect(decoder.pendingBytes).to.equal(300);
    expect(decoder.push(frame.subarray(300, 1003))).to.deep.equal([]);
    expect(decoder.pendingBytes).to.equal(1003);
    expect(decoder.push(Buffer.concat([frame.subarray(1003), encodeFrame("q").subarray(0, 3)]))).to.deep.equal(["p".repeat(1000)]);
    expect(decoder.pendingBytes).to.equal(3);
  });

  it("rejects a length over a cap lowered by setMaxFrameBytes, from the next header on", () => {
    const decoder = new FrameDecoder(MAX);
    const body = "m".repeat(2000);
    expect(decoder.push(encodeFrame(body))).to.deep.equal([body]);
    decoder.setMaxFrameBytes(1000);
    expect(decoder.push(encodeFrame("m".repeat(1000)))).to.deep.equal(["m".repeat(1000)]);
    const err = expectFrameError(() => decoder.push(encodeFrame(body)));
    expect(err.details.length).to.equal(2000);
    expect(err.message).to.contain("1..1000");
    expect(decoder.pendingBytes).to.equal(0);
    expect(decoder.push(encodeFrame("x"))).to.deep.equal([]);
  });

  it("rejects a length over the cap that arrives after setMaxFrameBytes, a byte at a time", () => {
    const decoder = new FrameDecoder(8192);
    decoder.setMaxFrameBytes(4096);
    const h = header(4097);
    for (let i = 0; i < 3; i++) expect(decoder.push(h.subarray(i, i + 1))).to.deep.equal([]);
    expectFrameError(() => decoder.push(h.subarray(3)));
  });

  it("accepts a bigger frame once the cap is raised", () => {
    const big = "b".repeat(100_000);
    const refused = new FrameDecoder(8192);
    expectFrameError(() => refused.push(encodeFrame(big)));

    const decoder = new FrameDecoder(8192);
    expect(decoder.push(encodeFrame("hello"))).to.deep.equal(["hello"]);
    decoder.setMaxFrameBytes(16 * 1024 * 1024);
    const frame = encodeFrame(big);
    expect(decoder.push(frame.subarray(0, 50_000))).to.deep.equal([]);
    expect(decoder.push(frame.subarray(50_000))).to.deep.equal([big]);
  });

  it("holds an over-cap frame that follows others in one chunk until the next push, judged under the cap then", () => {
    const big = "r".repeat(20_000);
    const chunk = Buffer.concat([encodeFrame("hello"), encodeFrame("small"), encodeFrame(big), encodeFrame("after")]);

    // The owner raises the cap on "hello": the held rest is read by the next push (an empty one will do).
    const raised = new FrameDecoder(8192);
    expect(raised.push(chunk)).to.deep.equal(["hello", "small"]);
    expect(raised.pendingBytes).to.equal(chunk.length - encodeFrame("hello").length - encodeFrame("small").length);
    raised.setMaxFrameBytes(1024 * 1024);
    expect(raised.push(Buffer.alloc(0))).to.deep.equal([big, "after"]);
    expect(raised.pendingBytes).to.equal(0);

    // Held bytes come before a chunk pushed later.
    const ordered = new FrameDecoder(8192);
    expect(ordered.push(chunk.subarray(0, chunk.length - 3))).to.deep.equal(["hello", "small"]);
    ordered.setMaxFrameBytes(1024 * 1024);
    expect(ordered.push(chunk.subarray(chunk.length - 3))).to.deep.equal([big, "after"]);

    // Not raised: the next push rejects it.
    const kept = new FrameDecoder(8192);
    expect(kept.push(chunk)).to.deep.equal(["hello", "small"]);
    const err = expectFrameError(() => kept.push(Buffer.alloc(0)));
    expect(err.details.length).to.equal(20_000);
    expect(kept.pendingBytes).to.equal(0);

    // Over-cap as the first frame of a push: rejected at once.
    expectFrameError(() => new FrameDecoder(8192).push(encodeFrame(big)));
  });

  it("a bad length after complete frames in one chunk: those frames first, then the error on the next push, however the stream is cut (fuzz-link regression)", () => {
    // Found by test/torture/fuzz-link.test.ts: frames before a bad header in the same read were
    // dropped with the connection, so a game's reply got through or not depending on TCP reads.
    for (const bad of [header(0), header(8193), header(0xffffffff)]) {
      const stream = Buffer.concat([encodeFrame("a"), encodeFrame("b"), bad, Buffer.from("junk")]);
      for (let cut = 0; cut <= stream.length; cut++) {
        const decoder = new FrameDecoder(8192);
        const got: string[] = [];
        let err: PortalError | undefined;
        for (const c of [stream.subarray(0, cut), stream.subarray(cut), Buffer.alloc(0)]) {
          try {
            got.push(...decoder.push(c));
          } catch (e) {
            err = e as PortalError;
            break;
          }
        }
        expect(got, `cut at ${cut}`).to.deep.equal(["a", "b"]);
        expect(err?.code, `cut at ${cut}`).to.equal(ErrorCodes.LINK_FRAME);
        expect(decoder.push(encodeFrame("later"))).to.deep.equal([]);
      }
    }
  });

  it("refuses a cap that is not a positive integer", () => {
    expect(() => new FrameDecoder(0)).to.throw(RangeError);
    expect(() => new FrameDecoder(1024).setMaxFrameBytes(-1)).to.throw(RangeError);
    expect(() => new FrameDecoder(1024).setMaxFrameBytes(1.5)).to.throw(RangeError);
  });
});
