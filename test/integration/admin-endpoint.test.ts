import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Registry } from "prom-client";
import { AdminServer, timeoutCheckIntervalMs, type AdminLimits } from "../../core/admin/admin-server.js";
import { adminRequest } from "../../core/cli/admin-client.js";
import { resolvePortalConfig } from "../../core/config/portal-config.js";
import { ErrorCodes } from "../../core/errors/error-codes.js";
import { PortalError } from "../../core/errors/portal-error.js";
import { MemoryLogger } from "../../core/testing/memory-logger.js";
import { waitFor } from "../../core/testing/wait-for.js";
import { PorticoProcess } from "../support/portico-process.js";

const SECRET = "0123456789abcdef0123456789abcdef";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A raw client socket on loopback that records what it got and when the server closed it. */
interface RawClient {
  socket: Socket;
  received: () => string;
  closed: Promise<number>;
  isClosed: () => boolean;
}

function raw(port: number, t0 = Date.now()): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let data = "";
    let isClosed = false;
    socket.setEncoding("utf8");
    socket.on("data", (d: string) => (data += d));
    socket.on("error", () => undefined); // a reset from the server is what some tests expect
    const closed = new Promise<number>((r) => socket.once("close", () => {
      isClosed = true;
      r(Date.now() - t0);
    }));
    socket.once("connect", () => resolve({ socket, received: () => data, closed, isClosed: () => isClosed }));
    socket.once("error", reject);
  });
}

/** The headers of a request that never ends, for a slow-loris client to send a byte at a time. */
const ENDLESS_HEADERS = `GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\n${"X-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n".repeat(200)}`;

/** Sends `text` one byte every `everyMs` until the socket closes. */
function dribble(client: RawClient, text: string, everyMs: number): void {
  let i = 0;
  const timer = setInterval(() => {
    if (client.socket.destroyed || i >= text.length) clearInterval(timer);
    else client.socket.write(text[i++]!);
  }, everyMs);
  void client.closed.then(() => clearInterval(timer));
}

