import irc, { type Client } from "irc-framework";
import { Backoff, ErrorCodes, errorMessage, type Clock, type Logger, type TimerHandle } from "../../core/index.js";
import type { IrcConfig } from "./config.js";

export type InboundType = "msg" | "action" | "privmsg";

export interface IrcConnectionEvents {
  /** Human-readable connection state for status (connecting, connected, reconnecting: …, failed: …). */
  state(state: string): void;
  message(e: { type: InboundType; nick: string; target: string; text: string }): void;
  presence(e: { type: "join" | "part" | "quit"; nick: string; channel: string; reason: string }): void;
  nicklist(channel: string, nicks: string[]): void;
  pong(token: string): void;
  /** A new IRC connection's socket, so its bytes are counted. */
  socket(socket: { bytesRead: number; bytesWritten: number; destroyed?: boolean }): void;
  /** Registration completed: private messages can be sent (channels only once joined). */
  registered(): void;
  /** The server confirmed the bot's JOIN of one of its channels: lines for it can be sent. */
  joined(channel: string): void;
}

const NICKSERV_WAIT_MS = 15_000;
/** irc-framework's names for the numerics that refuse a JOIN (405, 471, 473, 474, 475). */
const JOIN_REFUSALS: ReadonlySet<string> = new Set(["too_many_channels", "channel_is_full", "invite_only_channel", "banned_from_channel", "bad_channel_key"]);

/** Commands whose handlers in irc-framework read parameters without checking they exist: the minimum each needs. */
const MIN_PARAMS: ReadonlyMap<string, number> = new Map([["PRIVMSG", 2], ["NOTICE", 2], ["311", 6], ["353", 4], ["366", 2], ["KICK", 2], ["JOIN", 1], ["PART", 1]]);
/** ISUPPORT (005) lines taken per connection; irc-framework keeps every token it is sent, by name. */
const MAX_ISUPPORT_LINES = 32;
/** Lines after which replies irc-framework still collects (waiting for an end numeric that may never come) are dropped. */
const MAX_CACHE_LINES = 2000;

/** A state text fit for one status line: first line only, OpenSSL noise reduced, capped. */
export function oneLine(text: string): string {
  const ssl = /SSL routines:[^:]*:([^:\n]+)/.exec(text);
  const line = (ssl ? `TLS error: ${ssl[1]}` : text.split(/\r?\n/)[0] ?? "").replace(/\s+/g, " ").trim();
  return line.length > 160 ? `${line.slice(0, 157)}...` : line;
}

/**
 * One bot's IRC connection, with the reconnect policy owned here (irc-framework's own is off):
 * unlimited, capped, jittered back-off; a registration timeout; NickServ identification before
 * joining; rejoin after a kick and after every reconnect. Never two live connections.
 */
export class IrcConnection {
  private client: Client | undefined;
  private readonly backoff: Backoff;
  private retryTimer: TimerHandle | undefined;
  private registrationTimer: TimerHandle | undefined;
  private identifyTimer: TimerHandle | undefined;
  private readonly rejoinTimers = new Set<TimerHandle>();
  /** Per refused channel (lower case), the timer of its next JOIN. */
  private readonly joinRetries = new Map<string, TimerHandle>();
  private stopped = false;
  private registered = false;
  private lastError = "";
  private readonly joined = new Set<string>();
  /** Channels whose JOIN the server refused, with the reason, until a JOIN succeeds (kept across reconnects, so it is logged once). */
  private readonly refusedJoins = new Map<string, { channel: string; reason: string }>();
  private readonly namesWanted = new Set<string>();

  constructor(
    private readonly config: IrcConfig,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly events: IrcConnectionEvents,
  ) {
    this.backoff = new Backoff(config.reconnect);
  }

  get isRegistered(): boolean {
    return this.registered && this.client !== undefined;
  }

  /** Whether the server confirmed the bot's JOIN of `channel` on the current connection (lines to it are accepted). */
  hasJoined(channel: string): boolean {
    return this.isRegistered && this.joined.has(channel.toLowerCase());
  }

  /** Channels the server would not let the bot join (banned, invite only, key, full), with the server's reason. */
  get cannotJoin(): Record<string, string> {
    return Object.fromEntries([...this.refusedJoins.values()].map((r) => [r.channel, r.reason]));
  }

  get nick(): string {
    return this.client?.user.nick || this.config.nick;
  }

  get userAndHost(): { user?: string; host?: string } {
    const u = this.client?.user;
    return { ...(u?.username ? { user: u.username } : {}), ...(u?.host ? { host: u.host } : {}) };
  }

