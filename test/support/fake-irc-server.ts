import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer as createTlsServer } from "node:tls";

/**
 * Scripted IRC servers for the cases a real ngircd cannot produce: a server that never answers
 * registration, SASL failure (904), malformed lines, nicks with control codes, a silent server
 * (ping timeout), TLS with a self-signed certificate. Plus IrcFloodProxy, a recording TCP proxy in
 * front of a real server that kills a client for "Excess Flood" the way strict networks do, and can
 * cut and refuse its clients (an outage) and hold their JOINs back (a slow JOIN, deterministically).
 */

export interface FakeIrcOptions {
  /**
   * - "silent": accepts and never says anything (registration never answered);
   * - "irc": answers NICK/USER with 001-005 and 376, JOIN with the JOIN echo and NAMES, PING with PONG.
   */
  mode: "silent" | "irc";
  serverName?: string;
  /** Offer SASL in CAP LS and answer every AUTHENTICATE payload with 904 (wrong password). */
  saslFails?: boolean;
  /** Answer client PINGs (default true); false makes a registered connection go silent. */
  answerPings?: boolean;
  /** Serve TLS with this key and certificate (PEM). */
  tls?: { key: string; cert: string };
  /** A plain-text banner written as soon as a client connects (before anything else). */
  banner?: string;
}

/** One client connection to the fake server. */
export class FakeIrcConnection {
  readonly lines: string[] = [];
  nick = "";
  user = "";
  registered = false;
  readonly joined = new Set<string>();
  closed = false;
  private buffer = "";

  constructor(
    readonly socket: Socket,
    private readonly server: FakeIrcServer,
  ) {
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => this.onData(chunk));
    socket.on("error", () => undefined);
    socket.on("close", () => (this.closed = true));
    if (server.options.banner !== undefined) socket.write(server.options.banner);
  }

  get mask(): string {
    return `${this.nick}!~${this.user || "user"}@127.0.0.1`;
  }

  /** Writes one line with CRLF. */
  send(line: string): void {
    if (!this.closed) this.socket.write(line + "\r\n");
  }

  /** Writes bytes exactly as given (for malformed input). */
  sendRaw(bytes: string | Buffer): void {
    if (!this.closed) this.socket.write(bytes);
  }

  close(): void {
    this.socket.destroy();
    this.closed = true;
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    const parts = this.buffer.split(/\r?\n/);
    this.buffer = parts.pop() ?? "";
    for (const line of parts) {
      if (line === "") continue;
      this.lines.push(line);
      if (this.server.options.mode === "irc") this.answer(line);
    }
  }

  private answer(line: string): void {
    const s = this.server.serverName;
    const [cmdRaw, ...rest] = line.split(" ");
    const cmd = (cmdRaw ?? "").toUpperCase();
    const arg = rest.join(" ");
    const trailing = arg.includes(":") ? arg.slice(arg.indexOf(":") + 1) : arg;
    switch (cmd) {
      case "CAP": {
        const sub = (rest[0] ?? "").toUpperCase();
        if (sub === "LS") this.send(`:${s} CAP * LS :${this.server.options.saslFails ? "sasl" : ""}`);
        else if (sub === "REQ") this.send(`:${s} CAP * ACK :${trailing}`);
        else if (sub === "END") this.maybeWelcome();
        return;
      }
      case "AUTHENTICATE":
        if (rest[0] === "PLAIN" || rest[0] === "EXTERNAL") this.send("AUTHENTICATE +");
        else if (rest[0] === "*") this.send(`:${s} 906 ${this.nick || "*"} :SASL authentication aborted`);
        else this.send(`:${s} 904 ${this.nick || "*"} :SASL authentication failed`);
        return;
      case "NICK":
        this.nick = (rest[0] ?? "").replace(/^:/, "");
        this.maybeWelcome(true);
        return;
      case "USER":
        this.user = rest[0] ?? "user";
        this.maybeWelcome(true);
        return;
      case "PING":
        if (this.server.options.answerPings !== false) this.send(`:${s} PONG ${s} :${trailing}`);
        return;
      case "JOIN":
        for (const ch of (rest[0] ?? "").split(",").filter((c) => c !== "")) {
          this.joined.add(ch.toLowerCase());
          this.send(`:${this.mask} JOIN :${ch}`);
          this.send(`:${s} 353 ${this.nick} = ${ch} :${this.nick} @alice`);
          this.send(`:${s} 366 ${this.nick} ${ch} :End of NAMES list`);
        }
        return;
      case "NAMES":
        this.send(`:${s} 353 ${this.nick} = ${rest[0] ?? "*"} :${this.nick} @alice`);
        this.send(`:${s} 366 ${this.nick} ${rest[0] ?? "*"} :End of NAMES list`);
        return;
      case "QUIT":
        this.send(`ERROR :Closing connection`);
        this.socket.end();
        return;
      default:
        return;
    }
  }

  /** Sends the welcome burst once NICK and USER are in (and CAP negotiation, if started, ended). */
  private maybeWelcome(fromNickUser = false): void {
    if (this.registered || !this.nick || !this.user) return;
    const sawCap = this.lines.some((l) => /^CAP LS/i.test(l));
    const capEnded = this.lines.some((l) => /^CAP END/i.test(l));
    if (fromNickUser && sawCap && !capEnded) return; // wait for CAP END
    this.registered = true;
    const s = this.server.serverName;
    const n = this.nick;
    this.send(`:${s} 001 ${n} :Welcome to the fake network ${this.mask}`);
    this.send(`:${s} 002 ${n} :Your host is ${s}`);
    this.send(`:${s} 003 ${n} :This server was created today`);
    this.send(`:${s} 004 ${n} ${s} fake-1.0 io ov`);
    this.send(`:${s} 005 ${n} CHANTYPES=# PREFIX=(ov)@+ NICKLEN=30 CASEMAPPING=ascii :are supported by this server`);
    this.send(`:${s} 375 ${n} :- ${s} message of the day`);
    this.send(`:${s} 376 ${n} :End of MOTD command`);
    this.server.emitRegistered(this);
  }
}

