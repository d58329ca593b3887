import { expect } from "chai";
import { PassThrough } from "node:stream";
import type { Socket } from "node:net";
import { BotSession, SocketSession, type Kwargs, type Outputs } from "../../core/index.js";
import { Lifecycle } from "../../core/plugins/lifecycle.js";
import { CORE } from "../../core/sessions/portal-session.js";
import { RecordingSession } from "../../core/testing/index.js";
import { makeHarness } from "./session-handler-fixture.js";

// ---- compile-time: the send_* family is checked (tsc fails the build if these stop being errors) ----

class Checked extends RecordingSession implements Outputs<Checked, "text" | "prompt" | "channel"> {
  send_channel(_args: unknown[], _kwargs: Kwargs): void {}
}

class Misspelt extends RecordingSession implements Outputs<Misspelt, "text" | "prompt"> {
  // @ts-expect-error a misspelt key (send_promt) is not among the declared outputs
  send_promt(_args: unknown[], _kwargs: Kwargs): void {}
}

// @ts-expect-error a declared key without its method
class Missing extends RecordingSession implements Outputs<Missing, "text" | "prompt" | "gmcp"> {}

class WrongShape extends RecordingSession implements Outputs<WrongShape, "text" | "prompt" | "ping"> {
  // @ts-expect-error send_<key> takes (args: unknown[], kwargs)
  send_ping(_args: string): void {}
}

/** A socket stand-in with the counters and events SocketSession uses. */
function fakeSocket(): Socket & { bytesRead: number; bytesWritten: number } {
  const s = new PassThrough() as unknown as Socket & { bytesRead: number; bytesWritten: number; remoteAddress: string };
  Object.assign(s, { bytesRead: 0, bytesWritten: 0, remoteAddress: "192.0.2.1", setNoDelay() {} });
  return s;
}

class LinesSession extends SocketSession {
  constructor(socket: Socket) {
    super("lines", socket);
  }
  protected received(chunk: Buffer): void {
    this.textIn(chunk);
  }
  send_text(args: unknown[]): void {
    this.write(String(args[0]));
  }
}

class TestBot extends BotSession {
  constructor() {
    super("testbot", "bot@example", { uid: "bot:1", uname: "Botty" });
  }
  flag(state: string): void {
    this.setBotState(state);
  }
}

