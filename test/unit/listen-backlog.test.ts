import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_LISTEN_BACKLOG, PortalError } from "../../core/index.js";
import { effectiveBacklog, readSomaxconn } from "../../core/net/somaxconn.js";
import { PluginTestBed } from "../../core/testing/index.js";
import { lineManifest } from "../../plugin-template/src/index.js";
import { parseTelnetConfig } from "../../plugins/telnet/config.js";
import { telnetManifest } from "../../plugins/telnet/index.js";
import { parseWebsocketConfig } from "../../plugins/websocket/config.js";
import { websocketManifest } from "../../plugins/websocket/index.js";

// A burst of connections larger than the listen backlog overflows the kernel's accept queue, and
// every connection that overflowed waits for its client's SYN retry (1 s or more). The backlog is a
// listener key (`backlog`, default 4096, capped by the kernel at net.core.somaxconn) that must reach
// server.listen().

function rejection(parse: (raw: unknown) => unknown, raw: unknown): PortalError {
  try {
    parse(raw);
  } catch (err) {
    expect(err).to.be.instanceOf(PortalError);
    return err as PortalError;
  }
  return expect.fail(`${JSON.stringify(raw)} was accepted`);
}

describe("listen backlog (listener key `backlog`)", () => {
  describe("config", () => {
    for (const [name, parse] of [["telnet", parseTelnetConfig], ["websocket", parseWebsocketConfig]] as const) {
      it(`${name}: defaults to ${DEFAULT_LISTEN_BACKLOG}, keeps 1–65535, refuses the rest naming the key`, () => {
        expect(DEFAULT_LISTEN_BACKLOG).to.equal(4096);
        expect(parse({}).backlog).to.equal(4096);
        expect(parse({ backlog: 1 }).backlog).to.equal(1);
        expect(parse({ backlog: 65535 }).backlog).to.equal(65535);
        for (const bad of [0, 65536, 100.5, "511", null]) {
          const err = rejection(parse, { backlog: bad });
          expect(err.code).to.equal("PORTAL_ERR_PLUGIN_CONFIG");
          expect(err.details.field).to.equal("backlog");
        }
      });
    }
  });

  describe("somaxconn", () => {
    let dir: string;
    beforeEach(() => (dir = mkdtempSync(join(tmpdir(), "portico-somaxconn-"))));
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it("reads the kernel's cap; undefined when the file is missing or holds no positive number", () => {
      const file = join(dir, "somaxconn");
      writeFileSync(file, "4096\n");
      expect(readSomaxconn(file)).to.equal(4096);
      writeFileSync(file, "nonsense\n");
      expect(readSomaxconn(file)).to.equal(undefined);
      writeFileSync(file, "0\n");
      expect(readSomaxconn(file)).to.equal(undefined);
      expect(readSomaxconn(join(dir, "missing"))).to.equal(undefined);
    });

    it("the effective backlog is the requested one capped at somaxconn (uncapped when unknown)", () => {
      expect(effectiveBacklog(4096, 128)).to.equal(128);
      expect(effectiveBacklog(100, 4096)).to.equal(100);
      expect(effectiveBacklog(8192, undefined)).to.equal(8192);
    });
  });

  describe("reaches server.listen()", () => {
    const original = Server.prototype.listen;
    const asked: unknown[] = [];
    let bed: PluginTestBed;

    beforeEach(() => {
      asked.length = 0;
      // http.Server (the websocket listener) inherits net.Server's listen.
      Server.prototype.listen = function (this: Server, ...args: unknown[]) {
        const first = args[0];
        if (typeof first === "object" && first !== null) asked.push((first as { backlog?: unknown }).backlog);
        return (original as (...a: unknown[]) => Server).apply(this, args);
      } as typeof Server.prototype.listen;
      bed = new PluginTestBed({ plugins: [telnetManifest, websocketManifest, lineManifest] });
    });

    afterEach(async () => {
      Server.prototype.listen = original;
      await bed.stop();
    });

    const kernel = (n: number) => effectiveBacklog(n, readSomaxconn());

    it("telnet: the configured backlog is asked for, and status reports what the kernel uses", async () => {
      const telnet = await bed.listen(telnetManifest, { backlog: 123 });
      expect(asked).to.deep.equal([123]);
      expect(telnet.status().backlog).to.equal(kernel(123));
    });

    it("websocket: the configured backlog is asked for", async () => {
      const web = await bed.listen(websocketManifest, { backlog: 77, webclient: false });
      expect(asked).to.deep.equal([77]);
      expect(web.status().backlog).to.equal(kernel(77));
    });

    it("a listener whose config has no backlog key (a third-party plugin) gets the default", async () => {
      const line = await bed.listen(lineManifest, {});
      expect(asked).to.deep.equal([DEFAULT_LISTEN_BACKLOG]);
      expect(line.status().backlog).to.equal(kernel(DEFAULT_LISTEN_BACKLOG));
    });
  });
});