export class FakeIrcServer {
  readonly connections: FakeIrcConnection[] = [];
  readonly serverName: string;
  private readonly server: Server;
  private readonly registeredWaiters: ((c: FakeIrcConnection) => void)[] = [];
  port = 0;

  private constructor(readonly options: FakeIrcOptions) {
    this.serverName = options.serverName ?? "fake.irc.test";
    const onSocket = (socket: Socket) => void this.connections.push(new FakeIrcConnection(socket, this));
    this.server = options.tls
      ? createTlsServer({ key: options.tls.key, cert: options.tls.cert }, onSocket)
      : createServer(onSocket);
    this.server.on("tlsClientError", () => undefined);
    this.server.on("error", () => undefined);
  }

  static async start(options: FakeIrcOptions): Promise<FakeIrcServer> {
    const s = new FakeIrcServer(options);
    await new Promise<void>((resolve, reject) => {
      s.server.once("error", reject);
      s.server.listen(0, "127.0.0.1", () => resolve());
    });
    const address = s.server.address();
    s.port = typeof address === "object" && address ? address.port : 0;
    return s;
  }

  /** @internal */
  emitRegistered(c: FakeIrcConnection): void {
    for (const w of this.registeredWaiters.splice(0)) w(c);
  }

  /** All lines every client sent, in connection order. */
  get allLines(): string[] {
    return this.connections.flatMap((c) => c.lines);
  }

  /** The newest connection. */
  get last(): FakeIrcConnection | undefined {
    return this.connections.at(-1);
  }

