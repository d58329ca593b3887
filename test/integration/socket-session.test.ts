import { expect } from "chai";
import { createServer, connect, type Server, type Socket } from "node:net";
import { CLOSE_DEADLINE_MS, SocketSession } from "../../core/index.js";
import { waitFor } from "../../core/testing/wait-for.js";
import { makeHarness } from "../unit/session-handler-fixture.js";

class PlainSession extends SocketSession {
  constructor(socket: Socket) {
    super("plain", socket);
  }
  protected received(): void {}
  send_text(args: unknown[]): void {
    this.write(`${String(args[0])}\n`);
  }
}

// SocketSession over real loopback sockets: a peer that never finishes the close is cut off.
describe("SocketSession (real sockets)", () => {
  let server: Server;
  let accepted: Socket[] = [];
  let port = 0;

  beforeEach(async () => {
    accepted = [];
    server = createServer((s) => accepted.push(s));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as { port: number }).port;
  });

  afterEach(async () => {
    for (const s of accepted) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it(`close(reason) sends the reason and ends the socket; a peer that never closes its side is destroyed after ${CLOSE_DEADLINE_MS} ms`, async function () {
    this.timeout(CLOSE_DEADLINE_MS + 5000);
    const h = makeHarness({ limits: { maxConnectionRate: 0 } });
    const client = connect(port, "127.0.0.1");
    client.on("error", () => undefined);
    client.allowHalfOpen = true;
    const got: Buffer[] = [];
    client.on("data", (b: Buffer) => got.push(b));
    await waitFor(() => accepted.length === 1);
    // The server side is the session's socket; allowHalfOpen keeps the client from closing its side.
    const serverSide = accepted[0]!;
    const session = new PlainSession(serverSide);
    h.handler.connect(session);
    const t0 = Date.now();
    session.close("goodbye");
    await waitFor(() => Buffer.concat(got).toString() === "goodbye\n", 2000, "the reason to arrive");
    expect(session.state).to.equal("closing");
    await waitFor(() => session.state === "closed", CLOSE_DEADLINE_MS + 2000, "the socket to be destroyed");
    expect(Date.now() - t0).to.be.at.least(CLOSE_DEADLINE_MS - 50);
    expect(h.channel.ofOp("session-disconnect").map((m) => m.sessid)).to.deep.equal([session.sessid]);
    client.destroy();
  });
});
