import { expect } from "chai";
import { PortalError } from "../../../core/index.js";
import { parseLineConfig } from "../../../plugin-template/src/config.js";

function rejected(raw: unknown): PortalError {
  try {
    parseLineConfig(raw);
  } catch (err) {
    expect(err).to.be.instanceOf(PortalError);
    return err as PortalError;
  }
  return expect.fail(`line config ${JSON.stringify(raw)} was accepted`);
}

describe("plugin template config (lineConfigSchema)", () => {
  it("defaults are the ones the hand-written reader had", () => {
    expect(parseLineConfig({})).to.deep.equal({ host: "0.0.0.0", port: 4000, maxLineBytes: 16 * 1024 });
    expect(parseLineConfig({ host: "127.0.0.1", port: 0 })).to.deep.equal({ host: "127.0.0.1", port: 0, maxLineBytes: 16 * 1024 });
  });

  it("bad values and unknown keys → PORTAL_ERR_PLUGIN_CONFIG naming the key", () => {
    const err = rejected({ port: "x" });
    expect(err.code).to.equal("PORTAL_ERR_PLUGIN_CONFIG");
    expect(err.message).to.equal('plugins.line.LineFactory config "port": expected a number, got "x"');
    expect(err.details).to.deep.equal({ plugin: "plugins.line.LineFactory", field: "port" });
    expect(rejected({ maxLineBytes: 8 }).message).to.equal('plugins.line.LineFactory config "maxLineBytes": must be between 16 and 16777216, got 8');
    expect(rejected({ colour: 1 }).message).to.equal('plugins.line.LineFactory config "colour": unknown key');
  });
});
