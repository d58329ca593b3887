import assert from "node:assert/strict";
import { ErrorCodes } from "../errors/error-codes.js";
import type { CommandTuple } from "../messages/command-tuple.js";
import { checkManifest, type PluginManifest } from "../plugins/plugin-manifest.js";
import { PluginRegistry } from "../plugins/plugin-registry.js";
import { LineClient } from "./line-client.js";
import { expectNoNewHandles, openHandles } from "./open-handles.js";
import { PluginTestBed, type LaunchedPlugin } from "./plugin-test-bed.js";
import { TrackingClock } from "./tracking-clock.js";
import { waitFor } from "./wait-for.js";

/** The far end of one connection through the plugin under test. */
export interface PeerConnection {
  /** Makes the peer send `text` the way its protocol carries a line the game should see. */
  send(text: string): void;
  /** Everything the peer has received so far, as text (protocol framing removed). */
  readonly received: string;
  readonly closed: boolean;
  /** The peer hangs up. */
  close(): void;
}

/** Plays the other side of the plugin's protocol: a client for an inbound plugin, a server for a bot. */
export interface ContractPeer {
  /** Starts what the plugin dials (a bot's server); runs before each test. */
  setUp?(): Promise<void>;
  tearDown?(): Promise<void>;
  /** The config to launch the plugin with (a listener also gets host 127.0.0.1 and port 0). */
  config?(): Record<string, unknown>;
  /** Inbound: connects to `plugin.port`. Outbound: resolves once the bot has connected to the peer. */
  connect(plugin: LaunchedPlugin): Promise<PeerConnection>;
  /**
   * True when the peer cannot see a connection end (a server the bot polls over HTTP): the checks that
   * "the peer is closed" become "the plugin has stopped and its session is gone".
   */
  connectionless?: boolean;
}

export interface ContractSuiteOptions {
  manifest: PluginManifest;
  peer: ContractPeer;
  /** Suite title (default: the manifest's path). */
  name?: string;
  /** The output instruction whose text the peer must receive (default: `["text", [text], {}]`); null when nothing goes from the game to the peer (a feed reader). */
  output?: ((text: string) => CommandTuple) | null;
  /** The input name a peer's line reaches the game as (default `text`). */
  inputName?: string;
  /** Whether the peer hanging up ends the session (default: true for inbound, false for bots, which reconnect). */
  peerHangUpEndsSession?: boolean;
  /** Per wait (default 5000 ms). */
  timeoutMs?: number;
  /** The data directory the plugin sees (PluginContext.portal.dataDir), asked before each test; default none. */
  dataDir?: () => string;
}

interface MochaGlobals {
  describe(title: string, fn: (this: { timeout(ms: number): void }) => void): void;
  it(title: string, fn: () => Promise<void> | void): void;
  beforeEach(fn: () => Promise<void> | void): void;
  afterEach(fn: () => Promise<void> | void): void;
}

/** A PeerConnection over any client that collects text lines (LineClient, a telnet test client…). */
export function linesPeer(client: { readonly lines: readonly string[]; readonly closed: boolean; send(text: string): void; close(): void }): PeerConnection {
  return {
    send: (text) => client.send(text),
    get received() {
      return client.lines.join("\n");
    },
    get closed() {
      return client.closed;
    },
    close: () => client.close(),
  };
}

/** A peer for line-based TCP plugins (the template's protocol): lines out, CRLF/LF lines in. */
export function lineTcpPeer(): ContractPeer {
  return { connect: async (plugin) => linesPeer(await LineClient.open(plugin.port)) };
}

/**
 * The plugin contract as a mocha suite; call it at the top level of a test file:
 * `runPluginContractSuite({ manifest: chatManifest, peer: lineTcpPeer() })`. It checks that the
 * plugin registers by its dotted path, starts and stops idempotently, turns a connection into a
 * session, passes input to the game and output to the peer, sends unknown output keys to
 * `send_default` without throwing, closes the peer on the game's disconnect, and leaves no
 * socket, timer or handle open after stop().
 */
