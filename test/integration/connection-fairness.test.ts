import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { Portal } from "../../core/portal.js";
import { GameSessionHandler, readLinkSecret, type GameSession } from "../../core/game/index.js";
import { MemoryLogger } from "../../core/testing/index.js";
import { waitFor } from "../../core/testing/wait-for.js";
import { bundledPlugins } from "../../plugins/index.js";

// Issue 12, item 2 as an attack on loopback: 55 source addresses (127.0.0.2–127.0.0.56, bound with
// `localAddress`) flood a real portal's telnet listener, then a new address connects. Admission is
// round-robin across addresses, so the newcomer waits about (addresses waiting / rate) seconds, not
// (connections waiting / rate) as it would in one first-come line.

const RATE = 20;
const ADDRESSES = 55;
const PER_ADDRESS = 11; // one more than connectionQueuePerIp (10): the per-address cap is hit too
const BANNER = "Welcome to Fair";
const QUEUED = "Fair DoS protection is active. You are queued to connect in ";
const PER_IP_FULL = "Fair: too many connections are waiting from your address.";
const QUEUE_FULL = "Fair is receiving too many connections right now.";

interface Client {
  readonly address: string;
  readonly socket: Socket;
  text: string;
  closed: boolean;
  openedAt: number;
  bannerAt?: number;
}

const sockets: Socket[] = [];
const cleanups: (() => Promise<void>)[] = [];

function open(port: number, localAddress: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, localAddress });
    sockets.push(socket);
    const c: Client = { address: localAddress, socket, text: "", closed: false, openedAt: 0 };
    socket.on("data", (chunk: Buffer) => {
      c.text += chunk.toString("latin1");
      if (c.bannerAt === undefined && c.text.includes(BANNER)) c.bannerAt = performance.now();
    });
    socket.on("close", () => {
      c.closed = true;
    });
    socket.once("error", reject);
    socket.once("connect", () => {
      c.openedAt = performance.now();
      socket.removeListener("error", reject);
      socket.on("error", () => undefined);
      resolve(c);
    });
  });
}

type Verdict = "admitted" | "waiting" | "per-ip" | "queue-full" | "nothing";

function verdict(c: Client): Verdict {
  if (c.text.includes(PER_IP_FULL)) return "per-ip";
  if (c.text.includes(QUEUE_FULL)) return "queue-full";
  if (c.text.includes(BANNER)) return "admitted";
  if (c.text.includes(QUEUED)) return "waiting";
  return "nothing";
}

function tally(clients: Client[]): Record<Verdict, number> {
  const n: Record<Verdict, number> = { admitted: 0, waiting: 0, "per-ip": 0, "queue-full": 0, nothing: 0 };
  for (const c of clients) n[verdict(c)] += 1;
  return n;
}

