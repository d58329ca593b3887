import { expect } from "chai";
import { createServer, connect, type Server, type Socket } from "node:net";
import { FrameDecoder } from "../../core/link/frame-codec.js";
import { LinkConnection } from "../../core/link/link-connection.js";
import { CONNECTION_NEWS_DELAY_MS } from "../../core/link/link-server.js";
import { sleep, waitFor } from "../../core/testing/index.js";

// The portal accepts one connection per event-loop turn, and the link wrote one frame per turn: in a
// burst of connections every session-connect cost a write (and a wake-up of the game) of its own.
// News of connections may now wait a few milliseconds for company; anything else still goes out at
// the end of the turn and takes the waiting news along, in order.

describe("link: messages that may wait (connection news)", () => {
  let server: Server;
  let peer: Socket;
  let conn: LinkConnection;
  const frames: unknown[][] = [];

  beforeEach(async () => {
    frames.length = 0;
    const decoder = new FrameDecoder(1024 * 1024);
    const accepted = new Promise<Socket>((resolve) => {
      server = createServer((s) => {
        s.on("data", (chunk: Buffer) => {
          for (const f of decoder.push(chunk)) frames.push(JSON.parse(f) as unknown[]);
        });
        resolve(s);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const socket = connect((server.address() as { port: number }).port, "127.0.0.1");
    await new Promise((resolve) => socket.once("connect", resolve));
    peer = await accepted;
    conn = new LinkConnection(socket, { maxFrameBytes: 1024 * 1024, batchMaxBytes: 256 * 1024, heartbeatMs: 60_000, maxBufferedBytes: 1024 * 1024 }, {
      message: () => undefined, fault: () => undefined, closed: () => undefined,
    });
  });

  afterEach(async () => {
    conn.destroy();
    peer.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  const ops = () => frames.map((f) => f.map((m) => (m as { op: string }).op));

  it("the portal lets session-connect, session-connect-sync and session-disconnect wait a few milliseconds", () => {
    expect(CONNECTION_NEWS_DELAY_MS).to.be.within(1, 10);
  });

  it("news sent in separate turns within the delay shares one frame, written within the delay", async () => {
    const started = Date.now();
    conn.send({ op: "session-connect", n: 1 }, 20);
    await new Promise((resolve) => setImmediate(resolve));
    conn.send({ op: "session-connect", n: 2 }, 20);
    await new Promise((resolve) => setImmediate(resolve));
    conn.send({ op: "session-disconnect", n: 3 }, 20);
    await sleep(5);
    expect(frames).to.deep.equal([]);
    await waitFor(() => frames.length > 0, 2000, () => "the frame");
    expect(Date.now() - started).to.be.at.least(19);
    expect(ops()).to.deep.equal([["session-connect", "session-connect", "session-disconnect"]]);
  });

  it("a message that may not wait goes out at the end of the turn and takes waiting news along, in order", async () => {
    conn.send({ op: "session-connect", n: 1 }, 1000);
    conn.send({ op: "data-in", n: 2 });
    conn.send({ op: "session-connect-sync", n: 3 }, 1000);
    await waitFor(() => frames.length > 0, 500, () => "the frame at the end of the turn");
    expect(ops()).to.deep.equal([["session-connect", "data-in", "session-connect-sync"]]);
    await sleep(30);
    expect(frames).to.have.length(1);
  });

  it("the waiting news is not written again, and a closed connection leaves no timer behind", async () => {
    conn.send({ op: "session-connect", n: 1 }, 10);
    conn.flush();
    await waitFor(() => frames.length > 0, 500, () => "the flushed frame");
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    const before = timers();
    conn.send({ op: "session-disconnect", n: 2 }, 10_000);
    expect(timers()).to.equal(before + 1);
    conn.destroy();
    expect(timers()).to.be.at.most(before);
    await sleep(30);
    expect(ops()).to.deep.equal([["session-connect"]]);
  });
});
