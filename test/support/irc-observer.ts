import { connect, type Socket } from "node:net";

/** One line the observer received, parsed (RFC 1459 shape, IRCv3 tags skipped). */
export interface IrcLine {
  /** The line as received, decoded as UTF-8, without CR/LF. */
  raw: string;
  /** Bytes on the wire including the line ending. */
  bytes: number;
  /** The prefix without the colon (`nick!user@host` or a server name), "" when absent. */
  prefix: string;
  /** The nick part of the prefix ("" when absent). */
  nick: string;
  command: string;
  params: string[];
  /** Date.now() when it arrived. */
  time: number;
}

/** A PRIVMSG or NOTICE the observer received. */
export interface IrcMessage {
  command: "PRIVMSG" | "NOTICE";
  nick: string;
  target: string;
  /** The message text; for an ACTION the text inside `\x01ACTION ...\x01`. */
  text: string;
  isAction: boolean;
  /** The CTCP command for other CTCP messages (`VERSION`), undefined otherwise. */
  ctcp?: string;
  raw: string;
  bytes: number;
  time: number;
}

export interface ObserverOptions {
  host?: string;
  user?: string;
  realname?: string;
  /** Bound on registration; default 5000 ms. */
  timeoutMs?: number;
}

/** Parses one IRC line (no CR/LF). Returns undefined for an empty line. */
export function parseIrcLine(raw: string, bytes = Buffer.byteLength(raw) + 2, time = Date.now()): IrcLine | undefined {
  let rest = raw;
  if (rest.startsWith("@")) {
    const sp = rest.indexOf(" ");
    rest = sp < 0 ? "" : rest.slice(sp + 1);
  }
  let prefix = "";
  if (rest.startsWith(":")) {
    const sp = rest.indexOf(" ");
    prefix = sp < 0 ? rest.slice(1) : rest.slice(1, sp);
    rest = sp < 0 ? "" : rest.slice(sp + 1);
  }
  rest = rest.replace(/^ +/, "");
  if (rest === "") return undefined;
  const params: string[] = [];
  let command = "";
  const trailingAt = rest.indexOf(" :");
  const head = trailingAt >= 0 ? rest.slice(0, trailingAt) : rest;
  const words = head.split(" ").filter((w) => w !== "");
  command = (words.shift() ?? "").toUpperCase();
  params.push(...words);
  if (trailingAt >= 0) params.push(rest.slice(trailingAt + 2));
  const bang = prefix.indexOf("!");
  const nick = bang >= 0 ? prefix.slice(0, bang) : prefix.includes(".") ? "" : prefix;
  return { raw, bytes, prefix, nick, command, params, time };
}

/**
 * A second IRC client for the tests: raw node:net (so the bytes can be asserted exactly), answers
 * PING, records every line and every PRIVMSG/NOTICE. Every wait is bounded.
 */
export class IrcObserver {
  readonly lines: IrcLine[] = [];
  readonly messages: IrcMessage[] = [];
  closed = false;
  /** The channel say()/action() go to (the last one joined). */
  channel = "";
  private buffer = Buffer.alloc(0);
  private readonly listeners = new Set<() => void>();

  private constructor(
    readonly socket: Socket,
    public nick: string,
  ) {
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", () => undefined);
    socket.on("close", () => {
      this.closed = true;
      this.notify();
    });
  }

