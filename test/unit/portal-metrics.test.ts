import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Portal } from "../../core/index.js";
import { createPortalMetrics } from "../../core/metrics/portal-metrics.js";
import { MemoryLogger } from "../../core/testing/index.js";

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
});