  /** ISUPPORT LINELEN when the server announces it, else the configured line length. */
  get lineLength(): number {
    const v = Number(this.client?.network.supports("LINELEN"));
    return Number.isInteger(v) && v >= 128 ? v : this.config.lineLength;
  }

  start(): void {
    this.stopped = false;
    this.dial();
  }

  /** Sends one raw line (already sanitised); false when not registered. */
  sendRaw(line: string): boolean {
    if (!this.isRegistered) return false;
    this.client!.raw(line);
    return true;
  }

  requestNames(channel: string): void {
    this.namesWanted.add(channel.toLowerCase());
    this.sendRaw(`NAMES ${channel}`);
  }

  ping(token: string): void {
    if (this.isRegistered) this.client!.ping(token);
  }

  /** Drops the connection and dials again (the game's `reconnect`). */
  reconnect(): void {
    this.teardown("reconnect requested");
    if (!this.stopped) this.scheduleRetry("reconnect requested", 0);
  }

  async stop(message = "Portico bridge stopping"): Promise<void> {
    this.stopped = true;
    this.clock.clearTimeout(this.retryTimer);
    const client = this.client;
    if (client && this.registered) {
      client.quit(message);
      await new Promise((r) => setTimeout(r, 50));
    }
    this.teardown("stopped");
  }

  private dial(): void {
    if (this.stopped) return;
    const { config } = this;
    const client = new irc.Client();
    this.client = client;
    this.registered = false;
    this.joined.clear();
    this.events.state("connecting");
    const on = <T>(event: string, fn: (e: T) => void) =>
      client.on(event, (e: T) => {
        if (client !== this.client) return;
        try {
          fn(e);
        } catch (err) {
          this.logger.warn({ event, err }, `IRC ${event} handler failed: ${errorMessage(err)}`);
        }
      });
    this.guardDispatch(client);
    let socketUp = false;
    on("socket connected", () => {
      socketUp = true;
      const socket = client.connection.transport?.socket;
      if (socket) this.events.socket(socket);
    });
    on("ping timeout", () => (this.lastError = `ping timeout: no answer from the server within ${Math.round(config.pingTimeoutMs / 1000)} s`));
    on("registered", () => this.onRegistered(client));
    on("socket close", (err: Error | undefined) => this.onClosed(client, oneLine(err ? errorMessage(err) : this.lastError || "connection closed")));
    on("close", () => this.onClosed(client, this.lastError || "connection closed"));
    on("socket error", (err: Error) => (this.lastError = oneLine(errorMessage(err))));
    on("nick in use", () => {
      if (!this.registered) client.changeNick(`${client.user.nick || config.nick}_`.slice(0, 30));
    });
    on("sasl failed", (e: { reason?: string }) => {
      if (this.registered) return; // a stray 904 after registration changes nothing
      this.lastError = `SASL authentication failed (${e.reason ?? "fail"})`;
      this.events.state(`failed: ${this.lastError}`);
    });
    on("irc error", (e: { error?: string; channel?: string; reason?: string }) => {
      if (this.stopped) return; // the server's ERROR after our own QUIT
      if (e.channel && JOIN_REFUSALS.has(e.error ?? "")) return this.joinRefused(client, e.channel, oneLine(e.reason || e.error || "refused"), e.error!);
      this.logger.warn({ error: e.error, channel: e.channel }, `IRC error: ${e.reason ?? e.error ?? "unknown"}`);
    });
    on("loggedin", () => this.identified(client));
    on("notice", (e: { nick?: string; message?: string }) => {
      if (e.nick?.toLowerCase() === "nickserv" && /identified|recognized/i.test(e.message ?? "")) this.identified(client);
    });
    on("privmsg", (e: { nick: string; target: string; message: string; from_server?: boolean }) => this.inbound(client, "msg", e));
    on("action", (e: { nick: string; target: string; message: string; from_server?: boolean }) => this.inbound(client, "action", e));
    on("join", (e: { nick: string; channel: string }) => {
      if (this.isSelf(client, e.nick)) {
        const key = e.channel.toLowerCase();
        this.joined.add(key);
        if (this.refusedJoins.delete(key)) this.logger.info({ channel: e.channel }, `joined ${e.channel}, which had been refused`);
        this.events.joined(e.channel);
        if (this.config.channels.every((c) => this.joined.has(c.toLowerCase()))) this.events.state("connected");
      } else this.events.presence({ type: "join", nick: e.nick, channel: e.channel, reason: "" });
    });
    on("part", (e: { nick: string; channel: string; message?: string }) => {
      if (this.isSelf(client, e.nick)) this.joined.delete(e.channel.toLowerCase());
      else this.events.presence({ type: "part", nick: e.nick, channel: e.channel, reason: e.message ?? "" });
    });
    on("quit", (e: { nick: string; message?: string }) => this.events.presence({ type: "quit", nick: e.nick, channel: "", reason: e.message ?? "" }));
    on("kick", (e: { kicked: string; channel: string; nick: string; message?: string }) => {
      if (!this.isSelf(client, e.kicked)) return;
      this.joined.delete(e.channel.toLowerCase());
      this.events.state(`kicked from ${e.channel} by ${e.nick}; rejoining`);
      const timer = this.clock.setTimeout(() => {
        this.rejoinTimers.delete(timer);
        if (client === this.client && this.registered) client.join(e.channel);
      }, this.config.rejoinDelayMs);
      this.rejoinTimers.add(timer);
    });
    on("userlist", (e: { channel: string; users: { nick: string; modes: string[] }[] }) => {
      const key = e.channel.toLowerCase();
      if (!this.namesWanted.delete(key)) return;
      this.events.nicklist(e.channel, e.users.map((u) => `${u.modes.includes("o") ? "@" : u.modes.includes("v") ? "+" : ""}${u.nick}`));
    });
    on("pong", (e: { message?: string }) => this.events.pong(e.message ?? ""));

    this.registrationTimer = this.clock.setTimeout(() => {
      if (client === this.client && !this.registered) {
        this.lastError = socketUp
          ? `no registration within ${config.registrationTimeoutMs} ms`
          : `no connection within ${config.registrationTimeoutMs} ms${config.tls ? " (the TLS handshake did not complete)" : ""}`;
        this.teardown(this.lastError);
        this.scheduleRetry(this.lastError);
      }
    }, config.registrationTimeoutMs);

    client.connect({
      host: config.host, port: config.port, nick: config.nick, username: config.nick.replace(/[^A-Za-z0-9]/g, "").slice(0, 10) || "portico",
      gecos: config.realname, tls: config.tls, rejectUnauthorized: !config.allowSelfSigned,
      ...(config.sasl ? { account: { account: config.sasl.account, password: config.sasl.password }, sasl_disconnect_on_fail: true } : { account: {} }),
      // Ping at half the timeout (at most every 30 s), so a quiet but healthy link always has traffic in time.
      auto_reconnect: false, ping_interval: Math.max(1, Math.min(30, Math.floor(config.pingTimeoutMs / 2000))),
      ping_timeout: Math.max(1, Math.round(config.pingTimeoutMs / 1000)),
      message_max_length: 16_384, version: "Portico IRC bridge",
    });
  }

