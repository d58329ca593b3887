import { connect, createServer, type Server, type Socket } from "node:net";

/** A TCP proxy on 127.0.0.1 whose connections a test can cut, as a flaky network would. */
export class TcpProxy {
  private readonly pairs = new Set<[Socket, Socket]>();
  private refuseUntil = 0;
  port = 0;

  private constructor(private readonly server: Server) {}

  static async start(targetPort: number): Promise<TcpProxy> {
    let proxy: TcpProxy | undefined;
    const server = createServer((client) => proxy!.accept(client, targetPort));
    proxy = new TcpProxy(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    proxy.port = (server.address() as { port: number }).port;
    return proxy;
  }

  /** Drops every open connection without a close handshake, and refuses new ones for `refuseMs`. */
  cut(refuseMs = 0): void {
    this.refuseUntil = Date.now() + refuseMs;
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    this.pairs.clear();
  }

  get connections(): number {
    return this.pairs.size;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket, targetPort: number): void {
    client.on("error", () => undefined);
    if (Date.now() < this.refuseUntil) {
      client.destroy();
      return;
    }
    const upstream = connect(targetPort, "127.0.0.1");
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
    const pair: [Socket, Socket] = [client, upstream];
    this.pairs.add(pair);
    const drop = () => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("close", drop);
    upstream.on("close", drop);
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
