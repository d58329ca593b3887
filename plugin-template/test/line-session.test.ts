import assert from "node:assert/strict";
import { connect } from "node:net";
import { LineClient, PluginTestBed, waitFor, type LaunchedPlugin } from "portico/testing";
import { lineManifest } from "../src/index.js";

// The protocol's own behaviour, through real sockets on 127.0.0.1, with a scripted fake game.
describe("line plugin", () => {
  let bed: PluginTestBed;
  let plugin: LaunchedPlugin;

  beforeEach(async () => {
    bed = new PluginTestBed({ plugins: [lineManifest] });
    plugin = await bed.listen(lineManifest, { maxLineBytes: 64 });
  });

  afterEach(async () => {
    await bed.stop();
  });

  async function client() {
    const known = bed.game.ofOp("session-connect").length;
    const c = await LineClient.open(plugin.port);
    const session = await bed.game.nextSession(5000, known);
    return { c, sessid: session.sessid };
  }

  it("announces each connection as a `line` session with the client's address", async () => {
    const { sessid } = await client();
    const s = bed.game.sessions.find((x) => x.sessid === sessid)!;
    assert.equal(s.protocol_key, "line");
    assert.equal(s.address, "127.0.0.1");
  });

  it("splits input at LF and CRLF, across and within reads", async () => {
    const { c, sessid } = await client();
    c.socket.write("one\r\ntw");
    c.socket.write("o\nthree\r");
    c.socket.write("\n");
    await waitFor(() => bed.game.inputs.filter((i) => i.sessid === sessid).length === 3);
    assert.deepEqual(bed.game.inputs.map((i) => i.args[0]), ["one", "two", "three"]);
  });

  it("discards an over-long line (with a notice) and keeps the next one", async () => {
    const { c, sessid } = await client();
    c.socket.write("x".repeat(200));
    await c.waitForLine("Line too long; it was discarded.");
    c.socket.write("x".repeat(50) + "\nafter\n");
    await bed.game.nextInput("after");
    assert.deepEqual(bed.game.inputs.filter((i) => i.sessid === sessid).map((i) => i.args[0]), ["after"]);
  });

  it("writes text as CRLF lines, the prompt (sent last) without a newline, other keys as [name] json", async () => {
    const raw: Buffer[] = [];
    const socket = connect(plugin.port, "127.0.0.1");
    socket.on("data", (b: Buffer) => raw.push(b));
    const session = await bed.game.nextSession(5000, 0);
    bed.game.output(session.sessid, ["prompt", ["> "], {}], ["text", ["a\nb"], {}], ["gmcp_ish", [1], { k: "v" }]);
    await waitFor(() => Buffer.concat(raw).toString().endsWith("> "));
    assert.equal(Buffer.concat(raw).toString(), 'a\r\nb\r\n[gmcp_ish] {"args":[1],"kwargs":{"k":"v","options":{}}}\r\n> ');
    socket.destroy();
  });

  it("answers bytes that are not UTF-8 with a message and runs nothing", async () => {
    const { c, sessid } = await client();
    c.socket.write(Buffer.from([0xff, 0xfe, 0x0a]));
    await c.waitForLine("Your client sent an incorrect UTF-8 sequence.");
    assert.deepEqual(bed.game.inputs.filter((i) => i.sessid === sessid), []);
  });

  it("counts bytes in and out on the session without the plugin doing it", async () => {
    const { c, sessid } = await client();
    c.send("hello");
    await bed.game.nextInput("hello");
    bed.game.msg(sessid, "hi");
    await c.waitForLine("hi");
    const session = bed.session(sessid)!;
    assert.equal(session.bytesIn, "hello\r\n".length);
    assert.equal(session.bytesOut, "hi\r\n".length);
  });
});
