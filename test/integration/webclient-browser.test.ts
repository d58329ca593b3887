import { expect } from "chai";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { PORTICO_ROOT } from "../../core/version.js";
import { sleep, waitFor } from "../../core/testing/wait-for.js";
import { PorticoProcess } from "../support/portico-process.js";
import { TcpProxy } from "../support/tcp-proxy.js";
import { TelnetTestClient } from "../support/telnet-client.js";

/** Where the browser test saves its screenshots (kept after the run; ignored by git). */
export const ARTIFACTS = join(PORTICO_ROOT, "test-artifacts");

/** Debian's Chromium, headless, with nothing that would reach beyond this machine. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
  });
}

// The web client in a real browser against `portico start` (telnet, websocket, the default game): an
// account is created, echo-off password entry, a line from a telnet player, a dropped network and the
// same session back (resume), phone width; no request leaves this machine.
describe("web client in headless Chromium (portico start)", function () {
  this.timeout(90_000);
  let portico: PorticoProcess;
  let proxy: TcpProxy;
  let browser: Browser;
  let page: Page;
  const requests: string[] = [];
  const clients: TelnetTestClient[] = [];

  const outputText = () => page.locator("#output").innerText();
  async function waitOutput(text: string, timeoutMs = 10_000): Promise<void> {
    await waitFor(async () => (await outputText()).includes(text), timeoutMs, `page output to contain ${JSON.stringify(text)}`);
  }
  async function type(line: string): Promise<void> {
    await page.locator("#input").fill(line);
    await page.locator("#input").press("Enter");
  }
  async function status(): Promise<{ sessions: { total: number; logged_in: number; by_protocol: Record<string, number>; by_variant: Record<string, number> }; plugins: { path: string; status: Record<string, unknown> }[] }> {
    return JSON.parse((await portico.cli(["status", "--json"])).stdout);
  }

  before(async () => {
    portico = PorticoProcess.start();
    const { webPort } = await portico.ready(30_000);
    proxy = await TcpProxy.start(webPort!);
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
    page = await context.newPage();
    page.on("request", (r) => requests.push(r.url()));
    page.on("websocket", (ws) => requests.push(ws.url()));
  });

  after(async () => {
    for (const c of clients) c.close();
    await browser?.close();
    await proxy?.close();
    await portico?.kill();
  });

  it("loads the page, creates an account, and quits (the game ends the session: no automatic reconnect)", async () => {
    await page.goto(`http://127.0.0.1:${proxy.port}/`);
    await waitOutput("Welcome to Portico!");
    expect(await page.locator("#state").innerText()).to.contain("Connected");
    expect(await page.title()).to.equal("Portico");
    await type("create Alice secret1");
    await waitOutput("Welcome, Alice!");
    expect(await page.locator("#state").innerText()).to.equal("Connected, logged in");
    await type("quit");
    await waitFor(async () => (await page.locator("#state").innerText()) === "Disconnected", 10_000, "the page to show it is disconnected");
    expect(await page.locator("#reconnect").isVisible()).to.equal(true);
  });

  it("reconnects on request; the password prompt turns the input into a password field and back", async () => {
    await page.locator("#reconnect").click();
    await waitFor(async () => (await outputText()).split("Welcome to Portico!").length >= 3, 10_000, "a second banner");
    await type("connect Alice");
    await waitFor(async () => (await page.locator("#input").getAttribute("type")) === "password", 10_000, "a password field");
    await type("secret1");
    await waitOutput("Welcome, Alice!");
    await waitFor(async () => (await page.locator("#input").getAttribute("type")) === "text", 10_000, "a text field again");
    expect(await outputText()).to.not.include("secret1");
  });

  it("sees a telnet player's line and is seen by them", async () => {
    const bob = await TelnetTestClient.open((await portico.ready()).telnetPort);
    clients.push(bob);
    await bob.waitForLine("Welcome to Portico!");
    bob.send("create Bob secret2");
    await bob.waitForLine("Welcome, Bob!");
    bob.send("say hello browser");
    await waitOutput('Bob says, "hello browser"');
    await type("say hello telnet");
    await bob.waitForLine('Alice says, "hello telnet"');
    const s = await status();
    expect(s.sessions.by_variant).to.deep.equal({ "websocket v1.evennia.com": 1 });
    expect((await portico.cli(["status"])).stdout).to.contain("variants:  websocket v1.evennia.com 1");
    const metrics = await (await fetch(`http://127.0.0.1:${(await portico.ready()).adminPort}/metrics`)).text();
    expect(metrics).to.contain('portico_sessions{protocol="websocket",variant="v1.evennia.com"} 1');
    expect(metrics).to.contain('portico_sessions{protocol="telnet",variant=""} 1');
  });

  it("goes offline and back: the same session, still logged in, the missed line replayed, the game told nothing", async () => {
    const bob = clients[0]!;
    proxy.cut(1500);
    await waitFor(async () => (await page.locator("#state").getAttribute("class")) === "state-waiting", 10_000, "the page to show it is reconnecting");
    const during = await status();
    expect(during.sessions.by_protocol.websocket).to.equal(1);
    expect(during.sessions.logged_in).to.equal(2);
    expect(during.plugins.find((p) => p.path === "plugins.websocket.WebsocketFactory")!.status.detached).to.equal(1);
    bob.send("say while you were away");
    await waitOutput('Bob says, "while you were away"', 20_000);
    await waitFor(async () => (await page.locator("#state").innerText()) === "Connected, logged in", 5000, "the page to show it is logged in again");
    const banners = (await outputText()).split("Welcome to Portico!").length - 1;
    expect(banners).to.equal(2);
    await type("say back again");
    await bob.waitForLine('Alice says, "back again"');
    const after = await status();
    expect(after.sessions.total).to.equal(2);
    expect(after.plugins.find((p) => p.path === "plugins.websocket.WebsocketFactory")!.status.detached).to.equal(0);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, "webclient.png") });
  });

  it("shows when the browser is offline, and reconnects as soon as it is online again (not at the next back-off step)", async () => {
    const bob = clients[0]!;
    await page.context().setOffline(true);
    proxy.cut(); // the network is gone: the socket drops, and attempts fail until it is back
    await waitFor(async () => (await page.locator("#state").innerText()).startsWith("Offline"), 10_000, "the page to show it is offline");
    bob.send("say are you there");
    await sleep(3500); // the back-off has grown to seconds by now
    const t0 = Date.now();
    await page.context().setOffline(false);
    await waitOutput('Bob says, "are you there"', 10_000);
    expect(Date.now() - t0).to.be.lessThan(2000);
    await waitFor(async () => (await page.locator("#state").innerText()) === "Connected, logged in", 5000, "connected again");
    expect((await status()).plugins.find((p) => p.path === "plugins.websocket.WebsocketFactory")!.status.detached).to.equal(0);
  });

  it("is usable at phone width (no sideways scrolling; the input line is on screen)", async () => {
    await page.setViewportSize({ width: 360, height: 640 });
    const widths = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
    expect(widths.scroll).to.be.at.most(widths.client);
    const box = await page.locator("#input").boundingBox();
    expect(box!.y + box!.height).to.be.at.most(640);
    await page.screenshot({ path: join(ARTIFACTS, "webclient-phone.png") });
  });

  it("made no request beyond this machine", () => {
    expect(requests.length).to.be.greaterThan(3);
    expect(requests.filter((u) => !/^(https?|wss?):\/\/127\.0\.0\.1:\d+\//.test(u) && !u.startsWith("data:"))).to.deep.equal([]);
  });
});
