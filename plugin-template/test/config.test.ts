import assert from "node:assert/strict";
import { parsePluginConfig, PortalError } from "portico";
import { lineConfigSchema, lineManifest } from "../src/index.js";

const parse = (raw: unknown) => parsePluginConfig(lineManifest.path, lineConfigSchema, raw);

function refused(raw: unknown): PortalError {
  try {
    parse(raw);
  } catch (err) {
    assert.ok(err instanceof PortalError);
    return err;
  }
  return assert.fail(`config ${JSON.stringify(raw)} was accepted`);
}

describe("line plugin config", () => {
  it("fills the defaults", () => {
    assert.deepEqual(parse({}), { host: "0.0.0.0", port: 4010, tls: null, maxLineBytes: 16 * 1024 });
    assert.deepEqual(parse({ host: "127.0.0.1", port: 0 }), { host: "127.0.0.1", port: 0, tls: null, maxLineBytes: 16 * 1024 });
  });

  it("refuses bad values and unknown keys, naming the key", () => {
    const err = refused({ port: "x" });
    assert.equal(err.code, "PORTAL_ERR_PLUGIN_CONFIG");
    assert.equal(err.message, 'portico-plugin-line.LineFactory config "port": expected a number, got "x"');
    assert.equal(refused({ maxLineBytes: 8 }).message, 'portico-plugin-line.LineFactory config "maxLineBytes": must be between 16 and 16777216, got 8');
    assert.equal(refused({ colour: 1 }).message, 'portico-plugin-line.LineFactory config "colour": unknown key');
    assert.equal(refused({ tls: { certFile: "c.pem" } }).message, 'portico-plugin-line.LineFactory config "tls.keyFile": missing, expected a string');
  });
});
