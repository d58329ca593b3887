import { expect } from "chai";
import { Mccp2Option } from "../../../plugins/telnet/options/mccp2.js";
import { OptionModule, RefusedOption, type Where } from "../../../plugins/telnet/options/option-base.js";
import { recordingContext, type RecordingContext } from "./option-fixture.js";

// The RFC 1143 (Q method) state machine every telnet option runs on (options/option-base.ts, Portico's
// own since telnetlib's EventEmitter-based TelnetOption cost ~330 bytes per option, eleven per session).

class Probe extends OptionModule {
  readonly hooks: string[] = [];
  constructor(ctx: RecordingContext, code = 200) {
    super(ctx, code);
  }

  offer(): void {
    this.requestRemote();
  }

  agreeLocal(): void {
    this.agreesLocal = true;
  }

  protected override onEnabled(at: Where): void {
    this.hooks.push(`enabled ${at}`);
  }

  protected override onDisabled(at: Where): void {
    this.hooks.push(`disabled ${at}`);
  }

  protected override onRefused(at: Where): void {
    this.hooks.push(`refused ${at}`);
  }
}

describe("telnet option state machine (RFC 1143)", () => {
  it("keeps its code and starts with both sides NO, queues EMPTY", () => {
    const o = new Probe(recordingContext(), 201);
    expect([o.code, o.us, o.him, o.usq, o.himq, o.enabledLocal, o.enabledRemote]).to.deep.equal([201, "NO", "NO", "EMPTY", "EMPTY", false, false]);
    expect(o.offeredAtConnect).to.equal(true);
  });

  it("remote side: DO, WILL ⇒ YES and enabled once; WONT ⇒ NO, DONT, disabled once", () => {
    const ctx = recordingContext();
    const o = new Probe(ctx);
    o.offer();
    expect([ctx.written, o.him]).to.deep.equal([["DO 200"], "WANTYES"]);
    o.handleWill();
    o.handleWill();
    expect([o.him, o.enabledRemote, o.hooks]).to.deep.equal(["YES", true, ["enabled REMOTE"]]);
    o.handleWont();
    o.handleWont();
    expect([o.him, o.hooks, ctx.written]).to.deep.equal(["NO", ["enabled REMOTE", "disabled REMOTE"], ["DO 200", "DONT 200"]]);
    expect(ctx.flagChanges).to.equal(2);
  });

  it("a refused request (WONT to our DO) calls onRefused, not disabled", () => {
    const ctx = recordingContext();
    const o = new Probe(ctx);
    o.offer();
    o.handleWont();
    expect([o.him, o.hooks, ctx.written]).to.deep.equal(["NO", ["refused REMOTE"], ["DO 200"]]);
  });

  it("an unrequested WILL is agreed when we agree (DO, then enabled) and refused otherwise (DONT)", () => {
    const agreed = recordingContext();
    const o = new Probe(agreed);
    o.requestRemote();
    o.handleWont();
    o.handleWill();
    expect([o.him, agreed.written]).to.deep.equal(["YES", ["DO 200", "DO 200"]]);
    const refused = recordingContext();
    const r = new RefusedOption(refused, 77);
    r.handleWill();
    r.handleDo();
    expect([r.him, r.us, refused.written, r.offeredAtConnect]).to.deep.equal(["NO", "NO", ["DONT 77", "WONT 77"], false]);
  });

  it("an unrequested DO we agree to: WILL is written before the enable hook runs (MCCP2 must not compress its own WILL)", () => {
    const ctx = recordingContext();
    const mccp = new Mccp2Option(ctx);
    mccp.offer();
    mccp.handleDont();
    const order: string[] = [];
    ctx.sendCommand = (verb, code) => order.push(`command ${verb} ${code}`);
    ctx.writeRaw = () => order.push("raw");
    ctx.startCompression = () => order.push("compress");
    mccp.requestLocal();
    mccp.handleDont();
    order.length = 0;
    // now NO with our agreement on record: the client's DO is answered WILL, then MCCP2 starts
    mccp.handleDo();
    expect(order).to.deep.equal(["command 251 86", "raw", "compress"]);
    expect(mccp.us).to.equal("YES");
  });

  it("local side, a DO answering our WONT while a new WILL is queued: YES with an empty queue (telnetlib left it OPPOSITE)", () => {
    const ctx = recordingContext();
    const o = new Probe(ctx);
    o.agreeLocal();
    o.handleDo();
    expect(o.us).to.equal("YES");
    o.releaseLocal();
    expect(o.us).to.equal("WANTNO");
    o.requestLocal();
    expect(o.usq).to.equal("OPPOSITE");
    o.handleDo();
    expect([o.us, o.usq]).to.deep.equal(["YES", "EMPTY"]);
    // a later cycle is then answered normally
    o.handleDont();
    expect(o.us).to.equal("NO");
    o.requestLocal();
    o.handleDo();
    expect(o.us).to.equal("YES");
    expect(ctx.written).to.deep.equal(["WILL 200", "WONT 200", "WONT 200", "WILL 200"]);
  });

  it("remote side queueing: DONT while our DO is unanswered waits for the WILL, then asks DONT", () => {
    const ctx = recordingContext();
    const o = new Probe(ctx);
    o.offer();
    o.himq = "OPPOSITE";
    o.handleWill();
    expect([o.him, o.himq, ctx.written]).to.deep.equal(["WANTNO", "EMPTY", ["DO 200", "DONT 200"]]);
    o.handleWont();
    expect(o.him).to.equal("NO");
  });
});