describe("admin endpoint under attack (real sockets on loopback)", function () {
  this.timeout(30_000);
  let admin: AdminServer | undefined;
  let logger: MemoryLogger;
  const clients: RawClient[] = [];
  let reloadMs = 0;

  async function startAdmin(limits: Partial<AdminLimits>): Promise<number> {
    logger = new MemoryLogger();
    admin = new AdminServer("127.0.0.1", 0, SECRET, new Registry(), {
      status: () => ({ sessions: 0 }),
      ready: () => true,
      reload: async () => {
        await sleep(reloadMs);
        return { game: "reloaded" };
      },
      stop: async () => undefined,
    }, logger, limits);
    await admin.start();
    return admin.address!.port;
  }

  async function open(port: number, t0?: number): Promise<RawClient> {
    const c = await raw(port, t0);
    clients.push(c);
    return c;
  }

  const status = (port: number) => adminRequest({ host: "127.0.0.1", port }, SECRET, "GET", "/status", 5000);
  const authLines = () => logger.entries.filter((e) => e.fields.code === ErrorCodes.ADMIN_AUTH);

  afterEach(async () => {
    for (const c of clients.splice(0)) c.socket.destroy();
    await admin?.stop();
    admin = undefined;
    reloadMs = 0;
  });

  it("closes slow-loris connections (headers a byte at a time) within headersTimeoutMs, with a 408, and keeps answering", async () => {
    const headersTimeoutMs = 800;
    const port = await startAdmin({ headersTimeoutMs, requestTimeoutMs: 2000 });
    const t0 = Date.now();
    const loris = await Promise.all([0, 1, 2, 3, 4].map(() => open(port, t0)));
    for (const c of loris) dribble(c, ENDLESS_HEADERS, 100);
    const silent = await open(port, t0); // connects and never sends a byte

    await sleep(300);
    expect(await status(port)).to.deep.equal({ sessions: 0 }); // the endpoint still serves others during the attack
    expect(loris.every((c) => !c.isClosed())).to.equal(true);

    const closedAt = await Promise.all([...loris, silent].map((c) => c.closed));
    const limit = headersTimeoutMs + timeoutCheckIntervalMs({ headersTimeoutMs }) + 400;
    for (const ms of closedAt) expect(ms).to.be.within(headersTimeoutMs - 50, limit);
    for (const c of [...loris, silent]) expect(c.received()).to.match(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(await status(port)).to.deep.equal({ sessions: 0 });
  });

  it("closes an idle kept-alive connection after keepAliveTimeoutMs (Node adds 1 s)", async () => {
    const keepAliveTimeoutMs = 300;
    const port = await startAdmin({ keepAliveTimeoutMs, headersTimeoutMs: 5000, requestTimeoutMs: 5000, idleTimeoutMs: 20_000 });
    const c = await open(port);
    c.socket.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    await waitFor(() => c.received().includes('{"status":"ok"}'), 2000, "the /healthz answer");
    const answeredAt = Date.now();
    expect(c.received()).to.match(/connection: keep-alive/i);
    await c.closed;
    expect(Date.now() - answeredAt).to.be.within(keepAliveTimeoutMs - 50, keepAliveTimeoutMs + 1000 + 500);
  });

  it("closes a connection idle for idleTimeoutMs, but not one whose slow /reload is being worked on", async () => {
    const port = await startAdmin({ idleTimeoutMs: 400, headersTimeoutMs: 10_000, requestTimeoutMs: 10_000 });
    const t0 = Date.now();
    const silent = await open(port, t0);
    expect(await silent.closed).to.be.within(350, 1500);

    // A reload that takes much longer than the idle, header and request timeouts is still answered.
    await admin!.stop();
    const port2 = await startAdmin({ idleTimeoutMs: 400, headersTimeoutMs: 300, requestTimeoutMs: 600 });
    reloadMs = 1500;
    const started = Date.now();
    const answer = await adminRequest({ host: "127.0.0.1", port: port2 }, SECRET, "POST", "/reload", 5000);
    expect(answer).to.deep.equal({ reloaded: true, game: "reloaded" });
    expect(Date.now() - started).to.be.at.least(1400);
  });

  it("refuses a request body (413) and closes the connection, rather than reading it", async () => {
    const port = await startAdmin({ requestTimeoutMs: 20_000, headersTimeoutMs: 10_000 });
    const declared = await open(port);
    declared.socket.write(`POST /stop HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${SECRET}\r\nContent-Length: 100000000\r\n\r\naaaa`);
    const chunked = await open(port);
    chunked.socket.write("POST /reload HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n10\r\naaaa");
    for (const c of [declared, chunked]) {
      await waitFor(() => c.isClosed(), 3000, "the connection with a body to be closed");
      expect(c.received()).to.match(/^HTTP\/1\.1 413 /);
      expect(c.received()).to.match(/connection: close/i);
    }
    expect(await status(port)).to.deep.equal({ sessions: 0 });
  });

  it("refuses connections beyond maxConnections at once, logs that once, and serves the CLI again once the flood goes", async () => {
    const maxConnections = 8;
    const headersTimeoutMs = 1000;
    const port = await startAdmin({ maxConnections, headersTimeoutMs, requestTimeoutMs: 2000 });
    const t0 = Date.now();
    const flood: RawClient[] = [];
    for (let i = 0; i < 20; i++) flood.push(await open(port, t0));
    await sleep(200);
    const closedEarly = flood.filter((c) => c.isClosed());
    expect(closedEarly).to.have.length(12);
    for (const c of closedEarly) expect(c.received()).to.equal("");

    // While the flood holds every slot, the CLI is told the endpoint is busy (not that the portal is gone).
    const refused = await status(port).then(() => undefined, (e: unknown) => e);
    expect(refused).to.be.instanceOf(PortalError);
    expect((refused as PortalError).code).to.equal(ErrorCodes.ADMIN_BUSY);
    expect((refused as PortalError).message).to.include("admin.maxConnections");

    // The held connections send nothing: they go after headersTimeoutMs, and then the CLI works again.
    await Promise.all(flood.map((c) => c.closed));
    expect(await status(port)).to.deep.equal({ sessions: 0 });
    expect(Date.now() - t0).to.be.below(headersTimeoutMs + timeoutCheckIntervalMs({ headersTimeoutMs }) + 1500);

    await admin!.stop();
    const busy = logger.entries.filter((e) => e.fields.code === ErrorCodes.ADMIN_BUSY);
    expect(busy).to.have.length(2); // the first refusal, then (at stop) the summary of the other 12
    expect(busy[0]!.level).to.equal("warn");
    expect(busy[0]!.fields.remote).to.equal("127.0.0.1");
    expect(busy[1]!.fields.suppressed).to.equal(12);
    expect(busy[1]!.msg).to.match(/^12 more admin connections over admin\.maxConnections \(8\)/);
  });

  it("1000 requests without the secret log one line, then one summary per interval with the suppressed count", async () => {
    const logIntervalMs = 500;
    const port = await startAdmin({ logIntervalMs });
    const agent = new Agent({ keepAlive: true, maxSockets: 16 });
    const unauthorised = (i: number) => new Promise<number>((resolve, reject) => {
      const headers = i % 2 === 0 ? {} : { authorization: "Bearer wrong-guess-" + i };
      const req = request({ host: "127.0.0.1", port, path: i % 3 === 0 ? "/reload" : "/status", method: i % 3 === 0 ? "POST" : "GET", headers, agent }, (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      });
      req.on("error", reject);
      req.end();
    });
    const t0 = Date.now();
    const codes = await Promise.all(Array.from({ length: 1000 }, (_, i) => unauthorised(i)));
    const elapsed = Date.now() - t0;
    agent.destroy();
    expect(codes.every((c) => c === 401)).to.equal(true);

    await sleep(logIntervalMs + 200); // the interval that counted the flood reports it
    const lines = authLines();
    expect(lines.length).to.be.at.most(2 + Math.ceil(elapsed / logIntervalMs));
    expect(lines[0]!.level).to.equal("warn");
    expect(lines[0]!.msg).to.equal("admin request without the right secret");
    expect(lines[0]!.fields.remote).to.equal("127.0.0.1");
    const summaries = lines.slice(1);
    expect(summaries.length).to.be.at.least(1);
    for (const s of summaries) {
      expect(s.fields.suppressed).to.be.a("number");
      expect(s.msg).to.match(new RegExp(`^${s.fields.suppressed as number} more admin requests without the right secret were refused and not logged one by one`));
      expect(s.fields.remotes).to.deep.equal(["127.0.0.1"]);
    }
    const total = 1 + summaries.reduce((n, s) => n + (s.fields.suppressed as number), 0);
    expect(total).to.equal(1000); // every refusal is accounted for, none logged on its own line

    // A quiet interval later, the next refusal is logged in full again.
    await sleep(logIntervalMs + 100);
    expect(await unauthorised(1)).to.equal(401);
    expect(authLines().at(-1)!.msg).to.equal("admin request without the right secret");
  });

  it("with the default interval, 1000 refusals give exactly two lines: the first, and the count at stop", async () => {
    const port = await startAdmin({});
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    await Promise.all(Array.from({ length: 1000 }, () => new Promise<void>((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port, path: "/stop", method: "POST", agent }, (res) => {
        res.resume();
        res.on("end", () => resolve());
      });
      req.on("error", reject);
      req.end();
    })));
    agent.destroy();
    expect(authLines()).to.have.length(1);
    await admin!.stop();
    const lines = authLines();
    expect(lines).to.have.length(2);
    expect(lines[1]!.fields.suppressed).to.equal(999);
    expect(lines[1]!.msg).to.match(/^999 more admin requests without the right secret were refused and not logged one by one \(at most one line per 60 s, admin\.logIntervalMs\)$/);
  });
});

