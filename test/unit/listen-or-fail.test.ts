import { expect } from "chai";
import { createServer, type Server } from "node:net";
import { ErrorCodes, PortalError, listenOrFail } from "../../core/index.js";

describe("listenOrFail", () => {
  const servers: Server[] = [];
  const server = (): Server => {
    const s = createServer();
    servers.push(s);
    return s;
  };
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise<void>((resolve) => (s.listening ? s.close(() => resolve()) : resolve()))));
  });

  it("resolves once listening and hands later server errors to onError", async () => {
    const s = server();
    const later: Error[] = [];
    await listenOrFail(s, { host: "127.0.0.1", port: 0 }, "test", (err) => later.push(err));
    expect(s.listening).to.equal(true);
    s.emit("error", new Error("after listening"));
    expect(later.map((e) => e.message)).to.deep.equal(["after listening"]);
  });

  it("rejects with PORTAL_ERR_LISTEN_FAILED naming what and where when the port is taken", async () => {
    const first = server();
    await listenOrFail(first, { host: "127.0.0.1", port: 0 }, "first", () => undefined);
    const { port } = first.address() as { port: number };
    const err = await listenOrFail(server(), { host: "127.0.0.1", port }, "telnet", () => undefined).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(PortalError);
    expect((err as PortalError).code).to.equal(ErrorCodes.LISTEN_FAILED);
    expect((err as PortalError).message).to.match(new RegExp(`^telnet cannot listen on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`));
    expect((err as PortalError).details).to.deep.equal({ port });
  });
});
