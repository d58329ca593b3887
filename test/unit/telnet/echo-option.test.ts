import { expect } from "chai";
import { EchoOption } from "../../../plugins/telnet/options/echo.js";
import { recordingContext } from "./option-fixture.js";

describe("ECHO option (RFC 1143 queueing)", () => {
  it("is WONT by default and refuses a client's DO ECHO", () => {
    const ctx = recordingContext();
    const echo = new EchoOption(ctx);
    echo.offer();
    expect(ctx.written).to.deep.equal([]);
    expect(echo.masking).to.equal(false);
    echo.handleDo();
    expect(ctx.written).to.deep.equal(["WONT 1"]);
  });

  it("mask on ⇒ WILL; answered; mask off ⇒ WONT; answered", () => {
    const ctx = recordingContext();
    const echo = new EchoOption(ctx);
    echo.mask(true);
    expect(ctx.written).to.deep.equal(["WILL 1"]);
    expect(echo.masking).to.equal(true);
    echo.handleDo();
    expect(echo.us).to.equal("YES");
    echo.mask(false);
    expect(ctx.written).to.deep.equal(["WILL 1", "WONT 1"]);
    echo.handleDont();
    expect(echo.us).to.equal("NO");
    expect(echo.masking).to.equal(false);
    expect(ctx.written).to.deep.equal(["WILL 1", "WONT 1"]);
  });

  it("mask on again while the WONT is unanswered ⇒ WILL once the client's DONT arrives", () => {
    const ctx = recordingContext();
    const echo = new EchoOption(ctx);
    echo.mask(true);
    echo.handleDo();
    echo.mask(false);
    echo.mask(true);
    expect(echo.masking).to.equal(true);
    expect(ctx.written).to.deep.equal(["WILL 1", "WONT 1"]);
    echo.handleDont();
    expect(ctx.written).to.deep.equal(["WILL 1", "WONT 1", "WILL 1"]);
    echo.handleDo();
    expect(echo.us).to.equal("YES");
  });

  it("mask off while the WILL is unanswered ⇒ WONT once the client's DO arrives", () => {
    const ctx = recordingContext();
    const echo = new EchoOption(ctx);
    echo.mask(true);
    echo.mask(false);
    expect(ctx.written).to.deep.equal(["WILL 1"]);
    echo.handleDo();
    expect(ctx.written).to.deep.equal(["WILL 1", "WONT 1"]);
    echo.handleDont();
    expect(echo.us).to.equal("NO");
    expect(echo.masking).to.equal(false);
  });

  it("repeated requests in the same direction send nothing more", () => {
    const ctx = recordingContext();
    const echo = new EchoOption(ctx);
    echo.mask(true);
    echo.mask(true);
    echo.handleDo();
    echo.mask(true);
    expect(ctx.written).to.deep.equal(["WILL 1"]);
    echo.mask(false);
    echo.mask(false);
    echo.handleDont();
    echo.mask(false);
    expect(ctx.written).to.deep.equal(["WILL 1", "WONT 1"]);
  });
});
