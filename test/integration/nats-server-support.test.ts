import { expect } from "chai";
import { connect, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import { NatsServerProcess } from "../support/nats-server.js";

const USER = "portico";
const PASSWORD = "s3cret-pass";
const MAX_PAYLOAD = 4 * 1024 * 1024;

/** Resolves with the subscription's next message as a string; rejects after `ms`. */
async function nextMessage(sub: Subscription, ms = 5000): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no message on ${sub.getSubject()} within ${ms} ms`)), ms);
  });
  try {
    const next = await Promise.race([sub[Symbol.asyncIterator]().next(), timeout]);
    if (next.done) throw new Error(`subscription ${sub.getSubject()} ended`);
    return next.value.string();
  } finally {
    clearTimeout(timer);
  }
}

describe("NatsServerProcess (real nats-server)", function () {
  this.timeout(30000);

  let server: NatsServerProcess | undefined;
  const clients: NatsConnection[] = [];

  beforeEach(async () => {
    server = await NatsServerProcess.start({ user: USER, password: PASSWORD, maxPayloadBytes: MAX_PAYLOAD });
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((nc) => nc.close().catch(() => undefined)));
    await server?.dispose();
    server = undefined;
  });

  it("accepts the right credentials, delivers messages and reports the configured max_payload", async () => {
    const nc = await connect({ servers: server!.url, user: USER, pass: PASSWORD });
    clients.push(nc);
    expect(server!.url).to.equal(`nats://127.0.0.1:${server!.port}`);
    expect(server!.pid).to.be.a("number");
    expect(nc.info?.max_payload).to.equal(MAX_PAYLOAD);

    const sub = nc.subscribe("portico.test.hello");
    nc.publish("portico.test.hello", "hello nats");
    await nc.flush();
    expect(await nextMessage(sub)).to.equal("hello nats");
  });

  it("refuses a wrong password with an AuthorizationError", async () => {
    let caught: unknown;
    try {
      clients.push(await connect({ servers: server!.url, user: USER, pass: "wrong", reconnect: false }));
    } catch (err) {
      caught = err;
    }
    expect(caught).to.be.instanceOf(Error);
    expect((caught as Error).name).to.equal("AuthorizationError");
    expect((caught as Error).message).to.match(/authorization violation/i);
  });

  it("keeps a subscription working across restart(1000)", async () => {
    const nc = await connect({
      servers: server!.url,
      user: USER,
      pass: PASSWORD,
      reconnect: true,
      reconnectTimeWait: 100,
      maxReconnectAttempts: -1,
    });
    clients.push(nc);
    const seen: string[] = [];
    const reconnected = (async () => {
      for await (const status of nc.status()) {
        seen.push(status.type);
        if (status.type === "reconnect") return;
      }
      throw new Error(`status iterator ended without a reconnect (saw ${seen.join(", ")})`);
    })();
    reconnected.catch(() => undefined); // awaited below; don't report it as unhandled if the test fails early
    const sub = nc.subscribe("portico.test.restart");
    await nc.flush();
    const pidBefore = server!.pid;

    await server!.restart(1000);
    expect(server!.pid).to.be.a("number").and.not.equal(pidBefore);
    await reconnected;
    expect(seen).to.include.members(["disconnect", "reconnecting", "reconnect"]);

    nc.publish("portico.test.restart", "after restart");
    await nc.flush();
    expect(await nextMessage(sub)).to.equal("after restart");
  });
});
