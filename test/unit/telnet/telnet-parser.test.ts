import { expect } from "chai";
import { TelnetParser } from "../../../plugins/telnet/telnet-parser.js";

const IAC = 255, SB = 250, SE = 240, WILL = 251, WONT = 252, DO = 253, DONT = 254, NOP = 241, GA = 249, EOR = 239;

type Ev =
  | ["data", string]
  | ["negotiate", number, number]
  | ["sb", number, string]
  | ["command", number]
  | ["error", string];

/** Runs the parser over the chunks and returns its events, adjacent data runs merged (hex). */
function parse(chunks: Buffer[], cap = 64 * 1024): Ev[] {
  const events: Ev[] = [];
  const parser = new TelnetParser({
    data: (b) => {
      const last = events[events.length - 1];
      if (last && last[0] === "data") last[1] += b.toString("hex");
      else events.push(["data", b.toString("hex")]);
    },
    negotiate: (c, o) => events.push(["negotiate", c, o]),
    subnegotiation: (o, p) => events.push(["sb", o, Buffer.from(p).toString("hex")]),
    command: (c) => events.push(["command", c]),
    protocolError: (m) => events.push(["error", m]),
  }, cap);
  for (const c of chunks) parser.push(c);
  return events;
}

const b = (...parts: (number | string | number[])[]): Buffer =>
  Buffer.concat(parts.map((p) => (typeof p === "number" ? Buffer.from([p]) : typeof p === "string" ? Buffer.from(p, "latin1") : Buffer.from(p))));

const hex = (s: string) => Buffer.from(s, "latin1").toString("hex");

/** Every way of cutting `bytes` into two chunks, plus the one-byte-at-a-time cut. */
function everySplit(bytes: Buffer): Buffer[][] {
  const out: Buffer[][] = [[bytes]];
  for (let i = 1; i < bytes.length; i++) out.push([bytes.subarray(0, i), bytes.subarray(i)]);
  out.push([...bytes].map((x) => Buffer.from([x])));
  return out;
}