describe("portico start: the admin endpoint under attack, and the CLI still works", function () {
  this.timeout(120_000);
  const headersTimeoutMs = 800;
  const logIntervalMs = 1000;
  let portico: PorticoProcess;
  let adminPort: number;
  let cwd: string;
  const clients: RawClient[] = [];

  before(async () => {
    cwd = mkdtempSync(join(tmpdir(), "portico-admin-attack-"));
    // Short limits so that the attacks end in seconds.
    writeFileSync(join(cwd, "portico.config.json"), JSON.stringify({
      admin: { headersTimeoutMs, requestTimeoutMs: 1000, keepAliveTimeoutMs: 300, idleTimeoutMs: 500, maxConnections: 16, logIntervalMs },
    }));
    portico = PorticoProcess.start({ cwd, env: { PORTICO_WEB_PORT: "0" } });
    ({ adminPort } = await portico.ready());
    await portico.waitForLog(/game connected to the link/);
  });

  after(async () => {
    for (const c of clients) c.socket.destroy();
    const stop = await portico.cli(["stop"]);
    if (stop.code !== 0) await portico.kill();
    await portico.exited;
    rmSync(cwd, { recursive: true, force: true });
  });

  const open = async (t0?: number) => {
    const c = await raw(adminPort, t0);
    clients.push(c);
    return c;
  };
  const logged = (code: string) => portico.output.flatMap((line) => {
    try {
      const entry = JSON.parse(line) as { code?: string; msg: string; suppressed?: number };
      return entry.code === code ? [entry] : [];
    } catch {
      return [];
    }
  });

  it("closes 5 slow-loris connections within admin.headersTimeoutMs; portico status works", async () => {
    const t0 = Date.now();
    const loris = await Promise.all([0, 1, 2, 3, 4].map(() => open(t0)));
    for (const c of loris) dribble(c, ENDLESS_HEADERS, 150);
    for (const ms of await Promise.all(loris.map((c) => c.closed))) expect(ms).to.be.within(headersTimeoutMs - 50, headersTimeoutMs + 1000);
    for (const c of loris) expect(c.received()).to.match(/^HTTP\/1\.1 408 /);
    const status = await portico.cli(["status", "--json"]);
    expect(status.code, status.stderr).to.equal(0);
    expect(JSON.parse(status.stdout).admin.port).to.equal(adminPort);
  });

  it("refuses a connection flood beyond admin.maxConnections; portico status works once it goes", async () => {
    const t0 = Date.now();
    const flood: RawClient[] = [];
    for (let i = 0; i < 40; i++) flood.push(await open(t0));
    await sleep(200);
    expect(flood.filter((c) => c.isClosed()).length).to.equal(24);
    await Promise.all(flood.map((c) => c.closed));
    const status = await portico.cli(["status"]);
    expect(status.code, status.stderr).to.equal(0);
    expect(logged(ErrorCodes.ADMIN_BUSY).length).to.be.within(1, 3);
  });

  it("1000 requests without the secret give a bounded number of PORTAL_ERR_ADMIN_AUTH lines that count them all", async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    const t0 = Date.now();
    const codes = await Promise.all(Array.from({ length: 1000 }, (_, i) => new Promise<number>((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port: adminPort, path: i % 2 ? "/status" : "/stop", method: i % 2 ? "GET" : "POST", agent,
        headers: { authorization: `Bearer guess-${i}` } }, (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      });
      req.on("error", reject);
      req.end();
    })));
    const elapsed = Date.now() - t0;
    agent.destroy();
    expect(codes.every((c) => c === 401)).to.equal(true);
    await waitFor(() => logged(ErrorCodes.ADMIN_AUTH).reduce((n, e) => n + (e.suppressed ?? 1), 0) >= 1000, logIntervalMs * 3, "the summary line");
    const lines = logged(ErrorCodes.ADMIN_AUTH);
    expect(lines.length).to.be.at.most(2 + Math.ceil(elapsed / logIntervalMs));
    expect(lines[0]!.msg).to.equal("admin request without the right secret");
    for (const s of lines.slice(1)) expect(s.msg).to.match(new RegExp(`^${s.suppressed!} more admin requests without the right secret`));
    expect(1 + lines.slice(1).reduce((n, e) => n + e.suppressed!, 0)).to.equal(1000);
  });

  it("portico reload and status still work under these short limits (the reload waits for the new game)", async () => {
    const reload = await portico.cli(["reload"]);
    expect(reload.code, reload.stderr).to.equal(0);
    expect(reload.stdout).to.include("game reloaded");
    const status = await portico.cli(["status"]);
    expect(status.code, status.stderr).to.equal(0);
  });
});

describe("admin.* limits in the config", () => {
  it("have defaults, and a request timeout shorter than the header timeout is refused naming the key", () => {
    expect(resolvePortalConfig({}).admin).to.include({ headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, maxConnections: 64 });
    expect(() => resolvePortalConfig({ admin: { headersTimeoutMs: 5000, requestTimeoutMs: 1000 } }))
      .to.throw(/config key "admin\.requestTimeoutMs": must be at least admin\.headersTimeoutMs/);
    expect(() => resolvePortalConfig({ admin: { maxConnections: 0 } })).to.throw(/"admin\.maxConnections"/);
  });
});