  /**
   * irc-framework's handlers throw on some malformed server lines (inside the socket's data handler): drop those lines instead.
   * It also grows without bound on some server lines, which are bounded here: every 001 starts another ping timer and
   * pong listener (a repeated 001 is dropped), every ISUPPORT token is kept (32 lines are taken), and replies wait in
   * caches for an end numeric (NAMES, WHOIS, WHO, MOTD, lists, batches; dropped once open for MAX_CACHE_LINES lines).
   */
  private guardDispatch(client: Client): void {
    const handler = client.command_handler;
    const dispatch = handler.dispatch.bind(handler);
    let welcomes = 0;
    let isupports = 0;
    let cachesOpenFor = 0;
    handler.dispatch = (message) => {
      const command = String(message.command ?? "").toUpperCase();
      const need = MIN_PARAMS.get(command) ?? 0;
      if (!Array.isArray(message.params) || message.params.length < need) {
        this.logger.debug({ command: message.command }, "malformed IRC line dropped");
        return;
      }
      if ((command === "001" && ++welcomes > 1) || (command === "005" && ++isupports > MAX_ISUPPORT_LINES)) {
        this.logger.debug({ command }, "repeated IRC registration line dropped");
        return;
      }
      try {
        dispatch(message);
      } catch (err) {
        this.logger.warn({ command: message.command, err: errorMessage(err) }, "IRC line that irc-framework could not handle dropped");
      }
      let open = false;
      for (const _key in handler._caches) {
        open = true;
        break;
      }
      cachesOpenFor = open ? cachesOpenFor + 1 : 0;
      if (cachesOpenFor > MAX_CACHE_LINES) {
        this.logger.debug({ caches: Object.keys(handler._caches).slice(0, 10) }, "IRC replies without their end numeric dropped");
        handler.resetCache();
        cachesOpenFor = 0;
      }
    };
  }

