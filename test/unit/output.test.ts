import { expect } from "chai";
import { ErrorCodes } from "../../core/errors/error-codes.js";
import { isCommandTuple, normalizeOutput, prepareTuples, type Kwargs } from "../../core/messages/command-tuple.js";
import { dispatchOutput } from "../../core/sessions/output-dispatcher.js";
import { CORE, PortalSession } from "../../core/sessions/portal-session.js";
import { MemoryLogger } from "../../core/testing/index.js";
import { makeHarness } from "./session-handler-fixture.js";


/** A protocol session with a few send_<name> methods; send_a throws. */
class DispatchSession extends PortalSession {
  readonly calls: [string, unknown[], Kwargs][] = [];

  constructor() {
    super("fake", "127.0.0.1");
    this[CORE].sessid = "portal:1:1";
  }

  protected hangUp(): void {}
  send_text(args: unknown[], kwargs: Kwargs): void {
    this.calls.push(["text", args, kwargs]);
  }
  send_a(_args: unknown[], _kwargs: Kwargs): void {
    this.calls.push(["a", _args, _kwargs]);
    throw new Error("send_a exploded");
  }
  send_b(args: unknown[], kwargs: Kwargs): void {
    this.calls.push(["b", args, kwargs]);
  }
  send_client_options(args: unknown[], kwargs: Kwargs): void {
    this.calls.push(["client_options", args, kwargs]);
  }
  override send_default(name: string, args: unknown[], kwargs: Kwargs): void {
    this.calls.push([`default:${name}`, args, kwargs]);
  }
}

