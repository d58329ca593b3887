import { randomBytes } from "node:crypto";
import { OutboundBot, type Kwargs } from "../../core/index.js";
import type { IrcConfig } from "./config.js";
import { FloodQueue } from "./flood-queue.js";
import { IrcBotSession, type BridgeActions } from "./irc-bot-session.js";
import { IrcConnection } from "./irc-connection.js";
import { cleanNick, formatTemplate, gameToIrc, ircToGame, noPingNick, sanitizeOutgoing } from "./irc-text.js";
import { splitWithPrefix, textBudget } from "./line-splitter.js";

/**
 * One IRC bridge bot: a portal session for the game, an IRC connection that Portico keeps alive,
 * and a flood-controlled, byte-accurate path from game channel messages to IRC lines.
 */
export class IrcBotFactory extends OutboundBot<IrcConfig, IrcBotSession> implements BridgeActions {
  private connection: IrcConnection | undefined;
  private flood: FloodQueue | undefined;
  /**
   * Lines that could not be sent yet, oldest first, bounded by `flood.queueMax` in all: a channel's until the server
   * confirms the bot's JOIN of it (IRC unreachable, registering, identifying, kicked, refused), a private message's
   * until registration. `key` is the channel in lower case, "" for a private message.
   */
  private backlog: { key: string; line: string }[] = [];
  /** Per channel (lower case): its oldest backlog lines dropped past the bound since it was last flushed (a clipped marker goes before the rest). Private messages count for the first channel. */
  private readonly backlogDropped = new Map<string, number>();
  private backlogDroppedTotal = 0;
  private readonly pings = new Map<string, number>();

  protected createSession(): IrcBotSession {
    return new IrcBotSession(this.config, this);
  }

  protected connect(): void {
    const { config } = this;
    const session = this.session!;
    this.flood = new FloodQueue({
      ...config.flood, clock: this.clock, send: (line) => this.sendLine(line),
      // The marker is a message too, so readers of the (first) channel see that lines were clipped.
      clippedMarker: (n) => this.clippedMarker(n),
    });
    this.connection = new IrcConnection(config, this.clock, this.logger, {
      state: (state) => {
        this.logger.info({ state }, "IRC bot state");
        session.setBotState(state);
      },
      registered: () => this.flushBacklog(""),
      joined: (channel) => this.flushBacklog(channel.toLowerCase()),
      socket: (socket) => session.measure(socket),
      // `user` is for display; `nick` is the raw IRC nick, the address for a private reply.
      message: (e) => session.fromIrc(ircToGame(e.text), { type: e.type, user: cleanNick(e.nick), nick: e.nick, channel: e.type === "privmsg" ? cleanNick(e.nick) : e.target }),
      presence: (e) => {
        if (!config.relayJoinPart) return;
        const nick = cleanNick(e.nick);
        const what = e.type === "join" ? `${nick} has joined ${e.channel}` : e.type === "part" ? `${nick} has left ${e.channel}` : `${nick} has quit`;
        session.fromIrc(ircToGame(what), { type: e.type, user: nick, channel: e.channel });
      },
      nicklist: (channel, nicks) => session.fromIrc("", { type: "nicklist", user: "server", channel, nicklist: nicks.map(cleanNick) }),
      pong: (token) => {
        const sent = this.pings.get(token);
        if (sent === undefined) return;
        this.pings.delete(token);
        session.fromIrc("", { type: "ping", user: "server", channel: config.channels[0], timing: (this.clock.now() - sent) / 1000 });
      },
    });
    this.connection.start();
  }

  protected async disconnect(): Promise<void> {
    this.flood?.stop();
    this.backlog = [];
    this.backlogDropped.clear();
    await this.connection?.stop();
  }

  override status(): Record<string, unknown> {
    return {
      ...super.status(),
      nick: this.connection?.nick ?? this.config.nick,
      server: `${this.config.host}:${this.config.port}${this.config.tls ? " (tls)" : ""}`,
      channels: this.config.channels,
      queued: (this.flood?.length ?? 0) + this.backlog.length,
      clipped: (this.flood?.dropped ?? 0) + this.backlogDroppedTotal,
      cannotJoin: this.connection?.cannotJoin ?? {},
    };
  }

  // ---- BridgeActions (called by the session for game output) ----

