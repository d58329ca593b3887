import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Portal } from "../../core/index.js";
import { createPortalMetrics } from "../../core/metrics/portal-metrics.js";
import { MemoryLogger, RecordingSession } from "../../core/testing/index.js";

describe("portal metrics: portico_link_drops_total", () => {
  let dataDir: string;
  let portal: Portal;

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "portico-metrics-"));
    portal = new Portal({ config: { dataDir, link: { port: 0 } }, logger: new MemoryLogger() });
    await portal.start();
  });

  afterEach(async () => {
    await portal.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("is a counter labelled by code, read from portal.linkDrops at scrape time", async () => {
    const registry = createPortalMetrics({ portal });
    let text = await registry.metrics();
    expect(text).to.contain("# TYPE portico_link_drops_total counter");
    expect(text).to.not.match(/^portico_link_drops_total\{/m);
    portal.linkDrops.set("PORTAL_ERR_LINK_TIMEOUT", 2);
    portal.linkDrops.set("clean", 1);
    text = await registry.metrics();
    expect(text).to.match(/^portico_link_drops_total\{code="PORTAL_ERR_LINK_TIMEOUT"\} 2$/m);
    expect(text).to.match(/^portico_link_drops_total\{code="clean"\} 1$/m);
    portal.linkDrops.set("PORTAL_ERR_LINK_TIMEOUT", 3);
    text = await registry.metrics();
    expect(text).to.match(/^portico_link_drops_total\{code="PORTAL_ERR_LINK_TIMEOUT"\} 3$/m);
  });

  it("portico_pending_inputs and portico_pending_input_bytes count input kept until the game acknowledges it", async () => {
    const registry = createPortalMetrics({ portal });
    const s = new RecordingSession();
    portal.handler.connect(s);
    // no game is linked: the input is kept for the next one
    s.input("look");
    s.input("say hello");
    const text = await registry.metrics();
    expect(text).to.match(/^portico_pending_inputs 2$/m);
    const bytes = Number(/^portico_pending_input_bytes (\d+)$/m.exec(text)?.[1]);
    expect(bytes).to.equal(portal.handler.pendingInputBytes);
    expect(bytes).to.be.greaterThan("look".length + "say hello".length);
  });
});