describe("output", () => {
  describe("H11: dispatchOutput", () => {
    it("calls send_<name> for the trimmed, lower-cased name", () => {
      const s = new DispatchSession();
      dispatchOutput(s, [["TEXT", ["hi"], {}], ["  B ", [1], { k: 2 }], ["Client_Options", [], { options: {} }]], new MemoryLogger());
      expect(s.calls).to.deep.equal([["text", ["hi"], {}], ["b", [1], { k: 2 }], ["client_options", [], { options: {} }]]);
    });

    it("calls send_default with the original name when there is no method", () => {
      const s = new DispatchSession();
      dispatchOutput(s, [["Char.Vitals", [{ hp: 3 }], {}], ["default", [], {}], ["a-b", [], {}], ["close", [], {}]], new MemoryLogger());
      expect(s.calls).to.deep.equal([
        ["default:Char.Vitals", [{ hp: 3 }], {}],
        ["default:default", [], {}],
        ["default:a-b", [], {}],
        ["default:close", [], {}],
      ]);
    });

    it("an exception in one instruction does not block the next and is logged with PORTAL_ERR_SEND_FAILED", () => {
      const s = new DispatchSession();
      const logger = new MemoryLogger();
      dispatchOutput(s, [["a", [1], {}], ["b", [2], {}], ["A", [3], {}], ["text", ["after"], {}]], logger);
      expect(s.calls.map((c) => c[0])).to.deep.equal(["a", "b", "a", "text"]);
      const errors = logger.entries.filter((e) => e.level === "error");
      expect(errors).to.have.length(2);
      expect(errors[0]!.fields).to.deep.include({ code: ErrorCodes.SEND_FAILED, sessid: "portal:1:1", protocol: "fake", command: "a" });
      expect(errors[1]!.fields.command).to.equal("A");
      expect((errors[0]!.fields.err as Error).message).to.equal("send_a exploded");
      expect(errors[0]!.msg).to.equal("send_a failed");
    });

    it("a throwing send_default is caught too", () => {
      const s = new DispatchSession();
      s.send_default = () => {
        throw new Error("nope");
      };
      const logger = new MemoryLogger();
      dispatchOutput(s, [["Unknown", [], {}], ["b", [], {}]], logger);
      expect(s.calls.map((c) => c[0])).to.deep.equal(["b"]);
      expect(logger.codes()).to.deep.equal(["PORTAL_ERR_SEND_FAILED"]);
    });
  });

  describe("H19: prepareTuples (what data_out delivers)", () => {
    it("drops empty text, puts prompts last and adds options where missing", () => {
      const { ok, bad } = prepareTuples([
        ["prompt", ["> "], {}],
        ["text", [""], {}],
        ["text", [null], {}],
        ["text", [undefined], {}],
        ["text", [], {}],
        ["text", ["hi"], {}],
        ["foo", [1], {}],
        ["prompt", ["2> "], { options: { x: 1 } }],
      ]);
      expect(ok).to.deep.equal([
        ["text", ["hi"], { options: {} }],
        ["foo", [1], { options: {} }],
        ["prompt", ["> "], { options: {} }],
        ["prompt", ["2> "], { options: { x: 1 } }],
      ]);
      expect(bad).to.deep.equal([]);
    });

    it("replaces a non-object options and keeps text with at least one non-empty argument", () => {
      const { ok } = prepareTuples([["text", ["", "x"], { options: "raw" }]]);
      expect(ok).to.deep.equal([["text", ["", "x"], { options: {} }]]);
    });

    it("reports the indexes of malformed instructions", () => {
      const { ok, bad } = prepareTuples([
        null, "text", ["text", ["a"]], [1, [], {}], ["  ", [], {}], ["x", "args", {}], ["x", [], []], ["x", [], null], ["ok", [], {}],
      ]);
      expect(bad).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7]);
      expect(ok).to.deep.equal([["ok", [], { options: {} }]]);
    });

    it("isCommandTuple accepts exactly [name, args[], kwargs{}]", () => {
      expect(isCommandTuple(["text", [], {}])).to.equal(true);
      expect(isCommandTuple(["text", [], {}, 1])).to.equal(false);
      expect(isCommandTuple(["", [], {}])).to.equal(false);
    });

    it("through the handler: text=\"\" gives nothing; {prompt, text} gives the text first; foo=[[1],{}] carries options", () => {
      const h = makeHarness();
      const s = h.connect();
      h.handler.data_out(s.sessid, normalizeOutput({ text: "" }));
      expect(s.sent).to.deep.equal([]);
      h.handler.data_out(s.sessid, normalizeOutput({ prompt: "> ", text: "hi", foo: [[1], {}] }));
      expect(s.sent).to.deep.equal([
        { name: "text", args: ["hi"], kwargs: { options: {} } },
        { name: "default:foo", args: [1], kwargs: { options: {} } },
        { name: "prompt", args: ["> "], kwargs: { options: {} } },
      ]);
    });
  });

  describe("normalizeOutput (spec §2.1 clean_senddata table)", () => {
    const one = (value: unknown) => normalizeOutput({ foo: value });

    it("drops text that is falsy (undefined, null, false, 0, \"\") or has only empty arguments", () => {
      for (const value of [undefined, null, false, 0, "", [], [[], {}], ["", {}], [null]]) {
        expect(normalizeOutput({ text: value }), JSON.stringify(value) ?? "undefined").to.deep.equal([]);
      }
    });

    it("gives [[], {}] for a falsy value of another key", () => {
      for (const value of [undefined, null, false, 0, "", [], {}]) {
        expect(one(value), JSON.stringify(value) ?? "undefined").to.deep.equal([["foo", [], { options: {} }]]);
      }
    });

    it("a dict → [[], dict]", () => {
      expect(one({ a: 1 })).to.deep.equal([["foo", [], { a: 1, options: {} }]]);
    });

    it("[iterable, dict] → [iterable, dict]", () => {
      expect(one([[1, 2], { k: 1 }])).to.deep.equal([["foo", [1, 2], { k: 1, options: {} }]]);
    });

    it("[scalar, dict] → [[scalar], dict] (a string is a scalar)", () => {
      expect(one(["x", { k: 1 }])).to.deep.equal([["foo", ["x"], { k: 1, options: {} }]]);
      expect(one([7, {}])).to.deep.equal([["foo", [7], { options: {} }]]);
    });

    it("[a, b, ..., dict] → [[a, b, ...], dict]", () => {
      expect(one([1, "two", [3], { k: 1 }])).to.deep.equal([["foo", [1, "two", [3]], { k: 1, options: {} }]]);
    });

    it("any other array → [array, {}] (also one whose only element is a dict)", () => {
      expect(one([1, 2])).to.deep.equal([["foo", [1, 2], { options: {} }]]);
      expect(one([{ k: 1 }])).to.deep.equal([["foo", [{ k: 1 }], { options: {} }]]);
      expect(one([{ a: 1 }, 2])).to.deep.equal([["foo", [{ a: 1 }, 2], { options: {} }]]);
    });

    it("a scalar → [[scalar], {}]", () => {
      expect(one("x")).to.deep.equal([["foo", ["x"], { options: {} }]]);
      expect(one(5)).to.deep.equal([["foo", [5], { options: {} }]]);
      expect(one(true)).to.deep.equal([["foo", [true], { options: {} }]]);
    });

    it("copies the top-level options into every instruction (never shared), merged with the instruction's own", () => {
      const out = normalizeOutput({ text: "hi", bar: [[], { options: { nocolor: true } }], options: { raw: true } });
      expect(out).to.deep.equal([
        ["text", ["hi"], { options: { raw: true } }],
        ["bar", [], { options: { raw: true, nocolor: true } }],
      ]);
      expect(out[0]![2].options).to.not.equal(out[1]![2].options);
    });

    it("moves prompt last and keeps the others in order", () => {
      expect(normalizeOutput({ prompt: "> ", text: "hi", foo: "x" }).map((t) => t[0])).to.deep.equal(["text", "foo", "prompt"]);
    });

    it("does not change its input", () => {
      const spec = { text: ["hi", { a: 1 }], options: { raw: true } };
      const copy = structuredClone(spec);
      normalizeOutput(spec);
      expect(spec).to.deep.equal(copy);
    });
  });
});