describe("telnet parser", () => {
  it("separates data, negotiations, subnegotiations and commands", () => {
    const events = parse([b("hi", IAC, WILL, 31, IAC, SB, 24, 0, "XTERM", IAC, SE, "yo", IAC, NOP, IAC, GA, IAC, EOR, "!")]);
    expect(events).to.deep.equal([
      ["data", hex("hi")],
      ["negotiate", WILL, 31],
      ["sb", 24, hex("\x00XTERM")],
      ["data", hex("yo")],
      ["command", NOP],
      ["command", GA],
      ["command", EOR],
      ["data", hex("!")],
    ]);
  });

  it("gives the same events however a stream is split (every boundary, two and many chunks)", () => {
    const stream = b(
      "look", 13, 10,
      IAC, DO, 1, IAC, DONT, 3, IAC, WONT, 24, IAC, WILL, 201,
      IAC, SB, 31, 0, IAC, IAC, 0, 40, IAC, SE,
      "a", IAC, IAC, "b",
      IAC, SB, 201, 'Core.Hello {"client":"x"}', IAC, SE,
      IAC, NOP,
      IAC, SB, 69, 1, "LIST", 2, "COMMANDS", IAC, SE,
      IAC, SB, 24, 0, "MUDLET", IAC, WILL, 86,
      "end", 13, 10,
    );
    const expected = parse([stream]);
    expect(expected.map((e) => e[0])).to.deep.equal([
      "data", "negotiate", "negotiate", "negotiate", "negotiate", "sb", "data", "sb", "command", "sb", "error", "negotiate", "data",
    ]);
    for (const chunks of everySplit(stream)) {
      expect(parse(chunks), `split ${chunks.map((c) => c.length).join("+")}`).to.deep.equal(expected);
    }
    // Three-way splits too (every pair of cut points).
    for (let i = 1; i < stream.length - 1; i++) {
      for (let j = i + 1; j < stream.length; j++) {
        const chunks = [stream.subarray(0, i), stream.subarray(i, j), stream.subarray(j)];
        const got = parse(chunks);
        if (JSON.stringify(got) !== JSON.stringify(expected)) expect(got, `cuts at ${i},${j}`).to.deep.equal(expected);
      }
    }
  });

  it("turns IAC IAC into one 0xFF in data", () => {
    expect(parse([b("x", IAC, IAC, IAC, IAC, "y")])).to.deep.equal([["data", "78ffff79"]]);
    // Split between the two IACs.
    expect(parse([b("x", IAC), b(IAC, "y")])).to.deep.equal([["data", "78ff79"]]);
  });

  it("turns IAC IAC into one 0xFF inside a subnegotiation (NAWS 255 wide)", () => {
    expect(parse([b(IAC, SB, 31, 0, IAC, IAC, 0, 50, IAC, SE)])).to.deep.equal([["sb", 31, "00ff0032"]]);
    expect(parse([b(IAC, SB, 31, 0, IAC), b(IAC, 0, 50, IAC), b(SE)])).to.deep.equal([["sb", 31, "00ff0032"]]);
  });

  it("reports a subnegotiation cut short by IAC WILL and still processes the WILL", () => {
    const events = parse([b(IAC, SB, 24, 0, "MUD", IAC, WILL, 31, "ok")]);
    expect(events).to.have.length(3);
    expect(events[0]![0]).to.equal("error");
    expect(events[0]![1]).to.match(/24/);
    expect(events.slice(1)).to.deep.equal([["negotiate", WILL, 31], ["data", hex("ok")]]);
    // The interrupted payload is never delivered, even when a later SE shows up.
    expect(parse([b(IAC, SB, 24, 0, "MUD", IAC, WILL, 31, IAC, SE)]).filter((e) => e[0] === "sb")).to.deep.equal([]);
  });

  it("a subnegotiation interrupted by IAC SB starts the new one", () => {
    const events = parse([b(IAC, SB, 24, "junk", IAC, SB, 31, 0, 80, 0, 24, IAC, SE)]);
    expect(events.map((e) => e[0])).to.deep.equal(["error", "sb"]);
    expect(events[1]).to.deep.equal(["sb", 31, "00500018"]);
  });

  it("drops a subnegotiation over the cap and goes on parsing", () => {
    const cap = 8 * 1024;
    const big = Buffer.alloc(cap + 1, 0x41);
    const events = parse([b(IAC, SB, 201), big.subarray(0, 5000), big.subarray(5000), b(IAC, SE, "after", IAC, WILL, 31, IAC, SB, 201, "Core.Ping", IAC, SE)], cap);
    expect(events[0]![0]).to.equal("error");
    expect(events.slice(1)).to.deep.equal([["data", hex("after")], ["negotiate", WILL, 31], ["sb", 201, hex("Core.Ping")]]);
    // Exactly at the cap is fine.
    const exact = parse([b(IAC, SB, 201), Buffer.alloc(cap, 0x42), b(IAC, SE)], cap);
    expect(exact).to.have.length(1);
    expect(exact[0]![0]).to.equal("sb");
    expect((exact[0] as ["sb", number, string])[2].length).to.equal(cap * 2);
  });

  it("keeps a lone IAC at the end of a chunk for the next one", () => {
    expect(parse([b("abc", IAC)])).to.deep.equal([["data", hex("abc")]]);
    expect(parse([b("abc", IAC), b(NOP, "d")])).to.deep.equal([["data", hex("abc")], ["command", NOP], ["data", hex("d")]]);
    expect(parse([b("abc", IAC), b(DO), b(1)])).to.deep.equal([["data", hex("abc")], ["negotiate", DO, 1]]);
    expect(parse([b(IAC, SB, 201, "x", IAC), b(SE)])).to.deep.equal([["sb", 201, hex("x")]]);
  });

  it("reports IAC SE outside a subnegotiation and continues", () => {
    const events = parse([b("a", IAC, SE, "b")]);
    expect(events.map((e) => e[0])).to.deep.equal(["data", "error", "data"]);
  });

  it("delivers an empty subnegotiation and one whose option byte is 255", () => {
    expect(parse([b(IAC, SB, 86, IAC, SE)])).to.deep.equal([["sb", 86, ""]]);
    expect(parse([b(IAC, SB, 255, 1, IAC, SE, "z")])).to.deep.equal([["sb", 255, "01"], ["data", hex("z")]]);
  });

  it("survives random bytes (never throws, events are well formed)", () => {
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const special = [IAC, SB, SE, WILL, WONT, DO, DONT, NOP, 0, 13, 10];
    for (let round = 0; round < 300; round++) {
      const len = Math.floor(rand() * 200);
      const bytes = Buffer.alloc(len);
      for (let i = 0; i < len; i++) bytes[i] = rand() < 0.4 ? special[Math.floor(rand() * special.length)]! : Math.floor(rand() * 256);
      const whole = parse([bytes], 64);
      const cut = Math.floor(rand() * (len + 1));
      expect(parse([bytes.subarray(0, cut), bytes.subarray(cut)], 64)).to.deep.equal(whole);
    }
  });
});
