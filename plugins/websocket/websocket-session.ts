import { WebSocket, type RawData } from "ws";
import { PortalSession, type Clock, type CommandTuple, type Kwargs, type Outputs, type TimerHandle } from "../../core/index.js";
import type { WebsocketConfig } from "./config.js";
import type { Frame, WireCodec } from "./codecs/index.js";
import { OutputHistory } from "./output-history.js";
import type { ResumeTokens } from "./resume-tokens.js";

export interface WebsocketSessionDeps {
  config: WebsocketConfig;
  clock: Clock;
  tokens: ResumeTokens<WebsocketSession>;
  /** The session is gone (the factory forgets it). */
  ended(session: WebsocketSession): void;
}

/** Close codes this plugin sends (besides 1000, and ws's own 1009 for an over-large frame). */
export const CLOSE = {
  policy: 1008,
  slowReader: 1013,
  badResume: 4401,
  resumedElsewhere: 4409,
} as const;

/** Close reasons are at most 123 bytes. */
function reasonText(reason: string): string {
  const b = Buffer.from(reason, "utf8");
  return b.length <= 123 ? reason : b.subarray(0, 120).toString("utf8").replace(/\uFFFD$/, "") + "...";
}

/**
 * One web client session (protocol key `websocket`, variant = the subprotocol). Unlike a telnet
 * session it can outlive its socket: when the socket drops, the session waits `resumeGraceMs` for the
 * tab to come back with its resume token, still logged in and unknown to the game as gone; output
 * meanwhile is kept (bounded) and replayed on resume. Pings find dead sockets; a client that does
 * not read, floods, or sends too much is closed.
 */
export class WebsocketSession extends PortalSession implements Outputs<WebsocketSession, "text" | "prompt"> {
  private ws: WebSocket | undefined;
  private codec: WireCodec;
  private readonly history: OutputHistory;
  /** For each content frame sent on the current socket (the last ones), the number of its output. */
  private frameSeqs: number[] = [];
  /** Content frames sent on the current socket before those in frameSeqs. */
  private framesDropped = 0;
  /** History number reached when the current socket was attached. */
  private attachedAt = 0;
  private pingTimer: TimerHandle | undefined;
  private graceTimer: TimerHandle | undefined;
  private rotateTimer: TimerHandle | undefined;
  private alive = true;
  private frameWindowStart = 0;
  private framesInWindow = 0;
  /** Set when this side closed the socket for misbehaviour: the session then ends instead of waiting. */
  private endWithSocket = false;
  /** Sockets this side is already closing (each is closed once). */
  private readonly dropping = new WeakSet<WebSocket>();

  constructor(ws: WebSocket, codec: WireCodec, address: string | null, clientName: string | null, private readonly deps: WebsocketSessionDeps) {
    super("websocket", address);
    this.codec = codec;
    this.history = new OutputHistory(deps.config.replayMaxMessages, deps.config.replayMaxBytes);
    Object.assign(this.protocol_flags, {
      CLIENTNAME: clientName ? `${clientName} (websocket ${codec.name})` : `websocket (${codec.name})`,
      "UTF-8": true, ANSI: true, XTERM256: true, TRUECOLOR: true, OOB: codec.carriesOob, WEBSOCKET_SUBPROTOCOL: codec.name,
    });
    this.variant = codec.name;
    this.attach(ws);
  }

  /** True while the session waits for its tab to come back. */
  get detached(): boolean {
    return this.ws === undefined && !this.ending;
  }

  /** Sends the resume token once the portal has the session. */
  override onOpen(): void {
    this.rotateToken();
  }

  /**
   * The tab came back (resume token accepted) on `ws`: it replaces any socket still attached (closed
   * with 4409), gets a new token, then the output it did not see: after its `received`-th frame on the
   * previous socket when it says, else what was produced while it was away.
   */
  resume(ws: WebSocket, codec: WireCodec, received: number | undefined): void {
    const old = this.ws;
    const after = this.replayPoint(received);
    this.ws = undefined;
    if (old) old.close(CLOSE.resumedElsewhere, "session resumed elsewhere");
    this.deps.clock.clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
    if (codec !== this.codec) {
      this.codec = codec;
      this.variant = codec.name;
      Object.assign(this.protocol_flags, { OOB: codec.carriesOob, WEBSOCKET_SUBPROTOCOL: codec.name });
      this.syncFlags();
    }
    this.attach(ws);
    this.rotateToken();
    if (this.logged_in) this.sendTuple(["logged_in", [], {}], this.history.seq);
    const { tuples, lost } = this.history.since(after);
    if (lost > 0) this.sendTuple(["text", [`[${lost} message${lost === 1 ? " was" : "s were"} lost while you were away.]`], {}], this.history.seq);
    for (const tuple of tuples) this.sendTuple(tuple, this.history.seq);
    this.logger.info({ replayed: tuples.length, lost }, "websocket session resumed");
  }

