import { connect, createServer, type Server, type Socket } from "node:net";
import { Transform } from "node:stream";

/** A direction through the proxy: from the connecting client to the target, or back. */
export type ProxyDirection = "toTarget" | "toClient";

export interface TcpProxyOptions {
  /** Called with every chunk the proxy passes on (not the held ones), and the connection's number in accept order (from 0). */
  tap?: (direction: ProxyDirection, chunk: Buffer, connection: number) => void;
}

/**
 * A TCP proxy on 127.0.0.1 whose connections a test can cut, and whose directions it can hold, as
 * a flaky, stalled or lossy network would.
 */
export class TcpProxy {
  private readonly pairs = new Set<[Socket, Socket]>();
  private refuseUntil = 0;
  private accepted = 0;
  private readonly held: Record<ProxyDirection, boolean> = { toTarget: false, toClient: false };
  /** Bytes read and thrown away while their direction was held. */
  readonly dropped: Record<ProxyDirection, number> = { toTarget: 0, toClient: 0 };
  port = 0;

  private constructor(
    private readonly server: Server,
    private readonly options: TcpProxyOptions,
  ) {}

  static async start(targetPort: number, options: TcpProxyOptions = {}): Promise<TcpProxy> {
    let proxy: TcpProxy | undefined;
    const server = createServer((client) => proxy!.accept(client, targetPort));
    proxy = new TcpProxy(server, options);
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

  /**
   * From now on (`on` false: no longer), the bytes of every connection in `direction` are read
   * and thrown away, counted in `dropped`, instead of passed on: the connections stay open.
   */
  hold(direction: ProxyDirection, on = true): void {
    this.held[direction] = on;
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
    const connection = this.accepted++;
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
    client.pipe(this.gate("toTarget", connection)).pipe(upstream);
    upstream.pipe(this.gate("toClient", connection)).pipe(client);
  }

  /** Passes a direction's chunks on, or, while it is held, drops them. */
  private gate(direction: ProxyDirection, connection: number): Transform {
    return new Transform({
      transform: (chunk: Buffer, _encoding, done) => {
        if (this.held[direction]) {
          this.dropped[direction] += chunk.length;
          done();
          return;
        }
        this.options.tap?.(direction, chunk, connection);
        done(null, chunk);
      },
    });
  }
}