  async close(): Promise<void> {
    for (const c of this.connections) c.close();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A self-signed certificate for CN=localhost / IP 127.0.0.1, made with the openssl CLI. */
export function selfSignedCert(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), "portico-irc-cert-"));
  try {
    const keyPath = join(dir, "key.pem");
    const certPath = join(dir, "cert.pem");
    const r = spawnSync(
      "openssl",
      ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", keyPath, "-out", certPath,
        "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
      { encoding: "utf8", timeout: 15_000 },
    );
    if (r.status !== 0) throw new Error(`openssl failed: ${r.stderr}`);
    return { key: readFileSync(keyPath, "utf8"), cert: readFileSync(certPath, "utf8") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One line a client sent through the proxy. */
export interface ProxiedLine {
  line: string;
  time: number;
  conn: number;
}

/**
 * A TCP proxy in front of a real IRC server that records every line the client sends, with a
 * timestamp, and (optionally) enforces a flood limit on PRIVMSG/NOTICE like a strict network:
 * a token bucket of `burst` lines refilled at `ratePerSec`; a client that overdraws it gets
 * `ERROR :Closing Link: ... (Excess Flood)` and is disconnected.
 * down() cuts every client and refuses new ones until up(); with `holdJoins` a client's JOIN lines
 * are recorded but kept from the server until releaseJoins() (everything else passes).
 */
export class IrcFloodProxy {
  readonly sent: ProxiedLine[] = [];
  readonly kills: { conn: number; time: number; line: string }[] = [];
  connectionCount = 0;
  port = 0;
  /** Keep JOIN lines from the server (they wait in `heldJoins`) until releaseJoins(). */
  holdJoins = false;
  readonly heldJoins: { line: string; write: () => void }[] = [];
  private refusing = false;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly upstreamPort: number,
    private readonly guard: { burst: number; ratePerSec: number } | undefined,
  ) {
    this.server = createServer((client) => this.onClient(client));
    this.server.on("error", () => undefined);
  }

  static async start(upstreamPort: number, guard?: { burst: number; ratePerSec: number }): Promise<IrcFloodProxy> {
    const p = new IrcFloodProxy(upstreamPort, guard);
    await new Promise<void>((resolve, reject) => {
      p.server.once("error", reject);
      p.server.listen(0, "127.0.0.1", () => resolve());
    });
    const address = p.server.address();
    p.port = typeof address === "object" && address ? address.port : 0;
    return p;
  }

  /** Lines that were PRIVMSG/NOTICE. */
  get messages(): ProxiedLine[] {
    return this.sent.filter((l) => /^(PRIVMSG|NOTICE) /i.test(l.line));
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** An outage: every connection is cut (no QUIT, no ERROR) and new ones are closed at once until up(). */
  down(): void {
    this.refusing = true;
    for (const s of this.sockets) s.destroy();
  }

  up(): void {
    this.refusing = false;
  }

  /** Sends the held JOIN lines on to the server, in order, and stops holding them. */
  releaseJoins(): void {
    this.holdJoins = false;
    for (const held of this.heldJoins.splice(0)) held.write();
  }

  private onClient(client: Socket): void {
    if (this.refusing) return void client.destroy();
    const conn = ++this.connectionCount;
    const upstream = connect({ host: "127.0.0.1", port: this.upstreamPort });
    this.sockets.add(client);
    this.sockets.add(upstream);
    for (const s of [client, upstream]) {
      s.on("error", () => undefined);
      s.on("close", () => {
        this.sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    upstream.on("data", (chunk: Buffer) => client.write(chunk));
    let tokens = this.guard?.burst ?? 0;
    let last = Date.now();
    let partial = Buffer.alloc(0);
    let killed = false;
    client.on("data", (chunk: Buffer) => {
      if (killed) return;
      partial = Buffer.concat([partial, chunk]);
      for (;;) {
        const nl = partial.indexOf(0x0a);
        if (nl < 0) break;
        const lineBuf = partial.subarray(0, nl + 1);
        partial = partial.subarray(nl + 1);
        const line = lineBuf.toString("utf8").replace(/\r?\n$/, "");
        const now = Date.now();
        this.sent.push({ line, time: now, conn });
        if (this.guard && /^(PRIVMSG|NOTICE) /i.test(line)) {
          tokens = Math.min(this.guard.burst, tokens + ((now - last) / 1000) * this.guard.ratePerSec);
          last = now;
          if (tokens < 1) {
            killed = true;
            this.kills.push({ conn, time: now, line });
            client.write("ERROR :Closing Link: 127.0.0.1 (Excess Flood)\r\n");
            client.end();
            upstream.destroy();
            return;
          }
          tokens -= 1;
        }
        if (this.holdJoins && /^JOIN /i.test(line)) {
          const bytes = Buffer.from(lineBuf);
          this.heldJoins.push({ line, write: () => void upstream.write(bytes) });
          continue;
        }
        upstream.write(lineBuf);
      }
    });
  }
}