  send_text(args: unknown[], kwargs: Kwargs): void {
    this.output(["text", args, kwargs]);
  }

  send_prompt(args: unknown[], kwargs: Kwargs): void {
    this.output(["prompt", args, kwargs]);
  }

  /** Out-of-band output as the subprotocol carries it (`options` never; nothing on `terminal`). */
  override send_default(name: string, args: unknown[], kwargs: Kwargs): void {
    this.output([name, args, kwargs]);
  }

  override at_login(): void {
    this.output(["logged_in", [], {}]);
  }

  protected hangUp(reason?: string): void {
    this.deps.tokens.revoke(this);
    const ws = this.ws;
    if (ws && ws.readyState === WebSocket.OPEN) {
      ws.close(1000, reasonText(reason ?? ""));
      return;
    }
    this.ws = undefined;
    this.finish();
  }

  // ---- output ----

  private output(tuple: CommandTuple): void {
    const seq = this.history.record(tuple);
    this.sendTuple(tuple, seq);
  }

  /** Encodes and sends one output; an echo switch is its own frame before a text. Nothing while detached. */
  private sendTuple(tuple: CommandTuple, seq: number): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    const [name, args, kwargs] = tuple;
    const options = (typeof kwargs.options === "object" && kwargs.options !== null ? kwargs.options : {}) as Record<string, unknown>;
    const frames: (Frame | undefined)[] = [];
    if (name === "text" || name === "prompt") {
      if (typeof options.echo === "boolean") frames.push(this.codec.oob("echo", [options.echo], {}));
      const text = args[0] === undefined || args[0] === null ? "" : String(args[0]);
      if (text !== "" || name === "prompt") frames.push(name === "text" ? this.codec.text(text, kwargs, this.protocol_flags) : this.codec.prompt(text, kwargs, this.protocol_flags));
    } else {
      frames.push(this.codec.oob(name, args, kwargs));
    }
    for (const frame of frames) if (frame) this.sendFrame(ws, frame, seq);
  }

  private sendFrame(ws: WebSocket, frame: Frame, seq: number | undefined): void {
    ws.send(frame.data, { binary: frame.binary });
    if (seq !== undefined) {
      this.frameSeqs.push(seq);
      const keep = Math.max(1, this.deps.config.replayMaxMessages) * 2;
      if (this.frameSeqs.length > keep * 2) {
        this.framesDropped += this.frameSeqs.length - keep;
        this.frameSeqs = this.frameSeqs.slice(-keep);
      }
    }
    if (ws.bufferedAmount > this.deps.config.maxBufferedBytes) {
      this.logger.warn({ buffered: ws.bufferedAmount }, "web client is not reading its output; closed");
      this.dropSocket(ws, CLOSE.slowReader, "output not read fast enough", false);
    }
  }

  /** The history number after which the resuming tab needs output. */
  private replayPoint(received: number | undefined): number {
    const sentOnSocket = this.framesDropped + this.frameSeqs.length;
    if (received === undefined || !Number.isInteger(received) || received < 0 || received > sentOnSocket) {
      return this.frameSeqs.at(-1) ?? this.attachedAt;
    }
    const next = received - this.framesDropped; // index of the first frame the tab did not see
    if (next < 0) return this.attachedAt;
    if (next >= this.frameSeqs.length) return this.frameSeqs.at(-1) ?? this.attachedAt;
    return this.frameSeqs[next]! - 1;
  }

  private rotateToken(): void {
    if (this.ending || this.deps.config.resumeGraceMs === 0 || !this.codec.carriesOob) return;
    const { clock, config } = this.deps;
    const token = this.deps.tokens.issue(this, clock.now() + config.resumeTokenTtlMs);
    const ws = this.ws;
    const frame = this.codec.oob("portico_resume", [token], { grace_ms: config.resumeGraceMs });
    if (ws && frame) ws.send(frame.data, { binary: frame.binary });
    clock.clearTimeout(this.rotateTimer);
    // Replaced well before it expires, so a connected tab always holds a valid one.
    this.rotateTimer = clock.setTimeout(() => this.rotateToken(), Math.floor(config.resumeTokenTtlMs / 2));
  }

  // ---- the socket ----

  private attach(ws: WebSocket): void {
    this.ws = ws;
    this.attachedAt = this.history.seq;
    this.frameSeqs = [];
    this.framesDropped = 0;
    this.alive = true;
    this.endWithSocket = false;
    ws.on("message", (data: RawData, binary: boolean) => {
      if (ws === this.ws) this.onFrame(ws, data, binary);
    });
    ws.on("pong", () => {
      if (ws === this.ws) this.alive = true;
    });
    ws.on("error", (err: Error & { code?: string }) => {
      // ws reports the client's protocol errors (a frame over maxFrameBytes, bad UTF-8, bad opcodes): no resume.
      this.logger.info({ err: err.message, wsCode: err.code }, "web client broke the websocket protocol; closed");
      if (ws === this.ws) this.endWithSocket = true;
    });
    ws.on("close", (code: number) => {
      if (ws === this.ws) this.onSocketClosed(code);
    });
    this.armPing();
  }

  private onFrame(ws: WebSocket, data: RawData, binary: boolean): void {
    this.alive = true;
    const now = this.deps.clock.now();
    if (now - this.frameWindowStart >= 1000) {
      this.frameWindowStart = now;
      this.framesInWindow = 0;
    }
    if (++this.framesInWindow > this.deps.config.maxFramesPerSecond) {
      this.logger.warn({ limit: this.deps.config.maxFramesPerSecond }, "web client sent too many frames; closed");
      this.dropSocket(ws, CLOSE.policy, "too many messages", true);
      return;
    }
    const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    const decoded = this.codec.decode(bytes, binary, { maxJsonDepth: this.deps.config.maxJsonDepth });
    if (decoded.kind === "input") this.dataIn(...decoded.commands);
    else if (decoded.kind === "close") this.close();
    else this.logger.debug({ why: decoded.why, bytes: bytes.length }, "websocket frame ignored");
  }

  /** Closes a misbehaving socket; `endSession`: the session ends with it (no waiting for a resume). */
  private dropSocket(ws: WebSocket, code: number, reason: string, endSession: boolean): void {
    if (ws !== this.ws) return;
    this.endWithSocket ||= endSession;
    if (this.dropping.has(ws)) return;
    this.dropping.add(ws);
    ws.close(code, reason);
    // A peer that does not read will not answer the close either.
    const timer = setTimeout(() => ws.terminate(), 2000);
    timer.unref();
    ws.once("close", () => clearTimeout(timer));
  }

  private onSocketClosed(code: number): void {
    this.ws = undefined;
    this.deps.clock.clearTimeout(this.pingTimer);
    this.pingTimer = undefined;
    const canWait = !this.ending && !this.endWithSocket && code !== CLOSE.policy && this.deps.config.resumeGraceMs > 0 && this.codec.carriesOob;
    if (!canWait) {
      if (!this.ending) this.close();
      else this.finish();
      return;
    }
    const { clock, config } = this.deps;
    this.deps.tokens.extend(this, clock.now() + config.resumeGraceMs);
    this.graceTimer = clock.setTimeout(() => {
      this.graceTimer = undefined;
      this.logger.info({ graceMs: config.resumeGraceMs }, "web client did not come back; session closed");
      this.close();
    }, config.resumeGraceMs);
  }

  private armPing(): void {
    this.pingTimer = this.deps.clock.setTimeout(() => {
      const ws = this.ws;
      if (!ws) return;
      if (!this.alive) {
        this.logger.info({}, "web client did not answer a ping; its socket is dropped");
        ws.terminate();
        return;
      }
      this.alive = false;
      if (ws.readyState === WebSocket.OPEN) ws.ping();
      this.armPing();
    }, this.deps.config.pingIntervalMs);
  }

  /** The session is over: timers cleared, token revoked, the portal and the factory told. */
  private finish(): void {
    const { clock, tokens } = this.deps;
    for (const t of [this.pingTimer, this.graceTimer, this.rotateTimer]) clock.clearTimeout(t);
    this.pingTimer = this.graceTimer = this.rotateTimer = undefined;
    tokens.revoke(this);
    this.connectionLost();
    this.deps.ended(this);
  }
}
