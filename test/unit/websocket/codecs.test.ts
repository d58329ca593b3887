import { expect } from "chai";
import { gameNameFromGmcp } from "../../../core/index.js";
import { evenniaV1, mudGmcp, mudJson, mudTerminal } from "../../../plugins/websocket/codecs/index.js";
import { jsonDepth, parseJson } from "../../../plugins/websocket/codecs/codec-helpers.js";
import { OutputHistory } from "../../../plugins/websocket/output-history.js";
import { ResumeTokens } from "../../../plugins/websocket/resume-tokens.js";

const limits = { maxJsonDepth: 4 };
const buf = (s: string) => Buffer.from(s, "utf8");

describe("websocket codecs and helpers", () => {
  it("jsonDepth counts brackets outside strings only, escapes included", () => {
    expect(jsonDepth('["a", [1, {"b": [2]}]]', 99)).to.equal(4);
    expect(jsonDepth('["[[[[", "\\"[[["]', 99)).to.equal(1);
    expect(jsonDepth("[".repeat(1000), 10)).to.equal(11);
    expect(parseJson("[[[[[1]]]]]", 4)).to.deep.equal({ ok: false, why: "JSON nested deeper than 4" });
    expect(parseJson("[[1]]", 4)).to.deep.equal({ ok: true, value: [[1]] });
  });

  it("v1 decodes [cmd, [args], {kwargs}] and nothing else; websocket_close closes", () => {
    expect(evenniaV1.decode(buf('["text",["look"],{"cmdid":1},"extra"]'), false, limits)).to.deep.equal({ kind: "input", commands: [["text", ["look"], { cmdid: 1 }]] });
    expect(evenniaV1.decode(buf('["websocket_close",[],{}]'), false, limits)).to.deep.equal({ kind: "close" });
    for (const bad of ["", "[]", '["x"]', '["x",[]]', '[1,[],{}]', '[" ",[],{}]', '["x",{},{}]', '["x",[],null]', '{"a":1}', "[[[[[[]]]]],[],{}]"]) {
      expect(evenniaV1.decode(buf(bad), false, limits).kind, bad).to.equal("ignored");
    }
  });

  it("json envelopes: scalars, objects and arrays become args or kwargs; bad envelopes are ignored", () => {
    expect(mudJson.decode(buf('{"proto":"x","id":"go","data":"north"}'), false, limits)).to.deep.equal({ kind: "input", commands: [["go", ["north"], {}]] });
    expect(mudJson.decode(buf('{"proto":"go","data":{"dir":"n"}}'), false, limits)).to.deep.equal({ kind: "input", commands: [["go", [], { dir: "n" }]] });
    expect(mudJson.decode(buf('{"proto":"gmcp","id":"","data":1}'), false, limits).kind).to.equal("ignored");
    expect(mudJson.decode(buf('{"proto":"text","data":""}'), false, limits).kind).to.equal("ignored");
    expect(mudJson.decode(buf("[1]"), false, limits).kind).to.equal("ignored");
    expect(mudJson.decode(Buffer.from([0xc3, 0x28]), true, limits).kind).to.equal("ignored");
  });

  it("an envelope id that String() throws on, or a blank GMCP id, is ignored; GMCP `Core.` names a command (fuzz-websocket regression)", () => {
    // Found by test/torture/fuzz-websocket.test.ts: {"id": {"toString": 1}} threw out of decode (an
    // uncaught exception in the portal), and `Core.` or a blank id gave the game a command named "".
    const hostile = buf('{"proto":"x","id":{"toString":1,"valueOf":2}}');
    expect(() => mudJson.decode(hostile, false, limits)).to.not.throw();
    expect(mudJson.decode(hostile, false, limits).kind).to.equal("ignored");
    expect(mudJson.decode(buf('{"proto":"gmcp","id":" "}'), false, limits).kind).to.equal("ignored");
    expect(mudJson.decode(buf('{"proto":"gmcp","id":"Core."}'), false, limits)).to.deep.equal({ kind: "input", commands: [["core_", [], {}]] });
    expect(mudGmcp.decode(buf("Core. {}"), false, limits)).to.deep.equal({ kind: "input", commands: [["core_", [], {}]] });
    expect(mudGmcp.decode(buf("core_ 1"), false, limits)).to.deep.equal({ kind: "input", commands: [["core_", [1], {}]] });
    expect([gameNameFromGmcp("Core.Ping"), gameNameFromGmcp("Core.Hello"), gameNameFromGmcp(".")]).to.deep.equal(["ping", "hello", "_"]);
  });

  it("terminal drops out-of-band output; text goes out as BINARY", () => {
    expect(mudTerminal.oob("char_vitals", [], {})).to.equal(undefined);
    expect(mudTerminal.text("hi", {}, {})).to.deep.include({ binary: true });
  });

  it("the output history is bounded by count and bytes, and says how much was lost", () => {
    const h = new OutputHistory(3, 1000);
    for (let i = 1; i <= 5; i++) h.record(["text", [`line ${i}`], {}]);
    expect(h.since(1)).to.deep.equal({ tuples: [["text", ["line 3"], {}], ["text", ["line 4"], {}], ["text", ["line 5"], {}]], lost: 1 });
    expect(h.since(5)).to.deep.equal({ tuples: [], lost: 0 });
    const small = new OutputHistory(100, 50);
    small.record(["text", ["x".repeat(100)], {}]);
    expect(small.since(0)).to.deep.equal({ tuples: [], lost: 1 });
  });

  it("resume tokens are single use, expire, and a new one revokes the old", () => {
    const tokens = new ResumeTokens<object>();
    const s = {};
    const a = tokens.issue(s, 1000);
    expect(a).to.match(/^[A-Za-z0-9_-]{43}$/);
    const b = tokens.issue(s, 1000);
    expect(tokens.take(a, 0)).to.equal(undefined);
    expect(tokens.take(b, 0)).to.equal(s);
    expect(tokens.take(b, 0)).to.equal(undefined);
    const c = tokens.issue(s, 10);
    expect(tokens.take(c, 11)).to.equal(undefined);
    const d = tokens.issue(s, 10);
    tokens.extend(s, 100);
    expect(tokens.take(d, 50)).to.equal(s);
    expect(tokens.size).to.equal(0);
  });
});