  fromGame(text: string, kwargs: Kwargs): void {
    const nick = typeof kwargs.nick === "string" && kwargs.nick !== "" ? kwargs.nick : undefined;
    const action = kwargs.kind === "pose" || kwargs.kind === "action";
    const body = gameToIrc(text);
    let prefix = "";
    let suffix = "";
    if (nick) {
      const template = action ? this.config.actionFormat : this.config.relayFormat;
      const at = template.indexOf("{text}");
      const fields = { channel: typeof kwargs.channel === "string" ? kwargs.channel : "", nick: noPingNick(gameToIrc(nick)) };
      prefix = sanitizeOutgoing(formatTemplate(template.slice(0, at), fields));
      suffix = sanitizeOutgoing(formatTemplate(template.slice(at + "{text}".length), fields));
    }
    for (const target of this.config.channels) this.queueMessage(target, prefix, body + suffix, action);
  }

  privmsg(user: string, text: string): void {
    // Only a well-formed IRC nick is a target: no spaces, commas or controls, so no second command.
    if (/^[A-Za-z[\]\\`_^{}|][A-Za-z0-9[\]\\`_^{}|-]{0,49}$/.test(user)) this.queueMessage(user, "", gameToIrc(text), false);
    else this.logger.warn({ user: cleanNick(user) }, "private IRC reply to an invalid nick dropped");
  }

  requestNicklist(): void {
    for (const channel of this.config.channels) this.connection?.requestNames(channel);
  }

  ping(): void {
    const token = randomBytes(6).toString("hex");
    if (this.pings.size > 16) this.pings.clear();
    this.pings.set(token, this.clock.now());
    this.connection?.ping(token);
  }

  reconnect(): void {
    this.connection?.reconnect();
  }

  // ---- internals ----

  private queueMessage(target: string, prefix: string, text: string, action: boolean): void {
    const { user, host } = this.connection?.userAndHost ?? {};
    const budget = textBudget({
      lineLength: this.connection?.lineLength ?? this.config.lineLength, target, nick: this.connection?.nick ?? this.config.nick,
      ...(user !== undefined ? { user } : {}), ...(host !== undefined ? { host } : {}), action,
    });
    for (const part of splitWithPrefix(prefix, text, budget)) {
      this.flood?.push(action ? `PRIVMSG ${target} :\x01ACTION ${part}\x01` : `PRIVMSG ${target} :${part}`);
    }
  }

  private sendLine(line: string): void {
    // Every line is `PRIVMSG <target> :…`. A channel takes lines only once the server confirmed the bot's JOIN (else a
    // +n channel refuses them with 404, and they would overtake the backlog); nothing of a channel's is in the backlog
    // then, as it is flushed the moment the JOIN is confirmed.
    const target = /^PRIVMSG (\S+) /.exec(line)?.[1] ?? "";
    const key = this.config.channels.some((c) => c.toLowerCase() === target.toLowerCase()) ? target.toLowerCase() : "";
    const open = key ? this.connection?.hasJoined(key) : this.connection?.isRegistered;
    if (open && this.connection?.sendRaw(line)) return;
    // Not yet: keep it for after the (re)join, oldest dropped first past the bound.
    this.backlog.push({ key, line });
    if (this.backlog.length > this.config.flood.queueMax) {
      const dropped = this.backlog.shift()!;
      const markerKey = dropped.key || this.config.channels[0]!.toLowerCase();
      this.backlogDropped.set(markerKey, (this.backlogDropped.get(markerKey) ?? 0) + 1);
      this.backlogDroppedTotal += 1;
    }
  }

  private clippedMarker(n: number, channel = this.config.channels[0]): string {
    return `PRIVMSG ${channel} :[… ${n} line${n === 1 ? "" : "s"} clipped]`;
  }

  /** Sends what the backlog holds for `key` (a channel just joined, or "" once registered), in order, ahead of anything newer. */
  private flushBacklog(key: string): void {
    const lines: string[] = [];
    // The oldest lines were dropped: say so where they were, as the flood queue does, before the rest.
    const dropped = key ? this.backlogDropped.get(key) ?? 0 : 0;
    if (dropped > 0) lines.push(this.clippedMarker(dropped, this.config.channels.find((c) => c.toLowerCase() === key)));
    this.backlogDropped.delete(key);
    this.backlog = this.backlog.filter((held) => held.key !== key || (lines.push(held.line), false));
    // Ahead of what waits in the flood queue: those lines came out of the game after these.
    this.flood?.requeue(lines);
  }
}