  /** Connects and registers as `nick`; resolves after 001 (RPL_WELCOME), rejects on 43x or timeout. */
  static async connect(port: number, nick: string, options: ObserverOptions = {}): Promise<IrcObserver> {
    const host = options.host ?? "127.0.0.1";
    const timeoutMs = options.timeoutMs ?? 5000;
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect({ host, port }, () => resolve(s));
      s.once("error", reject);
      s.setTimeout(timeoutMs, () => reject(new Error(`observer: connect to ${host}:${port} timed out`)));
    });
    socket.setTimeout(0);
    const observer = new IrcObserver(socket, nick);
    observer.send(`NICK ${nick}`);
    observer.send(`USER ${options.user ?? "observer"} 0 * :${options.realname ?? "Portico test observer"}`);
    const answer = await observer.waitForLine((l) => ["001", "432", "433", "436", "ERROR"].includes(l.command), timeoutMs, `registration of ${nick}`);
    if (answer.command !== "001") {
      observer.close();
      throw new Error(`observer ${nick} could not register: ${answer.raw}`);
    }
    return observer;
  }

  /** Writes one raw line (CRLF added). Tests may send anything; the observer does not sanitise. */
  send(line: string): void {
    if (!this.closed) this.socket.write(line + "\r\n");
  }

  /** JOINs and waits for our own JOIN echo and the end of NAMES (366). */
  async join(channel: string, timeoutMs = 5000): Promise<void> {
    const from = this.lines.length;
    this.send(`JOIN ${channel}`);
    await this.waitForLine(
      (l) => l.command === "366" && l.params[1]?.toLowerCase() === channel.toLowerCase(),
      timeoutMs,
      `${this.nick} joining ${channel}`,
      from,
    );
    this.channel = channel;
  }

  say(text: string, channel = this.channel): void {
    this.send(`PRIVMSG ${channel} :${text}`);
  }

  action(text: string, channel = this.channel): void {
    this.send(`PRIVMSG ${channel} :\x01ACTION ${text}\x01`);
  }

  privmsgTo(nick: string, text: string): void {
    this.send(`PRIVMSG ${nick} :${text}`);
  }

  /** A CTCP request such as VERSION (`\x01VERSION\x01`). */
  ctcp(target: string, command: string, args = ""): void {
    this.send(`PRIVMSG ${target} :\x01${command}${args ? " " + args : ""}\x01`);
  }

  kick(channel: string, nick: string, reason = "test kick"): void {
    this.send(`KICK ${channel} ${nick} :${reason}`);
  }

  /** OPER with the server's [Operator] block and waits for 381 (RPL_YOUREOPER). */
  async oper(name: string, password: string, timeoutMs = 5000): Promise<void> {
    const from = this.lines.length;
    this.send(`OPER ${name} ${password}`);
    const l = await this.waitForLine((x) => ["381", "464", "491"].includes(x.command), timeoutMs, "OPER reply", from);
    if (l.command !== "381") throw new Error(`OPER refused: ${l.raw}`);
  }

  /** Current members of `channel` from a fresh NAMES (prefixes like @ kept). */
  async names(channel = this.channel, timeoutMs = 5000): Promise<string[]> {
    const from = this.lines.length;
    this.send(`NAMES ${channel}`);
    await this.waitForLine((l) => l.command === "366" && l.params[1]?.toLowerCase() === channel.toLowerCase(), timeoutMs, `NAMES ${channel}`, from);
    return this.lines
      .slice(from)
      .filter((l) => l.command === "353" && l.params[2]?.toLowerCase() === channel.toLowerCase())
      .flatMap((l) => (l.params[3] ?? "").split(" ").filter((n) => n !== ""));
  }

  /** Messages from `nick` (case-insensitive), optionally to `target` only. */
  from(nick: string, target?: string): IrcMessage[] {
    return this.messages.filter(
      (m) => m.nick.toLowerCase() === nick.toLowerCase() && (target === undefined || m.target.toLowerCase() === target.toLowerCase()),
    );
  }

  /** Resolves with the first message (from index `from`) matching; rejects after `timeoutMs`. */
  waitForMessage(predicate: (m: IrcMessage) => boolean, timeoutMs = 5000, what = "message", from = 0): Promise<IrcMessage> {
    return this.waitUntil(() => this.messages.slice(from).find(predicate), timeoutMs, what, () => this.messages.slice(-8).map((m) => m.raw));
  }

  /** Resolves with the first line (from index `from`) matching; rejects after `timeoutMs`. */
  waitForLine(predicate: (l: IrcLine) => boolean, timeoutMs = 5000, what = "line", from = 0): Promise<IrcLine> {
    return this.waitUntil(() => this.lines.slice(from).find(predicate), timeoutMs, what, () => this.lines.slice(-8).map((l) => l.raw));
  }

  /** Resolves once `count` messages match (returns them); rejects after `timeoutMs`. */
  waitForMessages(predicate: (m: IrcMessage) => boolean, count: number, timeoutMs = 5000, what = "messages", from = 0): Promise<IrcMessage[]> {
    return this.waitUntil(
      () => {
        const found = this.messages.slice(from).filter(predicate);
        return found.length >= count ? found : undefined;
      },
      timeoutMs,
      `${count} ${what}`,
      () => [`(${this.messages.slice(from).filter(predicate).length} so far)`, ...this.messages.slice(-5).map((m) => m.raw)],
    );
  }

  /** QUIT (best effort) and destroy the socket. Idempotent. */
  close(): void {
    if (!this.closed) {
      try {
        this.socket.write("QUIT :observer done\r\n");
      } catch {
        /* closing anyway */
      }
    }
    this.socket.destroy();
    this.closed = true;
  }

  private waitUntil<T>(probe: () => T | undefined, timeoutMs: number, what: string, recent: () => string[]): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const check = (): boolean => {
        const v = probe();
        if (v === undefined) return false;
        cleanup();
        resolve(v);
        return true;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`observer ${this.nick}: ${what} not seen within ${timeoutMs} ms${this.closed ? " (socket closed)" : ""}; recent: ${JSON.stringify(recent())}`));
      }, timeoutMs);
      const listener = () => void check();
      const cleanup = () => {
        clearTimeout(timer);
        this.listeners.delete(listener);
      };
      if (check()) return;
      this.listeners.add(listener);
    });
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }

  private onData(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const nl = this.buffer.indexOf(0x0a);
      if (nl < 0) break;
      const lineBuf = this.buffer.subarray(0, nl + 1);
      this.buffer = this.buffer.subarray(nl + 1);
      let end = lineBuf.length - 1;
      if (end > 0 && lineBuf[end - 1] === 0x0d) end -= 1;
      const raw = lineBuf.subarray(0, end).toString("utf8");
      const line = parseIrcLine(raw, lineBuf.length);
      if (!line) continue;
      this.lines.push(line);
      if (line.command === "PING") this.send(`PONG :${line.params[0] ?? ""}`);
      if ((line.command === "PRIVMSG" || line.command === "NOTICE") && line.params.length >= 2) {
        const target = line.params[0]!;
        let text = line.params[1]!;
        let isAction = false;
        let ctcp: string | undefined;
        if (text.startsWith("\x01")) {
          const inner = text.slice(1, text.endsWith("\x01") ? -1 : undefined);
          const sp = inner.indexOf(" ");
          const cmd = (sp < 0 ? inner : inner.slice(0, sp)).toUpperCase();
          if (cmd === "ACTION") {
            isAction = true;
            text = sp < 0 ? "" : inner.slice(sp + 1);
          } else {
            ctcp = cmd;
            text = sp < 0 ? "" : inner.slice(sp + 1);
          }
        }
        this.messages.push({
          command: line.command,
          nick: line.nick,
          target,
          text,
          isAction,
          ...(ctcp !== undefined ? { ctcp } : {}),
          raw,
          bytes: line.bytes,
          time: line.time,
        });
      }
    }
    this.notify();
  }
}