describe("the plugin contract (core guarantees)", () => {
  it("compile-time checks exist for the send_* family", () => {
    expect([Checked, Misspelt, Missing, WrongShape].map((c) => c.name)).to.have.length(4);
  });

  it("only the portal gives a session its id; a plugin cannot set it", () => {
    const h = makeHarness({ limits: { maxConnectionRate: 0 } });
    const s = h.session();
    expect(s.sessid).to.equal("");
    expect(() => {
      (s as unknown as { sessid: string }).sessid = "spoofed";
    }).to.throw(TypeError);
    h.handler.connect(s);
    expect(s.sessid).to.equal("portal:1:1");
  });

  it("each lifecycle state has one name: new → queued → open → closing → closed", () => {
    const h = makeHarness({ limits: { maxConnectionRate: 1, connectionQueueMax: 10 } });
    const first = h.connect();
    expect(first.state).to.equal("open");
    const s = h.session();
    expect(s.state).to.equal("new");
    h.handler.connect(s);
    expect(s.state).to.equal("queued");
    h.clock.advance(1000);
    expect(s.state).to.equal("open");
    let during = "";
    s.send_text = (args: unknown[]) => void (during = `${s.state}:${String(args[0])}`);
    s.close("bye");
    expect(during).to.equal("closing:bye");
    expect(s.state).to.equal("closed");
    expect(s.ending).to.equal(true);
  });

  it("a bot's session is registered at once, never queued behind players", () => {
    const h = makeHarness({ limits: { maxConnectionRate: 1, connectionQueueMax: 10 } });
    h.connect();
    h.connect();
    expect(h.handler.queuedConnections).to.equal(1);
    const bot = new TestBot();
    h.handler.connectBot(bot);
    expect(bot.state).to.equal("open");
    expect(h.handler.get(bot.sessid)).to.equal(bot);
    expect([bot.logged_in, bot.uid, bot.uname]).to.deep.equal([true, "bot:1", "Botty"]);
    expect([h.handler.count_loggedin(), h.handler.count_players(), h.handler.count_players(true)]).to.deep.equal([1, 0, 1]);
    h.channel.clear();
    bot.flag("connected");
    expect(h.channel.ofOp("session-connect-sync").map((m) => m.session.protocol_flags.BOT_STATE)).to.deep.equal(["connected"]);
    bot.flag("connected");
    expect(h.channel.ofOp("session-connect-sync")).to.have.length(1);
  });

  it("bytes are counted by the base from the transport, across transports, closed ones included", () => {
    const h = makeHarness({ limits: { maxConnectionRate: 0 } });
    const socket = fakeSocket();
    const s = new LinesSession(socket);
    h.handler.connect(s);
    socket.bytesRead = 10;
    socket.bytesWritten = 4;
    expect([s.bytesIn, s.bytesOut]).to.deep.equal([10, 4]);
    const bot = new TestBot();
    const first = { bytesRead: 5, bytesWritten: 7, destroyed: false };
    bot.measure(first);
    first.destroyed = true;
    bot.measure({ bytesRead: 1, bytesWritten: 2 });
    first.bytesRead = 999; // a finished transport's totals were folded in when it was let go
    expect([bot.bytesIn, bot.bytesOut]).to.deep.equal([6, 9]);
  });

  it("a socket session's 'close' becomes one disconnect; an exception in its input handling closes it, not the portal", () => {
    const h = makeHarness({ limits: { maxConnectionRate: 0 } });
    const socket = fakeSocket();
    const s = new LinesSession(socket);
    h.handler.connect(s);
    (s as unknown as { received: () => void }).received = () => {
      throw new Error("parser bug");
    };
    socket.emit("data", Buffer.from("x"));
    expect(s.state).to.equal("closing");
    socket.emit("close");
    socket.emit("close");
    expect(s.state).to.equal("closed");
    expect(h.channel.ofOp("session-disconnect").map((m) => m.sessid)).to.deep.equal([s.sessid]);
    expect(h.logger.codes()).to.include("PORTAL_ERR_SESSION_CALLBACK");
  });

  it("the portal's core state of a session is under a key plugins cannot import", () => {
    const s = new RecordingSession();
    expect(Object.keys(s)).to.not.include("announced");
    expect(s[CORE].state).to.equal("new");
  });

  describe("Lifecycle (start/stop of every base class)", () => {
    it("start twice runs once; stop twice runs once; a stopped instance is not started again", async () => {
      const l = new Lifecycle();
      let starts = 0;
      let stops = 0;
      await Promise.all([l.start(async () => void starts++), l.start(async () => void starts++)]);
      expect([starts, l.state]).to.deep.equal([1, "running"]);
      await Promise.all([l.stop(async () => void stops++), l.stop(async () => void stops++)]);
      expect([stops, l.state]).to.deep.equal([1, "stopped"]);
      let err: unknown;
      await l.start(async () => undefined).catch((e: unknown) => (err = e));
      expect((err as { code?: string }).code).to.equal("PORTAL_ERR_PORTAL_STATE");
    });

    it("stop during a start that never ends does not wait for it; the start sees `cancelled`", async () => {
      const l = new Lifecycle();
      let release!: () => void;
      const started = l.start(() => new Promise<void>((r) => (release = r)));
      expect(l.state).to.equal("starting");
      await l.stop(async () => undefined);
      expect([l.state, l.cancelled]).to.deep.equal(["stopped", true]);
      release();
      await started;
      expect(l.state).to.equal("stopped");
    });

    it("a failed start is `failed`; stop() still runs", async () => {
      const l = new Lifecycle();
      await l.start(async () => {
        throw new Error("no");
      }).catch(() => undefined);
      expect(l.state).to.equal("failed");
      let stopped = false;
      await l.stop(async () => void (stopped = true));
      expect([stopped, l.state]).to.deep.equal([true, "stopped"]);
    });
  });
});

describe("the plugin contract (socket sessions and output)", () => {
  it("output for a session that is closing is dropped; the close reason is the last thing sent", () => {
    const h = makeHarness({ limits: { maxConnectionRate: 0 } });
    const s = h.connect();
    (s as unknown as { hangUp: () => void }).hangUp = () => undefined; // the transport never finishes closing
    s.close("bye");
    h.handler.data_out(s.sessid, [["text", ["after close"], {}]]);
    expect(s.texts).to.deep.equal(["bye"]);
  });
});