describe("connection throttle under a flood from many addresses (issue 12, live portal)", function () {
  this.timeout(60_000);

  afterEach(async function () {
    this.timeout(20_000);
    for (const s of sockets.splice(0)) s.destroy();
    for (const f of cleanups.splice(0).reverse()) await f().catch(() => undefined);
  });

  it(`${ADDRESSES} addresses × ${PER_ADDRESS} connections at ${RATE}/s: a new address gets its banner within seconds; every flood connection is admitted, waiting or refused with a message`, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "portico-fair-"));
    cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
    const logger = new MemoryLogger();
    const portal = new Portal({
      config: {
        dataDir,
        serverName: "Fair",
        link: { port: 0 },
        // connectionQueueMax (500), connectionQueuePerIp (10) and ipv6PrefixLength stay at their defaults
        limits: { maxConnectionRate: RATE },
        listeners: [{ plugin: "plugins.telnet.TelnetFactory", config: { host: "127.0.0.1", port: 0, handshakeTimeoutMs: 5000, nawsDebounceMs: 0 } }],
      },
      plugins: bundledPlugins,
      logger,
    });
    cleanups.push(() => portal.stop());
    await portal.start();
    const port = Number(portal.launcher.list()[0]!.status.port);
    const connects: GameSession[] = [];
    const sdk: GameSessionHandler = new GameSessionHandler({
      host: "127.0.0.1",
      port: portal.linkAddress!.port,
      secret: readLinkSecret(dataDir),
      callbacks: {
        onConnect: (s) => {
          connects.push(s);
          sdk.msg(s, BANNER);
        },
      },
    });
    cleanups.push(() => sdk.stop());
    sdk.start();
    await waitFor(() => sdk.ready, 3000, "game SDK synced");

    // ---- the flood: address by address, each address's connections at once ----
    const floodStart = performance.now();
    const flood: Client[] = [];
    for (let a = 2; a < 2 + ADDRESSES; a += 1) {
      flood.push(...(await Promise.all(Array.from({ length: PER_ADDRESS }, () => open(port, `127.0.0.${a}`)))));
    }
    const floodMs = performance.now() - floodStart;
    // every flood connection hears something: its banner, a queued notice, or a refusal
    await waitFor(() => flood.every((c) => verdict(c) !== "nothing"), 10_000, () => `every flood connection answered (${JSON.stringify(tally(flood))})`);
    const queuedAtArrival = portal.handler.queuedConnections;
    expect(queuedAtArrival).to.be.greaterThan(400);

    // ---- a player from a new address ----
    const player = await open(port, "127.0.0.100");
    await waitFor(() => player.bannerAt !== undefined, 10_000, () => `the player's banner (got ${JSON.stringify(player.text.replace(/[^\x20-\x7e]/g, ""))})`);
    const waitedMs = player.bannerAt! - player.openedAt;
    const told = Number(new RegExp(`${QUEUED}([\\d.]+) seconds`).exec(player.text)?.[1]);
    const fifoMs = (queuedAtArrival / RATE) * 1000;
    // eslint-disable-next-line no-console
    console.log(`      flood: ${flood.length} connections from ${ADDRESSES} addresses opened in ${floodMs.toFixed(0)} ms; ${queuedAtArrival} queued when the player came`);
    // eslint-disable-next-line no-console
    console.log(`      player from a new address: told ${Number.isNaN(told) ? "(not queued)" : `${told} s`}, banner after ${(waitedMs / 1000).toFixed(2)} s; one first-come line would have taken ≈ ${(fifoMs / 1000).toFixed(1)} s`);
    expect(waitedMs).to.be.below(((ADDRESSES + 2) / RATE) * 1000 + 1500);
    expect(waitedMs).to.be.below(fifoMs / 4);
    expect(told).to.be.at.most((ADDRESSES + 1) / RATE + 0.1);

    // ---- accounting: none lost silently ----
    // a consistent snapshot: clients that saw their banner are the game's flood sessions, clients
    // still waiting (notice, no banner, no refusal, open) are the portal's queue
    const final = await waitFor(() => {
      const n = tally(flood);
      const floodConnects = connects.length - 1; // the player
      return n.admitted === floodConnects && n.waiting === portal.handler.queuedConnections ? n : undefined;
    }, 5000, () => `client and portal counts agree (${JSON.stringify(tally(flood))}, game ${connects.length - 1}, queue ${portal.handler.queuedConnections})`);
    // eslint-disable-next-line no-console
    console.log(`      flood connections: ${JSON.stringify(final)}`);
    expect(final.nothing).to.equal(0);
    expect(final.admitted + final.waiting + final["per-ip"] + final["queue-full"]).to.equal(ADDRESSES * PER_ADDRESS);
    expect(final["per-ip"]).to.be.greaterThan(0);
    expect(final["queue-full"]).to.be.greaterThan(0);
    // refused ones were closed; waiting ones are still open
    await waitFor(() => flood.filter((c) => verdict(c) === "per-ip" || verdict(c) === "queue-full").every((c) => c.closed), 5000, "refused connections closed");
    expect(flood.filter((c) => verdict(c) === "waiting").every((c) => !c.closed)).to.equal(true);
    // each refusal was logged with its code and address
    const codes = logger.entries.map((e) => e.fields.code);
    expect(codes.filter((c) => c === "PORTAL_ERR_CONNECT_PER_IP")).to.have.length(final["per-ip"]);
    expect(codes.filter((c) => c === "PORTAL_ERR_CONNECT_QUEUE_FULL")).to.have.length(final["queue-full"]);
    // no address holds more than its share: at most connectionQueuePerIp waiting from one address
    const waitingBy = new Map<string, number>();
    for (const c of flood) if (verdict(c) === "waiting") waitingBy.set(c.address, (waitingBy.get(c.address) ?? 0) + 1);
    expect(Math.max(...waitingBy.values())).to.be.at.most(10);
  });
});
