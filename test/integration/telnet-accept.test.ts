import { expect } from "chai";
import { connect, type Socket } from "node:net";
import { PluginTestBed, TrackingClock, sleep, waitFor } from "../../core/testing/index.js";
import { telnetManifest } from "../../plugins/telnet/index.js";

// What a telnet connection costs the portal (docs/performance.md, "Connection bursts and idle
// sessions"): the offers go out in one write, and an idle session holds no timer of its own — the
// negotiation deadline and the keep-alive of every session of a listener run on one timer each.

const IAC = 255, WILL = 251, DO = 253, NOP = 241;
const OFFERS = Buffer.from([
  IAC, WILL, 3, IAC, DO, 31, IAC, DO, 24, IAC, WILL, 86, IAC, WILL, 70,
  IAC, WILL, 69, IAC, WILL, 201, IAC, WILL, 91, IAC, WILL, 25, IAC, WILL, 42,
]);

interface Client {
  socket: Socket;
  chunks: Buffer[];
  readonly bytes: Buffer;
}

describe("telnet accept path and shared timers", function () {
  this.timeout(20_000);
  let bed: PluginTestBed;
  let clock: TrackingClock;
  const clients: Client[] = [];

  beforeEach(() => {
    clock = new TrackingClock();
    bed = new PluginTestBed({ plugins: [telnetManifest], clock });
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) c.socket.destroy();
    await bed.stop();
  });

  async function open(port: number): Promise<Client> {
    const socket = connect({ host: "127.0.0.1", port });
    const client: Client = {
      socket, chunks: [],
      get bytes() {
        return Buffer.concat(this.chunks);
      },
    };
    clients.push(client);
    socket.on("data", (b: Buffer) => client.chunks.push(b));
    socket.on("error", () => undefined);
    await new Promise((resolve) => socket.once("connect", resolve));
    return client;
  }

  it("writes every offer in one write, in the documented order", async () => {
    const telnet = await bed.listen(telnetManifest, {});
    const c = await open(telnet.port);
    await waitFor(() => c.bytes.length >= OFFERS.length, 2000, "the offers");
    expect(c.chunks[0]!.toString("hex")).to.equal(OFFERS.toString("hex"));
  });

  it("many idle sessions hold one negotiation timer and one keep-alive timer between them, all firing on time", async () => {
    const telnet = await bed.listen(telnetManifest, { handshakeTimeoutMs: 300, keepaliveMs: 400 });
    const before = clock.pendingTimers;
    const cs: Client[] = [];
    for (let i = 0; i < 40; i++) cs.push(await open(telnet.port));
    await waitFor(() => bed.game.sessions.length === 40, 5000, "40 sessions");
    // the throttle is off; one handshake timer and one keep-alive timer for all 40
    expect(clock.pendingTimers - before).to.be.at.most(2);
    // every negotiation deadline passes (nobody answers): one resync each
    await waitFor(() => bed.game.ofOp("session-connect-sync").length === 40, 3000, "40 resyncs after the deadline");
    // every session gets its NOP, more than once
    await waitFor(() => cs.every((c) => countNops(c.bytes) >= 2), 3000, "two NOPs each");
    expect(clock.pendingTimers - before).to.be.at.most(1);
    // closing them all leaves no timer behind
    for (const c of cs) c.socket.destroy();
    await waitFor(() => bed.game.sessions.length === 0, 5000, "all sessions gone");
    await sleep(20);
    expect(clock.pendingTimers).to.equal(before);
  });

  it("a session that answers every offer completes at once and leaves the shared deadline to the others", async () => {
    const telnet = await bed.listen(telnetManifest, { handshakeTimeoutMs: 60_000, keepaliveMs: 0, mccp: false, oob: false, mxp: false, mssp: false });
    const quiet = await open(telnet.port);
    const answering = await open(telnet.port);
    await waitFor(() => answering.bytes.length >= 15, 2000, "the offers");
    // WILL NAWS/TTYPE, DO SGA/EOR/CHARSET; TTYPE is then refused to end its cycle
    answering.socket.write(Buffer.from([IAC, DO, 3, IAC, WILL, 31, IAC, 252, 24, IAC, DO, 25, IAC, DO, 42]));
    await waitFor(() => bed.game.ofOp("session-connect-sync").length === 1, 2000, "the answering client's resync");
    expect(quiet.bytes.length).to.be.greaterThan(0);
    expect(clock.pendingTimers).to.be.at.least(1);
  });
});

function countNops(bytes: Buffer): number {
  let n = 0;
  for (let i = 0; i + 1 < bytes.length; i++) if (bytes[i] === IAC && bytes[i + 1] === NOP) n++;
  return n;
}
