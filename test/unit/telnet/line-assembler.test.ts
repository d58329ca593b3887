import { expect } from "chai";
import { LineAssembler } from "../../../plugins/telnet/line-assembler.js";

type Ev = ["line", string] | ["overflow"] | ["idle"];

function run(chunks: (string | Buffer)[], max = 1024): Ev[] {
  const events: Ev[] = [];
  const a = new LineAssembler({
    line: (bytes) => events.push(["line", Buffer.from(bytes).toString("latin1")]),
    overflow: () => events.push(["overflow"]),
    idle: () => events.push(["idle"]),
  }, max);
  for (const c of chunks) a.push(typeof c === "string" ? Buffer.from(c, "latin1") : c);
  return events;
}

const lines = (...ls: string[]): Ev[] => ls.map((l) => ["line", l] as Ev);

/** Every two-chunk split of `s`, plus one byte per chunk. */
function splits(s: string): string[][] {
  const out: string[][] = [[s], [...s]];
  for (let i = 1; i < s.length; i++) out.push([s.slice(0, i), s.slice(i)]);
  return out;
}

describe("telnet line assembler", () => {
  for (const [name, eol] of [["CR LF", "\r\n"], ["LF", "\n"], ["CR", "\r"], ["LF CR", "\n\r"], ["CR NUL", "\r\0"]] as const) {
    it(`ends a line on ${name}, however the input is split`, () => {
      const input = `look${eol}say hi${eol}`;
      for (const chunks of splits(input)) expect(run(chunks), JSON.stringify(chunks)).to.deep.equal(lines("look", "say hi"));
    });
  }

  it("keeps a partial line until its end arrives", () => {
    expect(run(["lo"])).to.deep.equal([]);
    expect(run(["lo", "ok\r\n"])).to.deep.equal(lines("look"));
    expect(run(["lo", "o", "k", "\r", "\n", "n\r\n"])).to.deep.equal(lines("look", "n"));
  });

  it("mixes line endings in one stream", () => {
    expect(run(["a\r\nb\nc\rd\n\re\r\0f\r\n"])).to.deep.equal(lines("a", "b", "c", "d", "e", "f"));
  });

  it("an empty line is still a line", () => {
    expect(run(["\r\n"])).to.deep.equal(lines(""));
    expect(run(["a\r\n\r\nb\n"])).to.deep.equal(lines("a", "", "b"));
    expect(run(["a\n\n"])).to.deep.equal(lines("a", ""));
  });

  it("a lone NUL between lines is an idle keep-alive; inside a line it is dropped", () => {
    expect(run(["\0"])).to.deep.equal([["idle"]]);
    expect(run(["\0\0"])).to.deep.equal([["idle"], ["idle"]]);
    expect(run(["look\r\n", "\0"])).to.deep.equal([...lines("look"), ["idle"]]);
    expect(run(["lo\0ok\r\n"])).to.deep.equal(lines("look"));
    expect(run(["lo", "\0", "ok\n"])).to.deep.equal(lines("look"));
  });

  it("CR NUL is a line end, not a keep-alive", () => {
    expect(run(["hello from telnet\r\0"])).to.deep.equal(lines("hello from telnet"));
    expect(run(["hello\r", "\0", "x\r\0"])).to.deep.equal(lines("hello", "x"));
  });

  it("discards an overlong line up to its end, reports it once, and goes on", () => {
    const long = "x".repeat(40);
    expect(run([long.slice(0, 20), long.slice(20), "yyyy", "\r\nnext\r\n"], 16)).to.deep.equal([["overflow"], ...lines("next")]);
    // Exactly the cap is accepted.
    expect(run(["y".repeat(16) + "\n"], 16)).to.deep.equal(lines("y".repeat(16)));
    // One byte over is not.
    expect(run(["y".repeat(17) + "\nok\n"], 16)).to.deep.equal([["overflow"], ...lines("ok")]);
  });

  it("reports pending bytes of an unfinished line", () => {
    const a = new LineAssembler({ line: () => undefined, overflow: () => undefined, idle: () => undefined }, 100);
    a.push(Buffer.from("abc"));
    expect(a.pendingBytes).to.equal(3);
    a.push(Buffer.from("\r\n"));
    expect(a.pendingBytes).to.equal(0);
  });

  it("keeps bytes as they are (0xFF and invalid UTF-8 are not touched here)", () => {
    expect(run([Buffer.from([0xc3, 0x28, 0xff, 0x0d, 0x0a])])).to.deep.equal([["line", "\xc3(\xff"]]);
  });
});