export function runPluginContractSuite(options: ContractSuiteOptions): void {
  const g = globalThis as unknown as Partial<MochaGlobals>;
  if (typeof g.describe !== "function") throw new Error("runPluginContractSuite must be called in a mocha test file");
  const { describe, it, beforeEach, afterEach } = g as MochaGlobals;
  const { manifest, peer } = options;
  const timeoutMs = options.timeoutMs ?? 5000;
  const inputName = options.inputName ?? "text";
  const output = options.output === undefined ? (text: string): CommandTuple => ["text", [text], {}] : options.output;
  const connectionless = peer.connectionless === true;
  const inbound = manifest.direction === "inbound";
  const hangUpEnds = options.peerHangUpEndsSession ?? inbound;

  describe(`plugin contract: ${options.name ?? manifest.path}`, function () {
    this.timeout(timeoutMs * 4);
    let bed: PluginTestBed;
    let conns: PeerConnection[] = [];
    /** Sessions announced before the plugin started (a bot's own session is announced while it starts). */
    let announcedBeforeStart = 0;

    const start = async (): Promise<LaunchedPlugin> => {
      const config = peer.config?.() ?? {};
      announcedBeforeStart = bed.game.ofOp("session-connect").length;
      return inbound ? bed.listen(manifest, config) : bed.launch(manifest.path, config);
    };
    const connect = async (plugin: LaunchedPlugin) => {
      const known = inbound ? bed.game.ofOp("session-connect").length : announcedBeforeStart;
      const conn = await peer.connect(plugin);
      conns.push(conn);
      const session = await bed.game.nextSession(timeoutMs, known);
      return { conn, session };
    };

    beforeEach(async () => {
      await peer.setUp?.();
      bed = new PluginTestBed({ plugins: [manifest], ...(options.dataDir ? { dataDir: options.dataDir() } : {}) });
      conns = [];
    });

    afterEach(async () => {
      for (const c of conns) c.close();
      await bed.stop();
      await peer.tearDown?.();
    });

    it("registers by its dotted path; a second registration is refused", () => {
      assert.equal(checkManifest(manifest, "contract suite"), manifest);
      const registry = new PluginRegistry();
      registry.register(manifest);
      assert.equal(registry.get(manifest.path), manifest);
      assert.throws(() => registry.register(manifest), (err: { code?: string }) => err.code === ErrorCodes.PLUGIN_DUPLICATE);
    });

    it("start() and stop() are idempotent", async () => {
      const plugin = await start();
      await plugin.factory.start();
      await Promise.all([plugin.factory.start(), plugin.factory.start()]);
      await Promise.all([plugin.factory.stop(), plugin.factory.stop()]);
      await plugin.factory.stop();
      await plugin.stop();
      await plugin.stop();
    });

    it("a connection becomes one session; its input reaches the game", async () => {
      const plugin = await start();
      const { conn, session } = await connect(plugin);
      assert.equal(typeof session.sessid, "string");
      assert.notEqual(session.sessid, "");
      conn.send("contract input line");
      const input = await bed.game.nextInput((i) => i.sessid === session.sessid && i.name === inputName && JSON.stringify(i.args).includes("contract input line"), timeoutMs);
      assert.equal(input.name, inputName);
      assert.equal(bed.game.sessions.filter((s) => s.sessid === session.sessid).length, 1);
    });

    if (output) {
      it("output from the game reaches the peer", async () => {
        const plugin = await start();
        const { conn, session } = await connect(plugin);
        bed.game.output(session.sessid, output("contract output line"));
        await waitFor(() => conn.received.includes("contract output line"), timeoutMs, () => `the peer to receive the output (it has: ${JSON.stringify(conn.received.slice(-200))})`);
      });
    }

    it("an unknown output key goes to send_default without throwing", async () => {
      const plugin = await start();
      const { conn, session } = await connect(plugin);
      const live = bed.session(session.sessid)!;
      const seen: string[] = [];
      const original = live.send_default.bind(live);
      live.send_default = (name, args, kwargs) => {
        seen.push(name);
        original(name, args, kwargs);
      };
      bed.game.output(session.sessid, ["contract_unknown_key", ["x"], { y: 1 }]);
      if (output) {
        bed.game.output(session.sessid, output("after the unknown key"));
        await waitFor(() => conn.received.includes("after the unknown key"), timeoutMs, "output after the unknown key to arrive");
      }
      assert.deepEqual(seen, ["contract_unknown_key"]);
      assert.deepEqual(bed.logger.codes().filter((c) => c === ErrorCodes.SEND_FAILED), []);
    });

    it("the game's disconnect closes the peer", async () => {
      const plugin = await start();
      const { conn, session } = await connect(plugin);
      bed.game.disconnect(session.sessid, "contract: goodbye");
      if (connectionless) await waitFor(() => bed.launcher.factory(plugin.id) === undefined, timeoutMs, "the plugin to stop after the game disconnected its session");
      else await waitFor(() => conn.closed, timeoutMs, "the peer to be closed after the game disconnected its session");
      await waitFor(() => bed.session(session.sessid) === undefined, timeoutMs, "the session to be gone");
    });

    if (hangUpEnds) {
      it("the peer hanging up ends the session and the game is told", async () => {
        const plugin = await start();
        const { conn, session } = await connect(plugin);
        conn.close();
        await bed.game.disconnected(session.sessid, timeoutMs);
        assert.equal(bed.session(session.sessid), undefined);
      });
    }

    it("stop() leaves no open socket, timer or handle, and no session", async () => {
      await new Promise((resolve) => setImmediate(resolve)); // mocha's own timer for this test is set by now
      const before = openHandles();
      const plugin = await start();
      const { conn, session } = await connect(plugin);
      conn.send("contract line before stop");
      await bed.game.nextInput((i) => i.sessid === session.sessid, timeoutMs);
      await plugin.stop();
      if (!connectionless) await waitFor(() => conn.closed, timeoutMs, "the peer to be closed by stop()");
      await bed.game.disconnected(session.sessid, timeoutMs);
      assert.equal(bed.handler.count_loggedin(true), 0, "sessions left in the portal");
      assert.deepEqual(bed.logger.codes().filter((c) => c === ErrorCodes.PLUGIN_LEAK || c === ErrorCodes.PLUGIN_STOP), []);
      if (bed.clock instanceof TrackingClock) await waitFor(() => (bed.clock as TrackingClock).pendingTimers === 0, timeoutMs, `timers set through the clock to be cleared (${(bed.clock as TrackingClock).pendingTimers} pending)`);
      conn.close();
      await expectNoNewHandles(before, timeoutMs);
    });
  });
}