  private onRegistered(client: Client): void {
    this.registered = true;
    this.clock.clearTimeout(this.registrationTimer);
    this.backoff.reset();
    this.lastError = "";
    this.events.state("registered");
    this.events.registered();
    if (this.config.nickservPassword && !this.config.sasl) {
      client.raw(`PRIVMSG NickServ :IDENTIFY ${this.config.nickservPassword.replace(/[\r\n\0]/g, "")}`);
      this.events.state("identifying with NickServ");
      this.identifyTimer = this.clock.setTimeout(() => {
        this.logger.warn({}, "NickServ did not confirm identification; joining anyway");
        this.identified(client);
      }, NICKSERV_WAIT_MS);
      return;
    }
    this.joinAll(client);
  }

  private identified(client: Client): void {
    if (client !== this.client || !this.registered || this.identifyTimer === undefined) return;
    this.clock.clearTimeout(this.identifyTimer);
    this.identifyTimer = undefined;
    this.joinAll(client);
  }

  private joinAll(client: Client): void {
    for (const channel of this.config.channels) client.join(channel);
  }

  /**
   * A JOIN refused (471/473/474/475, 405): shown in the state, logged once per channel until a JOIN of it succeeds,
   * and tried again every `reconnect.maxMs` (a ban lifted, an invitation, room in the channel) and on every reconnect.
   */
  private joinRefused(client: Client, channel: string, reason: string, error: string): void {
    const key = channel.toLowerCase();
    if (!this.refusedJoins.has(key)) {
      this.logger.warn({ code: ErrorCodes.IRC_JOIN, channel, error }, `cannot join ${channel}: ${reason}; its lines are held (the newest flood.queueMax) until the bot joins it`);
    }
    this.refusedJoins.set(key, { channel, reason });
    this.events.state(`cannot join ${channel}: ${reason}`);
    if (this.joinRetries.has(key)) return;
    const timer = this.clock.setTimeout(() => {
      this.joinRetries.delete(key);
      if (client === this.client && this.registered && !this.joined.has(key)) client.join(channel);
    }, this.config.reconnect.maxMs);
    this.joinRetries.set(key, timer);
  }

  private inbound(client: Client, type: InboundType, e: { nick: string; target: string; message: string; from_server?: boolean }): void {
    if (e.from_server || !e.nick || this.isSelf(client, e.nick)) return;
    if (this.config.ignore.includes(e.nick.toLowerCase())) return;
    const toMe = this.isSelf(client, e.target);
    const toChannel = this.config.channels.some((c) => c.toLowerCase() === e.target.toLowerCase());
    if (!toMe && !toChannel) return;
    this.events.message({ type: toMe && type === "msg" ? "privmsg" : type, nick: e.nick, target: e.target, text: e.message });
  }

  private isSelf(client: Client, nick: string): boolean {
    return nick.toLowerCase() === (client.user.nick || this.config.nick).toLowerCase();
  }

  private onClosed(client: Client, why: string): void {
    if (client !== this.client) return;
    this.teardown(why);
    if (!this.stopped) this.scheduleRetry(why);
  }

  private scheduleRetry(why: string, delayMs?: number): void {
    if (this.stopped || this.retryTimer !== undefined) return;
    const delay = delayMs ?? Math.round(this.backoff.next());
    this.events.state(`reconnecting in ${Math.round(delay / 100) / 10} s: ${oneLine(why)}`);
    this.retryTimer = this.clock.setTimeout(() => {
      this.retryTimer = undefined;
      this.dial();
    }, delay);
  }

  /** Forgets the current client (its late events are ignored) and closes its socket. */
  private teardown(why: string): void {
    const client = this.client;
    this.client = undefined;
    this.registered = false;
    this.clock.clearTimeout(this.registrationTimer);
    this.clock.clearTimeout(this.identifyTimer);
    this.identifyTimer = undefined;
    for (const t of this.rejoinTimers) this.clock.clearTimeout(t);
    this.rejoinTimers.clear();
    for (const t of this.joinRetries.values()) this.clock.clearTimeout(t);
    this.joinRetries.clear();
    this.namesWanted.clear();
    if (!client) return;
    this.logger.debug({ why }, "IRC connection closed");
    try {
      client.removeAllListeners();
      client.on("error", () => undefined);
      client.connection.end();
      client.connection.transport?.socket?.destroy();
    } catch {
      /* already closed */
    }
  }
}
