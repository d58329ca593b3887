import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as netConnect, type Socket } from "node:net";
import type { Client } from "irc-framework";
import { Portal } from "../../core/portal.js";
import { GameSessionHandler, readLinkSecret, type GameSession, type Kwargs } from "../../core/game/index.js";
import { MemoryLogger } from "../../core/testing/index.js";
import { bundledPlugins } from "../../plugins/index.js";
import { FakeIrcServer, IrcFloodProxy, selfSignedCert, type FakeIrcOptions } from "../support/fake-irc-server.js";
import { IrcObserver, type IrcMessage } from "../support/irc-observer.js";
import { startNgircd, type Ngircd } from "../support/ngircd.js";
import { sleep, waitFor } from "../../core/testing/wait-for.js";

// ---------------------------------------------------------------------------------------------
// Harness. One real ngircd for the whole file (restarted by one test); per test: a Portal with the
// bundled plugins, an in-process game SDK, an IRC bot started over the link with connectBot, and
// an observer client in the channel (joined first, so it is the channel operator and can KICK).
// Everything made in a test is closed in afterEach; ngircd in after.
// ---------------------------------------------------------------------------------------------

const BOT_PATH = "plugins.irc.IrcBotFactory";
const ZWSP = "\u200b";
/** Default relay prefix for nick Alice on game channel "public". */
const ALICE = `[public] A${ZWSP}lice: `;

/** The portal gets the bundled plugins (plugins/index.ts), which include the IRC bot. */
const PLUGINS = bundledPlugins;

let ircd: Ngircd;
let serial = 0;
const cleanups: (() => unknown)[] = [];

function onCleanup(fn: () => unknown): void {
  cleanups.push(fn);
}

interface BotInput {
  text: string;
  kwargs: Kwargs;
  time: number;
}

interface Bridge {
  portal: Portal;
  logger: MemoryLogger;
  game: GameSessionHandler;
  config: Record<string, unknown>;
  nick: string;
  channel: string;
  /** Every ircbot session the game was told about (onConnect). */
  botConnects: GameSession[];
  botDisconnects: GameSession[];
  /** bot_data_in inputs from the bot session, in order. */
  inputs: BotInput[];
  /** Any other input from the bot session (should stay empty). */
  otherInputs: { name: string; args: unknown[] }[];
  /** BOT_STATE values as the game saw them, in order (consecutive duplicates dropped). */
  states: string[];
  bot(): GameSession;
  /** Sends one game channel message to the bot (kind "say" unless given). */
  say(text: string, kwargs?: Kwargs): void;
  waitState(re: RegExp, timeoutMs?: number, from?: number): Promise<number>;
  waitInput(pred: (i: BotInput) => boolean, timeoutMs?: number, what?: string): Promise<BotInput>;
}

/** A fresh nick/channel/observer name per test so a lingering QUIT can never collide. */
function names(): { nick: string; channel: string; obs: string } {
  serial += 1;
  return { nick: `PortBot${serial}`, channel: `#test${serial}`, obs: `obs${serial}` };
}

async function observer(port: number, nick: string, channel?: string): Promise<IrcObserver> {
  const o = await IrcObserver.connect(port, nick);
  onCleanup(() => o.close());
  if (channel) await o.join(channel);
  return o;
}

interface BridgeOptions {
  /** Wait for BOT_STATE "connected" (default true). */
  awaitConnected?: boolean;
  /** Observer that must see the bot's JOIN before the bridge counts as up. */
  watch?: IrcObserver;
  /** Portal config laid over the suite's (e.g. a tight connection throttle and a telnet listener). */
  portalConfig?: Record<string, unknown>;
  /** Runs after the game is linked and before it asks for the bot (e.g. a connection flood). */
  beforeBot?: (portal: Portal) => Promise<void>;
}

async function startBridge(config: Record<string, unknown>, opts: BridgeOptions = {}): Promise<Bridge> {
  const dataDir = mkdtempSync(join(tmpdir(), "portico-irc-"));
  onCleanup(() => rmSync(dataDir, { recursive: true, force: true }));
  const logger = new MemoryLogger();
  const portal = new Portal({
    config: { dataDir, link: { port: 0 }, limits: { maxConnectionRate: 0 }, ...opts.portalConfig },
    plugins: PLUGINS,
    logger,
  });
  onCleanup(() => portal.stop());
  await portal.start();
  const link = portal.linkAddress;
  if (!link) throw new Error("portal has no link address");

  const botConnects: GameSession[] = [];
  const botDisconnects: GameSession[] = [];
  const inputs: BotInput[] = [];
  const otherInputs: { name: string; args: unknown[] }[] = [];
  const states: string[] = [];
  const isBot = (s: GameSession) => s.protocol_key === "ircbot";
  const noteState = (s: GameSession) => {
    const st = s.protocol_flags.BOT_STATE;
    if (typeof st === "string" && states.at(-1) !== st) states.push(st);
  };
  const game = new GameSessionHandler({
    host: "127.0.0.1",
    port: link.port,
    secret: readLinkSecret(dataDir),
    logger: new MemoryLogger(),
    info: { name: "irc-test-game" },
    requestTimeoutMs: 5000,
    callbacks: {
      onConnect: (s) => {
        if (!isBot(s)) return;
        botConnects.push(s);
        noteState(s);
      },
      onDisconnect: (s) => void (isBot(s) && botDisconnects.push(s)),
      onSessionUpdate: (s) => void (isBot(s) && noteState(s)),
      onInput: (s, name, args, kwargs) => {
        if (!isBot(s)) return;
        if (name === "bot_data_in") inputs.push({ text: String(args[0] ?? ""), kwargs, time: Date.now() });
        else otherInputs.push({ name, args });
      },
    },
  });
  onCleanup(() => game.stop());
  game.start();
  await waitFor(() => game.ready, 5000, "game SDK synced with the portal");

  if (opts.beforeBot) await opts.beforeBot(portal);
  const full: Record<string, unknown> = { uid: "irc:1", ssl: false, realname: "Portico test bot", ...config };
  const started = await game.connectBot(BOT_PATH, full);
  expect(started.path).to.equal(BOT_PATH);
  await waitFor(() => botConnects.length > 0, 5000, "the ircbot session at the game");

  const bridge: Bridge = {
    portal, logger, game, config: full,
    nick: String(full.botname ?? full.nick),
    channel: String(full.channel ?? (full.channels as string[] | undefined)?.[0] ?? ""),
    botConnects, botDisconnects, inputs, otherInputs, states,
    bot: () => botConnects[0]!,
    say(text, kwargs = {}) {
      game.msg(bridge.bot(), [["channel", [text], { channel: "public", nick: "Alice", kind: "say", ...kwargs }]]);
    },
    async waitState(re, timeoutMs = 5000, from = 0) {
      return waitFor(() => {
        const i = states.findIndex((s, k) => k >= from && re.test(s));
        return i >= 0 ? i + 1 : 0;
      }, timeoutMs, `BOT_STATE ${String(re)} (states so far: ${JSON.stringify(states)})`).then((i) => i - 1);
    },
    async waitInput(pred, timeoutMs = 5000, what = "bot_data_in") {
      return waitFor(() => inputs.find(pred), timeoutMs, () => `${what} (inputs so far: ${JSON.stringify(inputs.map((i) => [i.kwargs.type, i.text.slice(0, 60)]))})`);
    },
  };
  if (opts.awaitConnected !== false) {
    await bridge.waitState(/^connected$/, 8000);
    if (opts.watch) {
      const w = opts.watch;
      await w.waitForLine((l) => l.command === "JOIN" && l.nick === bridge.nick, 5000, `${bridge.nick} joining`);
    }
  }
  return bridge;
}

/** The default bot config for the suite's ngircd. */
function botConfig(nick: string, channel: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    botname: nick,
    network: "127.0.0.1",
    port: ircd?.port ?? 1,
    channel,
    flood: { ratePerSec: 10, burst: 3, queueMax: 100 },
    reconnect: { initialMs: 200, factor: 1.5, maxMs: 1000, jitter: 0 },
    rejoinDelayMs: 200,
    ...extra,
  };
}

/** Everything the bot said in `channel`, as the observer saw it. */
function fromBot(o: IrcObserver, b: Bridge, target = b.channel): IrcMessage[] {
  return o.from(b.nick, target);
}

const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/; // C0 controls and DEL, TAB aside

/**
 * Captures uncaught exceptions until the end of the test (mocha's own handlers are put back by
 * the cleanup, which runs last because it is registered first). In production an uncaught
 * exception ends the portal process, so a test that sees one has found a crash.
 */
function trapUncaught(): Error[] {
  const caught: Error[] = [];
  const saved = process.listeners("uncaughtException");
  process.removeAllListeners("uncaughtException");
  const trap = (err: Error) => void caught.push(err);
  process.on("uncaughtException", trap);
  onCleanup(() => {
    process.removeListener("uncaughtException", trap);
    for (const l of saved) process.on("uncaughtException", l);
  });
  return caught;
}

/** Where two strings first differ, with a little context, for assertion messages. */
function firstDiff(got: string, want: string): string {
  let i = 0;
  while (i < got.length && i < want.length && got[i] === want[i]) i++;
  if (i === got.length && i === want.length) return "(equal)";
  return `at ${i} (got ${got.length} chars, want ${want.length}): got ${JSON.stringify(got.slice(Math.max(0, i - 12), i + 12))}, want ${JSON.stringify(want.slice(Math.max(0, i - 12), i + 12))}`;
}

function firstFrame(e: Error): string {
  return (e.stack ?? "").split("\n").find((l) => /^\s+at /.test(l))?.trim().replace(/^at /, "").replace(process.cwd() + "/", "") ?? "?";
}

// ---------------------------------------------------------------------------------------------

describe("IRC bridge (plugins.irc) against a real ngircd", function () {
  this.timeout(30_000);

  before(async function () {
    this.timeout(15_000);
    ircd = await startNgircd({ pingTimeout: 20 });
  });

  after(async function () {
    this.timeout(10_000);
    await ircd?.dispose();
  });

  afterEach(async function () {
    this.timeout(15_000);
    for (const fn of cleanups.splice(0).reverse()) {
      try {
        await fn();
      } catch {
        /* best effort */
      }
    }
  });

  describe("bridging", function () {
    it("starts the bot during a player connection flood: the bot is never queued or refused (outbound plugins bypass the throttle)", async () => {
      const { nick, channel, obs } = names();
      const o = await observer(ircd.port, obs, channel);
      const flood: Socket[] = [];
      onCleanup(() => flood.forEach((c) => c.destroy()));
      const b = await startBridge(botConfig(nick, channel), {
        watch: o,
        portalConfig: {
          limits: { maxConnectionRate: 1, connectionQueueMax: 10, connectionQueuePerIp: 10 },
          listeners: [{ plugin: "plugins.telnet.TelnetFactory", config: { port: 0, host: "127.0.0.1" } }],
        },
        beforeBot: async (portal) => {
          const port = Number(portal.launcher.list().find((p) => p.path === "plugins.telnet.TelnetFactory")!.status.port);
          for (let i = 0; i < 40; i++) {
            const c = netConnect({ host: "127.0.0.1", port });
            c.on("error", () => undefined);
            flood.push(c);
          }
          // the queue is full and newcomers are being refused when the game asks for the bot
          await waitFor(() => portal.handler.queuedConnections === 10, 5000, "throttle queue full");
        },
      });
      expect(b.portal.handler.queuedConnections, "players still queued while the bot runs").to.be.greaterThan(0);
      expect(b.logger.codes().some((c) => c === "PORTAL_ERR_CONNECT_QUEUE_FULL" || c === "PORTAL_ERR_CONNECT_PER_IP"), "the flood was being refused").to.equal(true);
      const bot = b.portal.handler.all().find((x) => x.protocol_key === "ircbot");
      expect(bot?.state).to.equal("open");
      expect(b.states.at(-1)).to.equal("connected");
      b.say("through the flood");
      await o.waitForMessage((x) => x.nick === nick && x.text.endsWith("through the flood"), 5000, "relayed line");
    });

    it("runs as one logged-in ircbot session and relays both directions (with nicklist, ping, no text/prompt leak)", async () => {
      const { nick, channel, obs } = names();
      const o = await observer(ircd.port, obs, channel);
      const b = await startBridge(botConfig(nick, channel), { watch: o });

      const s = b.bot();
      expect(s.protocol_key).to.equal("ircbot");
      expect(s.logged_in).to.equal(true);
      expect(s.uid).to.equal("irc:1");
      expect(s.address).to.include(channel).and.include("127.0.0.1");
      expect(b.states.indexOf("connecting"), JSON.stringify(b.states)).to.be.at.least(0);
      expect(b.states.at(-1)).to.equal("connected");

      // game → IRC
      b.say("hello from the game");
      const m = await o.waitForMessage((x) => x.nick === nick && x.target === channel, 5000, "relayed game line");
      expect(m.text).to.equal(`${ALICE}hello from the game`);
      expect(m.isAction).to.equal(false);

      // IRC → game
      o.say("hi from irc");
      const i = await b.waitInput((x) => x.text === "hi from irc");
      expect(i.kwargs).to.include({ type: "msg", user: obs, channel });

      // text and prompt output never reach IRC (checked with a later marker line: order is kept)
      b.game.msg(s, { text: "Server restarted.", prompt: "> " });
      b.say("marker-after-text");
      await o.waitForMessage((x) => x.nick === nick && x.text.endsWith("marker-after-text"), 5000, "marker");
      expect(fromBot(o, b).map((x) => x.text).join("\n")).to.not.include("Server restarted").and.not.include("> ");

      // request_nicklist → a nicklist bot_data_in
      b.game.msg(s, [["request_nicklist", [], {}]]);
      const nl = await b.waitInput((x) => x.kwargs.type === "nicklist");
      const list = nl.kwargs.nicklist as string[];
      expect(list, JSON.stringify(nl.kwargs)).to.be.an("array");
      expect(list.map((n) => n.replace(/^[@+]/, ""))).to.include.members([nick, obs]);

      // ping → a ping bot_data_in with timing
      b.game.msg(s, [["ping", [], {}]]);
      const pg = await b.waitInput((x) => x.kwargs.type === "ping");
      expect(pg.kwargs.timing).to.be.a("number").within(0, 5);

      expect(b.otherInputs).to.deep.equal([]);
      expect(b.botConnects).to.have.length(1);
    });

    it("splits a 2 000-byte message at UTF-8 and word boundaries without losing a byte, prefix on every part", async () => {
      const { nick, channel, obs } = names();
      const o = await observer(ircd.port, obs, channel);
      const proxy = await IrcFloodProxy.start(ircd.port); // sees the bot's lines before the server touches them
      onCleanup(() => proxy.close());
      const b = await startBridge(botConfig(nick, channel, { port: proxy.port, flood: { ratePerSec: 20, burst: 3, queueMax: 100 } }), { watch: o });

      // No spaces at all: every cut falls inside a run of 1-, 2-, 3- and 4-byte characters.
      const dense = "aé日😀".repeat(200);
      expect(Buffer.byteLength(dense)).to.equal(2000);
      // Words: cuts should fall on spaces.
      let words = "";
      for (let k = 0; Buffer.byteLength(words) < 2000; k++) words += `${k % 7 === 0 ? "ünïcödé" : "word"}${k} `;
      words = words.trimEnd();

      for (const [label, text] of [["dense", dense], ["words", words]] as const) {
        const from = o.messages.length;
        b.say(text);
        const expectedBytes = Buffer.byteLength(text);
        const parts = await waitFor(() => {
          const got = o.messages.slice(from).filter((x) => x.nick === nick && x.target === channel);
          const bytes = got.reduce((n, x) => n + Buffer.byteLength(x.text.slice(ALICE.length)), 0);
          return bytes >= expectedBytes - 10 ? got : undefined;
        }, 10_000, `${label}: all parts at the observer`);
        await sleep(300); // a stray extra part would show up now
        const all = o.messages.slice(from).filter((x) => x.nick === nick && x.target === channel);
        expect(all.length, `${label}: parts`).to.equal(parts.length);
        expect(parts.length, `${label}: parts`).to.be.at.least(5);
        for (const p of parts) {
          expect(p.text.startsWith(ALICE), `${label}: prefix on ${JSON.stringify(p.text.slice(0, 40))}`).to.equal(true);
          expect(p.bytes, `${label}: relayed line length`).to.be.at.most(512);
          expect(p.text, `${label}: no replacement characters`).to.not.include("\ufffd");
        }
        // Servers strip trailing whitespace from a line (ngircd does), so a part must not end with a space.
        const wire = proxy.messages.filter((l) => l.line.startsWith(`PRIVMSG ${channel} :`)).slice(-parts.length).map((l) => l.line);
        expect(wire.filter((l) => / $/.test(l)).map((l) => `…${l.slice(-24)}`), `${label}: parts sent ending in a space (the server drops it)`).to.deep.equal([]);
        const rebuilt = parts.map((p) => p.text.slice(ALICE.length)).join("");
        expect(rebuilt === text, `${label}: reassembled text differs ${firstDiff(rebuilt, text)}`).to.equal(true);
        if (label === "words") {
          // every cut at a word boundary: no part (text) begins or ends inside a word
          for (let k = 0; k < parts.length - 1; k++) {
            const a = parts[k]!.text.slice(ALICE.length);
            const c = parts[k + 1]!.text.slice(ALICE.length);
            expect(a.endsWith(" ") || c.startsWith(" "), `cut ${k} inside a word: …${a.slice(-12)}|${c.slice(0, 12)}…`).to.equal(true);
          }
        }
      }
      expect(b.states.at(-1)).to.equal("connected");
    });

    it("ACTION both ways: a game pose becomes /me, an IRC /me reaches the game as type action", async () => {
      const { nick, channel, obs } = names();
      const o = await observer(ircd.port, obs, channel);
      const b = await startBridge(botConfig(nick, channel), { watch: o });

      b.say("waves hello", { kind: "pose" });
      const m = await o.waitForMessage((x) => x.nick === nick && x.isAction, 5000, "ACTION from the bot");
      expect(m.text).to.equal(`[public] A${ZWSP}lice waves hello`);
      expect(m.raw.endsWith("\x01")).to.equal(true);

      o.action("dances");
      const i = await b.waitInput((x) => x.kwargs.type === "action");
      expect(i.text).to.equal("dances");
      expect(i.kwargs).to.include({ user: obs, channel });
    });

    it("colours both ways: markup → mIRC codes; mIRC colours → markup, ANSI escapes stripped", async () => {
      const { nick, channel, obs } = names();
      const o = await observer(ircd.port, obs, channel);
      const b = await startBridge(botConfig(nick, channel), { watch: o });

      b.say("|rred|n and |gGreen|n plain");
      const m = await o.waitForMessage((x) => x.nick === nick && x.text.includes("plain"), 5000, "coloured line");
      expect(m.text).to.match(/\x03\d{1,2}(,\d{1,2})?red/);
      expect(m.text).to.match(/\x03\d{1,2}(,\d{1,2})?Green/);
      expect(m.text).to.not.include("|r").and.not.include("|g").and.not.include("|n");
      expect(m.text).to.not.include("\x1b");

      o.say("\x0304red\x03 and \x1b[31mansi\x1b[0m \x02bold\x02 end");
      const i = await b.waitInput((x) => x.text.includes("end"));
      expect(i.text).to.not.match(CONTROL);
      expect(i.text).to.not.include("\x1b").and.not.include("[31m").and.not.include("\x03");
      expect(i.text).to.match(/\|[A-Za-z[#0-9]+red/);
      expect(i.text.replace(/\|[A-Za-z]/g, "")).to.include("red and ansi bold end");
    });

    it("drops CTCP other than ACTION, skips the ignore list, and hands a private `who` to the game as privmsg", async () => {
      const { nick, channel, obs } = names();
      const o = await observer(ircd.port, obs, channel);
      const ignored = await observer(ircd.port, `IgnoredGuy${serial}`, channel);
      const b = await startBridge(botConfig(nick, channel, { ignore: [`ignoredguy${serial}`] }), { watch: o });

      o.ctcp(channel, "VERSION");
      o.ctcp(nick, "VERSION");
      o.ctcp(nick, "PING", "12345");
      ignored.say("the ignored bridge says something");
      ignored.action("is ignored too");
      o.privmsgTo(nick, "who");
      await b.waitInput((x) => x.kwargs.type === "privmsg");
      o.say("marker");
      await b.waitInput((x) => x.text === "marker");

      expect(b.inputs.map((x) => [x.kwargs.type, x.text])).to.deep.equal([
        ["privmsg", "who"],
        ["msg", "marker"],
      ]);
      const pm = b.inputs[0]!;
      expect(pm.kwargs.user).to.equal(obs);
      // Nothing from a CTCP leaked into the channel either.
      expect(fromBot(o, b).filter((x) => x.ctcp !== undefined || /VERSION/.test(x.text))).to.deep.equal([]);
    });

    it("relays to every configured channel and tags IRC input with its channel", async () => {
      const { nick, channel, obs } = names();
      const second = `${channel}b`;
      const o = await observer(ircd.port, obs, channel);
      await o.join(second);
      const b = await startBridge(botConfig(nick, channel, { channel: undefined, channels: [channel, second] }));
      await waitFor(() => o.lines.filter((l) => l.command === "JOIN" && l.nick === nick).length >= 2, 5000, "bot in both channels");

      b.say("to both");
      await o.waitForMessages((x) => x.nick === nick && x.text === `${ALICE}to both`, 2, 5000, "copies");
      expect(o.from(nick).map((x) => x.target).sort()).to.deep.equal([channel, second].sort());

      o.say("from the second", second);
      const i = await b.waitInput((x) => x.text === "from the second");
      expect(i.kwargs.channel).to.equal(second);
    });
  });

  describe("flood control", function () {
    it("delivers 100 queued lines paced (burst, then ratePerSec) and in order, never killed for Excess Flood", async function () {
      this.timeout(40_000);
      const { nick, channel, obs } = names();
      // The proxy kills like a strict network if the bot overdraws 5 lines at 12/s
      // (the bot is configured for 3 at 10/s).
      const proxy = await IrcFloodProxy.start(ircd.port, { burst: 5, ratePerSec: 12 });
      onCleanup(() => proxy.close());
      const o = await observer(ircd.port, obs, channel);
      const b = await startBridge(botConfig(nick, channel, { port: proxy.port, flood: { ratePerSec: 10, burst: 3, queueMax: 100 } }), { watch: o });
      await sleep(400); // bucket full again

      const t0 = Date.now();
      for (let k = 1; k <= 100; k++) b.say(`line ${String(k).padStart(3, "0")}`);
      const got = await o.waitForMessages((x) => x.nick === nick && /line \d{3}$/.test(x.text), 100, 25_000, "paced lines");

      expect(got.map((x) => x.text)).to.deep.equal(Array.from({ length: 100 }, (_, k) => `${ALICE}line ${String(k + 1).padStart(3, "0")}`));
      expect(proxy.kills, "Excess Flood kills").to.deep.equal([]);
      expect(proxy.connectionCount, "connections through the proxy").to.equal(1);
      expect(b.states.filter((s) => /reconnect|failed/.test(s)), JSON.stringify(b.states)).to.deep.equal([]);

      // Pacing on the wire (the bot's own writes, timed at the proxy).
      const times = proxy.messages.filter((l) => / :\[public\]/.test(l.line)).map((l) => l.time);
      expect(times).to.have.length(100);
      const span = times.at(-1)! - times[0]!;
      expect(span, "100 lines at 10/s after a burst of 3").to.be.within(8000, 14_000);
      let worst = 0;
      for (let a = 0, z = 0; z < times.length; z++) {
        while (times[z]! - times[a]! >= 1000) a++;
        worst = Math.max(worst, z - a + 1);
      }
      expect(worst, "most lines in any 1 s window").to.be.at.most(3 + 10 + 1);
      // The burst went out at once.
      expect(times[2]! - t0, "first three lines immediately").to.be.below(500);
      expect(b.states.at(-1)).to.equal("connected");
    });

    it("clips a full queue with one visible marker instead of growing without bound", async () => {
      const { nick, channel, obs } = names();
      const o = await observer(ircd.port, obs, channel);
      const proxy = await IrcFloodProxy.start(ircd.port); // records the bot's own lines
      onCleanup(() => proxy.close());
      const b = await startBridge(botConfig(nick, channel, { port: proxy.port, flood: { ratePerSec: 25, burst: 3, queueMax: 20 } }), { watch: o });
      await sleep(200);
      for (let k = 1; k <= 60; k++) b.say(`q${k}`);
      await waitFor(() => fromBot(o, b).length >= 23, 5000, "the kept lines");
      await sleep(800);
      // Whatever the marker is, it must be an IRC command the server understands (a PRIVMSG), not a bare text line.
      const bare = proxy.sent.filter((l) => !/^(PRIVMSG|NOTICE|PING|PONG|NICK|USER|CAP|JOIN|PART|QUIT|NAMES|MODE|WHO|AUTHENTICATE) /.test(l.line)).map((l) => l.line);
      expect(bare, "lines the bot wrote that are not IRC commands").to.deep.equal([]);
      // 3 burst + 20 queued (+ the marker) ≈ 1 s at 25/s; wait until quiet.
      await o.waitForMessage((x) => x.nick === nick && /clipp|dropp|omit|skip/i.test(x.text), 6000, "clipped marker");
      await sleep(600);
      const mine = fromBot(o, b);
      const relayed = mine.filter((x) => x.text.startsWith(ALICE));
      const markers = mine.filter((x) => !x.text.startsWith(ALICE));
      expect(relayed.length, "lines delivered").to.be.within(20, 25);
      expect(markers, "one marker").to.have.length(1);
      expect(markers[0]!.text).to.match(/\d+/);
      // the earliest lines are the ones kept, in order
      const nums = relayed.map((x) => Number(x.text.slice(ALICE.length + 1)));
      expect(nums).to.deep.equal([...nums].sort((p, q) => p - q));
      expect(nums[0]).to.equal(1);
      expect(b.states.at(-1)).to.equal("connected");
    });
  });

  describe("reconnect and rejoin", function () {
    it("comes back after ngircd is stopped and restarted, rejoins, relays again — one game session throughout", async function () {
      this.timeout(30_000);
      const { nick, channel, obs } = names();
      const o = await observer(ircd.port, obs, channel);
      const b = await startBridge(botConfig(nick, channel, { reconnect: { initialMs: 300, factor: 1.5, maxMs: 1500, jitter: 0 } }), { watch: o });
      b.say("before the outage");
      await o.waitForMessage((x) => x.nick === nick && x.text.endsWith("before the outage"), 5000);

      const before = b.states.length;
      const restarting = ircd.restart(1500);
      const down = await b.waitState(/^reconnecting/, 6000, before);
      await restarting;
      const back = await b.waitState(/^connected$/, 12_000, down + 1);
      expect(back).to.be.greaterThan(down);

      const o2 = await observer(ircd.port, `${obs}b`, channel);
      const members = await o2.names(channel);
      expect(members.map((n) => n.replace(/^[@+]/, ""))).to.include(nick);

      b.say("after the restart");
      await o2.waitForMessage((x) => x.nick === nick && x.text === `${ALICE}after the restart`, 5000, "relay after restart");
      o2.say("welcome back");
      await b.waitInput((x) => x.text === "welcome back", 5000);

      expect(b.botConnects, "ircbot sessions the game saw").to.have.length(1);
      expect(b.botDisconnects).to.have.length(0);
      expect([...b.game.sessions.values()].filter((s) => s.protocol_key === "ircbot")).to.have.length(1);
      expect(b.portal.launcher.list().filter((p) => p.path === BOT_PATH)).to.have.length(1);
    });

    it("rejoins after a kick and keeps relaying", async () => {
      const { nick, channel, obs } = names();
      const o = await observer(ircd.port, obs, channel);
      const b = await startBridge(botConfig(nick, channel, { rejoinDelayMs: 200 }), { watch: o });
      expect(await o.names(channel)).to.include(`@${obs}`);

      const mark = o.lines.length;
      const before = b.states.length;
      o.kick(channel, nick, "out you go");
      await o.waitForLine((l) => l.command === "KICK" && l.params[1] === nick, 3000, "the KICK", mark);
      await o.waitForLine((l) => l.command === "JOIN" && l.nick === nick, 6000, "the bot rejoining", mark);
      await b.waitState(/^connected$/, 5000, before + 1);
      expect(b.states.slice(before).some((s) => /kick/i.test(s)), JSON.stringify(b.states)).to.equal(true);

      b.say("back in");
      await o.waitForMessage((x) => x.nick === nick && x.text === `${ALICE}back in`, 5000);
      expect(b.botConnects).to.have.length(1);
    });

    it("a game reload does not touch the bot: the next game process gets the same logged-in bot session, IRC sees no QUIT or JOIN", async () => {
      const { nick, channel, obs } = names();
      const o = await observer(ircd.port, obs, channel);
      const b = await startBridge(botConfig(nick, channel), { watch: o });
      const bot = b.bot();
      const mark = o.lines.length;
      b.game.announceStop("reload");
      await b.game.handBack();
      await b.game.stop();

      let restored: GameSession[] = [];
      let mode = "";
      const next = new GameSessionHandler({
        host: "127.0.0.1", port: b.portal.linkAddress!.port, secret: b.portal.linkSecret, logger: new MemoryLogger(),
        callbacks: { onSync: (info) => ((mode = info.mode), (restored = info.restored)) },
      });
      onCleanup(() => next.stop());
      next.start();
      await waitFor(() => next.ready, 5000, "the next game synced");
      expect(mode).to.equal("reload");
      const again = restored.find((s) => s.protocol_key === "ircbot");
      expect(again?.sessid).to.equal(bot.sessid);
      expect(again?.logged_in).to.equal(true);
      expect(again?.uid).to.equal("irc:1");
      expect(again?.protocol_flags.BOT_STATE).to.equal("connected");

      next.msg(again!, [["channel", ["after the reload"], { channel: "public", nick: "Alice", kind: "say" }]]);
      await o.waitForMessage((x) => x.nick === nick && x.text === `${ALICE}after the reload`, 5000);
      expect(o.lines.slice(mark).filter((l) => (l.command === "QUIT" || l.command === "JOIN") && l.nick === nick)).to.deep.equal([]);
    });

    it("game.disconnect stops the bot for good (QUIT, no rejoin)", async () => {
      const { nick, channel, obs } = names();
      const o = await observer(ircd.port, obs, channel);
      const b = await startBridge(botConfig(nick, channel), { watch: o });
      const mark = o.lines.length;
      b.game.disconnect(b.bot());
      await o.waitForLine((l) => l.command === "QUIT" && l.nick === nick, 5000, "the bot's QUIT", mark);
      await sleep(1200);
      expect(o.lines.slice(mark).filter((l) => l.command === "JOIN" && l.nick === nick)).to.deep.equal([]);
      await waitFor(() => b.portal.launcher.list().every((p) => p.path !== BOT_PATH), 3000, "plugin gone from the launcher");
    });

    it("a short pingTimeoutMs does not make a healthy but quiet connection flap", async function () {
      this.timeout(15_000);
      const { nick, channel, obs } = names();
      const o = await observer(ircd.port, obs, channel);
      const b = await startBridge(botConfig(nick, channel, { pingTimeoutMs: 2000 }), { watch: o });
      const before = b.states.length;
      await sleep(4500); // nobody says anything; ngircd itself only pings after 20 s
      expect(b.states.slice(before), JSON.stringify(b.states)).to.deep.equal([]);
      b.say("still here");
      await o.waitForMessage((x) => x.nick === nick && x.text.endsWith("still here"), 3000);
    });
  });

  describe("joining", function () {
    const botStatus = (b: Bridge) => b.portal.launcher.list().find((p) => p.path === BOT_PATH)!.status;

    it("a +n channel: game lines between registration and the confirmed JOIN wait for it, after the outage's backlog, in order; none refused (404)", async () => {
      const { nick, channel, obs } = names();
      const o = await observer(ircd.port, obs, channel);
      o.send(`MODE ${channel} +n`); // no messages from outside the channel
      await o.waitForLine((l) => l.command === "MODE" && l.params[1] === "+n", 3000, "+n set");
      // The bot talks to ngircd through a proxy that can cut it off and hold its JOIN back, so the window between
      // registration and the JOIN (milliseconds, or up to 15 s while NickServ is waited for) is as long as the test wants.
      const proxy = await IrcFloodProxy.start(ircd.port);
      onCleanup(() => proxy.close());
      const b = await startBridge(botConfig(nick, channel, {
        port: proxy.port, flood: { ratePerSec: 50, burst: 10, queueMax: 100 }, reconnect: { initialMs: 200, factor: 1.5, maxMs: 500, jitter: 0 },
      }), { watch: o });

      const before = b.states.length;
      proxy.holdJoins = true;
      proxy.down();
      await b.waitState(/^reconnecting in /, 5000, before);
      for (const t of ["O1", "O2", "O3"]) b.say(t);
      await waitFor(() => botStatus(b).queued === 3, 3000, () => `the outage's lines held (status ${JSON.stringify(botStatus(b))})`);
      proxy.up();
      await waitFor(() => proxy.heldJoins.length > 0, 5000, "the bot registered again and sent its JOIN (held at the proxy)");
      await b.waitState(/^registered$/, 3000, before);
      const sentBefore = proxy.messages.length;
      for (const t of ["W1", "W2", "W3"]) b.say(t);
      await waitFor(() => botStatus(b).queued === 6 || proxy.messages.length > sentBefore, 3000, "the registration window's lines at the bot");
      await sleep(100);
      expect(proxy.messages.slice(sentBefore).map((l) => l.line), "lines sent to the channel before its JOIN was confirmed").to.deep.equal([]);

      const mark = o.lines.length;
      proxy.releaseJoins();
      await o.waitForLine((l) => l.command === "JOIN" && l.nick === nick, 3000, "the bot's JOIN", mark);
      await b.waitState(/^connected$/, 3000, before + 1);
      await o.waitForMessages((x) => x.nick === nick, 6, 3000, "the held lines").catch(() => undefined);
      await sleep(200);
      expect(fromBot(o, b).map((x) => x.text), "what the channel saw").to.deep.equal(["O1", "O2", "O3", "W1", "W2", "W3"].map((t) => `${ALICE}${t}`));
      expect(b.logger.entries.filter((e) => /^IRC error/.test(e.msg)).map((e) => e.msg), "errors from the server (404)").to.deep.equal([]);
      expect(botStatus(b)).to.deep.include({ queued: 0, clipped: 0 });
    });

    it("a JOIN refused (+b, 474): said in BOT_STATE and status, logged once (PORTAL_ERR_IRC_JOIN); its lines held within the bound, the other channel's flow; tried again every reconnect.maxMs: once the ban is lifted the bot joins and they follow behind one clipped marker", async () => {
      const { nick, channel, obs } = names();
      const open = `${channel}b`;
      const o = await observer(ircd.port, obs, open);
      await o.join(channel);
      o.send(`MODE ${channel} +b ${nick}*!*@*`); // also bans the nick with a collision suffix
      await o.waitForLine((l) => l.command === "MODE" && l.params[1] === "+b", 3000, "+b set");
      const b = await startBridge(botConfig(nick, channel, { channel: undefined, channels: [channel, open], flood: { ratePerSec: 50, burst: 10, queueMax: 3 } }), { awaitConnected: false });
      await b.waitState(new RegExp(`^cannot join ${channel}: .*\\+b`), 5000);
      await o.waitForLine((l) => l.command === "JOIN" && l.nick === nick && l.params[0] === open, 3000, `the bot in ${open}`);

      for (let k = 1; k <= 5; k++) b.say(`L${k}`);
      await o.waitForMessages((x) => x.nick === nick && x.target === open, 5, 3000, `the lines in ${open}`);
      await waitFor(() => botStatus(b).queued === 3, 3000, () => `the refused channel's lines held (status ${JSON.stringify(botStatus(b))})`);
      expect(botStatus(b)).to.deep.include({ queued: 3, clipped: 2 });
      expect(Object.keys(botStatus(b).cannotJoin as object)).to.deep.equal([channel]);
      expect(String((botStatus(b).cannotJoin as Record<string, string>)[channel])).to.match(/\+b/);
      expect(o.from(nick, channel), "nothing reached the channel the bot is banned from").to.deep.equal([]);

      // Refused again after a reconnect: shown again, not logged again.
      const again = b.states.length;
      b.game.msg(b.bot(), [["reconnect", [], {}]]);
      await b.waitState(/^reconnecting in /, 3000, again);
      await b.waitState(new RegExp(`^cannot join ${channel}: `), 5000, again + 1);
      const refusals = () => b.logger.entries.filter((e) => e.fields.code === "PORTAL_ERR_IRC_JOIN");
      expect(refusals(), "coded log lines").to.have.length(1);
      expect(refusals()[0]).to.deep.include({ level: "warn" });
      expect(refusals()[0]!.fields).to.deep.include({ channel, error: "banned_from_channel" });
      expect(b.logger.entries.filter((e) => /^IRC error/.test(e.msg)), "uncoded error lines").to.deep.equal([]);

      o.send(`MODE ${channel} -b ${nick}*!*@*`);
      await o.waitForLine((l) => l.command === "MODE" && l.params[1] === "-b", 3000, "-b set");
      const lifted = b.states.length;
      const mark = o.lines.length;
      await b.waitState(/^connected$/, 3000, lifted); // the next try, at most reconnect.maxMs (1 s) away
      await o.waitForLine((l) => l.command === "JOIN" && l.nick === nick && l.params[0] === channel, 3000, `the bot in ${channel}`, mark);
      await o.waitForMessages((x) => x.nick === nick && x.target === channel, 4, 3000, `the held lines in ${channel}`);
      await sleep(200);
      expect(o.from(nick, channel).map((x) => x.text)).to.deep.equal(["[… 2 lines clipped]", ...["L3", "L4", "L5"].map((t) => `${ALICE}${t}`)]);
      expect(o.from(nick, open).map((x) => x.text)).to.deep.equal(["L1", "L2", "L3", "L4", "L5"].map((t) => `${ALICE}${t}`));
      expect(botStatus(b)).to.deep.include({ queued: 0, cannotJoin: {} });
      expect(refusals()).to.have.length(1);
    });
  });

  describe("injection and hostile input", function () {
    it("a CRLF injection attempt reaches the channel as one harmless line and the bot stays", async () => {
      const { nick, channel, obs } = names();
      const o = await observer(ircd.port, obs, channel);
      const b = await startBridge(botConfig(nick, channel), { watch: o });
      const mark = o.lines.length;

      b.say("hi\r\nQUIT :bye");
      b.say(`\r\nPRIVMSG ${channel} :pwn`);
      b.say(`nul\0byte\rJOIN #evil\nNICK hacked`);
      b.say("from a hostile nick", { nick: `Eve\r\nQUIT :nick injection` });
      b.game.msg(b.bot(), [["privmsg", [`psst\r\nQUIT :pm injection`], { user: obs }]]);
      b.say("marker");
      await o.waitForMessage((x) => x.nick === nick && x.text === `${ALICE}marker`, 5000, "marker");
      await sleep(200);

      const mine = o.lines.slice(mark).filter((l) => l.nick === nick);
      expect(mine.map((l) => l.command).filter((c) => c !== "PRIVMSG"), "only PRIVMSGs from the bot").to.deep.equal([]);
      const chan = fromBot(o, b);
      expect(chan, JSON.stringify(chan.map((x) => x.text))).to.have.length(5);
      expect(chan[0]!.text.startsWith(ALICE) && chan[0]!.text.includes("hi") && chan[0]!.text.includes("QUIT :bye")).to.equal(true);
      expect(chan[1]!.text.startsWith(ALICE) && chan[1]!.text.includes(`PRIVMSG ${channel} :pwn`)).to.equal(true);
      expect(chan.some((x) => x.text === "pwn")).to.equal(false);
      expect(chan[2]!.text).to.include("JOIN #evil").and.include("NICK hacked");
      expect(chan[3]!.text).to.include("from a hostile nick").and.include("nick injection");
      for (const x of chan) expect(x.text, JSON.stringify(x.text)).to.not.match(/[\r\n\0]/);
      const pm = o.from(nick, obs);
      expect(pm).to.have.length(1);
      expect(pm[0]!.text).to.include("psst").and.include("pm injection");
      // the bot is still there, under its nick, and never joined #evil
      expect((await o.names(channel)).map((n) => n.replace(/^[@+]/, ""))).to.include(nick);
      expect(b.states.at(-1)).to.equal("connected");
      expect(b.botConnects).to.have.length(1);
    });

    it("TLS pointed at ngircd's plain port: no crash, a visible timeout/TLS state, retries", async () => {
      const { nick, channel } = names();
      const b = await startBridge(
        botConfig(nick, channel, { ssl: true, registrationTimeoutMs: 1500, reconnect: { initialMs: 200, factor: 1.5, maxMs: 500, jitter: 0 } }),
        { awaitConnected: false },
      );
      // ngircd waits for a line that a TLS ClientHello never completes, so the handshake stalls; the state
      // must still say it is TLS that did not get through (not just "no registration").
      const at = await b.waitState(/^reconnecting/, 5000);
      expect(b.states[at], JSON.stringify(b.states)).to.match(/tls|ssl|handshake/i);
      await b.waitState(/^connecting$/, 3000, at + 1); // and it tries again
      expect(b.inputs).to.deep.equal([]);
      expect(b.botConnects).to.have.length(1);
    });

    it("10 000-character game messages are split, paced and delivered whole; control codes in game nicks never reach IRC", async function () {
      this.timeout(20_000);
      const { nick, channel, obs } = names();
      const o = await observer(ircd.port, obs, channel);
      const b = await startBridge(botConfig(nick, channel, { flood: { ratePerSec: 40, burst: 5, queueMax: 100 } }), { watch: o });
      let text = "";
      for (let k = 0; text.length < 10_000; k++) text += `w${k} `;
      text = text.slice(0, 10_000);
      b.say(text);
      // Wait until the last word arrived, then for quiet.
      const lastWord = text.split(" ").at(-1)!;
      await waitFor(() => fromBot(o, b).some((x) => x.text.endsWith(lastWord)), 12_000, "the last part of the 10 000-character line");
      await sleep(300);
      const parts = fromBot(o, b);
      expect(parts.length).to.be.at.least(20);
      for (const p of parts) {
        expect(p.text.startsWith(ALICE)).to.equal(true);
        expect(p.bytes).to.be.at.most(512);
      }
      // Word for word (whether the space at a cut survives is the 2 000-byte test's business).
      const words = (t: string) => t.split(" ").filter((w) => w !== "");
      expect(words(parts.map((x) => x.text.slice(ALICE.length)).join(" "))).to.deep.equal(words(text));

      const mark = o.messages.length;
      b.say("nick test", { nick: "Al\x1b[31mi\x07ce\x00" });
      const m = await o.waitForMessage((x) => x.nick === nick && x.text.includes("nick test"), 5000, "line with a hostile nick", mark);
      expect(m.text).to.not.match(/[\x00\x07\x1b]/);
      expect(m.text).to.not.include("[31m");
      expect(b.states.at(-1)).to.equal("connected");
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Bad input from servers ngircd cannot imitate: scripted fake servers.
// ---------------------------------------------------------------------------------------------

describe("IRC bridge (plugins.irc) against broken or hostile servers", function () {
  this.timeout(20_000);

  afterEach(async function () {
    this.timeout(15_000);
    for (const fn of cleanups.splice(0).reverse()) {
      try {
        await fn();
      } catch {
        /* best effort */
      }
    }
  });

  async function fake(options: FakeIrcOptions): Promise<FakeIrcServer> {
    const s = await FakeIrcServer.start(options);
    onCleanup(() => s.close());
    return s;
  }

  it("a server that never answers registration: BOT_STATE shows the registration timeout, it retries, no crash, no spam", async () => {
    const server = await fake({ mode: "silent" });
    const { nick, channel } = names();
    const b = await startBridge(
      botConfig(nick, channel, { port: server.port, registrationTimeoutMs: 500, reconnect: { initialMs: 200, factor: 1.5, maxMs: 500, jitter: 0 } }),
      { awaitConnected: false },
    );
    await b.waitState(/registration/i, 4000);
    await waitFor(() => server.connections.length >= 2, 4000, "a second attempt");
    expect(server.allLines.some((l) => /^NICK /.test(l)), "the bot tried to register").to.equal(true);
    expect(b.inputs, "nothing posted to the game").to.deep.equal([]);
    expect(b.botConnects).to.have.length(1);
    expect(b.botDisconnects).to.have.length(0);
  });

  it("TLS handshake failure against a plain-text server: BOT_STATE shows the TLS error", async () => {
    const server = await fake({ mode: "silent", banner: ":fake.irc.test NOTICE * :*** plain text, not TLS\r\n" });
    const { nick, channel } = names();
    const b = await startBridge(
      botConfig(nick, channel, { port: server.port, ssl: true, registrationTimeoutMs: 5000, reconnect: { initialMs: 200, factor: 1.5, maxMs: 500, jitter: 0 } }),
      { awaitConnected: false },
    );
    const at = await b.waitState(/ssl|tls|wrong version|packet length|EPROTO|handshake/i, 4000);
    expect(b.inputs).to.deep.equal([]);
    // BOT_STATE is one line of a status list (irc2chan/list): no raw multi-line OpenSSL dump.
    expect(b.states[at], JSON.stringify(b.states[at])).to.not.match(/[\r\n]/);
  });

  it("TLS with a self-signed certificate: refused by default, accepted with allowSelfSigned", async () => {
    const tls = selfSignedCert();
    const server = await fake({ mode: "irc", tls });
    const first = names();
    const strict = await startBridge(
      botConfig(first.nick, first.channel, { port: server.port, ssl: true, reconnect: { initialMs: 300, factor: 1.5, maxMs: 1000, jitter: 0 } }),
      { awaitConnected: false },
    );
    await strict.waitState(/self[- ]signed|certificate|verify/i, 4000);
    expect(server.connections.filter((c) => c.registered)).to.have.length(0);

    const second = names();
    const relaxed = await startBridge(botConfig(second.nick, second.channel, { port: server.port, ssl: true, allowSelfSigned: true }));
    expect(relaxed.states.at(-1)).to.equal("connected");
    expect(server.connections.some((c) => c.registered && c.nick === second.nick && c.joined.has(second.channel.toLowerCase()))).to.equal(true);
  });

  it("wrong SASL password (904): the failure is in BOT_STATE, the channel is not joined, nothing posted to the game", async () => {
    const server = await fake({ mode: "irc", saslFails: true });
    const { nick, channel } = names();
    const b = await startBridge(
      botConfig(nick, channel, { port: server.port, sasl: { account: "portbot", password: "wrong" }, reconnect: { initialMs: 500, factor: 2, maxMs: 2000, jitter: 0 } }),
      { awaitConnected: false },
    );
    await b.waitState(/sasl/i, 5000);
    const auth = server.allLines.filter((l) => /^AUTHENTICATE /.test(l));
    expect(auth[0]).to.equal("AUTHENTICATE PLAIN");
    const payload = Buffer.from(auth[1]!.slice("AUTHENTICATE ".length), "base64").toString("utf8");
    expect(payload.split("\0").slice(-2)).to.deep.equal(["portbot", "wrong"]);
    await sleep(500);
    expect(server.allLines.filter((l) => /^JOIN /.test(l)), "joined without authentication").to.deep.equal([]);
    expect(b.inputs).to.deep.equal([]);
    expect(b.botConnects).to.have.length(1);
    // Not a tight retry loop against a server that refuses the password.
    expect(server.connections.length).to.be.at.most(3);
  });

  it("NickServ fallback: identifies first and joins only after NickServ confirms; game lines meanwhile wait for the JOIN", async () => {
    const server = await fake({ mode: "irc" });
    const { nick, channel } = names();
    const b = await startBridge(botConfig(nick, channel, { port: server.port, nickservPassword: "s3cret" }), { awaitConnected: false });
    const conn = await waitFor(() => server.connections.find((c) => c.registered), 4000, "registered");
    await waitFor(() => conn.lines.some((l) => /^PRIVMSG NickServ :IDENTIFY s3cret$/i.test(l)), 3000, "IDENTIFY");
    await b.waitState(/^identifying with NickServ$/, 3000);
    b.say("while identifying"); // up to 15 s before the JOIN: held, not sent to a channel the bot is not in
    await sleep(400);
    expect(conn.lines.filter((l) => /^(JOIN|PRIVMSG #)/.test(l)), "joined or talked in the channel before identification").to.deep.equal([]);
    conn.send(`:NickServ!NickServ@services.fake NOTICE ${nick} :You are now identified for ${nick}.`);
    await waitFor(() => conn.joined.has(channel.toLowerCase()), 3000, "JOIN after identification");
    await b.waitState(/^connected$/, 3000);
    await waitFor(() => conn.lines.some((l) => l.startsWith(`PRIVMSG ${channel} `)), 3000, "the held line");
    expect(conn.lines.filter((l) => /^(JOIN|PRIVMSG #)/.test(l))).to.deep.equal([`JOIN ${channel}`, `PRIVMSG ${channel} :${ALICE}while identifying`]);
  });

  it("ping timeout: a server that goes silent is detected, the reason is shown, and the bot reconnects", async function () {
    const server = await fake({ mode: "irc", answerPings: false });
    const { nick, channel } = names();
    const b = await startBridge(
      botConfig(nick, channel, { port: server.port, pingTimeoutMs: 1500, reconnect: { initialMs: 200, factor: 1.5, maxMs: 500, jitter: 0 } }),
    );
    const at = b.states.length;
    await waitFor(() => server.connections.length >= 2, 8000, "a reconnect after the silence");
    const after = b.states.slice(at);
    expect(after.some((s) => /^reconnecting/.test(s)), JSON.stringify(after)).to.equal(true);
    expect(after.some((s) => /ping|timeout|timed out/i.test(s)), `reason shown: ${JSON.stringify(after)}`).to.equal(true);
    expect(b.botConnects).to.have.length(1);
  });

  it("a server that repeats 001, floods ISUPPORT and never ends its WHOIS and MOTD replies: timers, tokens and caches stay bounded (fuzz-irc regression)", async function () {
    // Found by test/torture/fuzz-irc.test.ts: irc-framework added a ping timer and a pong listener on every
    // 001 (each later line cost more: 400 000 fuzzed lines took 169 s instead of 15 s), kept every ISUPPORT
    // token, and kept WHOIS/MOTD/NAMES replies whose end numeric never came.
    this.timeout(30_000);
    const server = await fake({ mode: "irc" });
    const { nick, channel } = names();
    const b = await startBridge(botConfig(nick, channel, { port: server.port }));
    const conn = await waitFor(() => server.connections.find((c) => c.registered && c.joined.has(channel.toLowerCase())), 5000, "joined");
    const s = server.serverName;
    const flood: string[] = [];
    for (let i = 0; i < 3000; i++) {
      flood.push(`:${s} 001 ${nick} :Welcome again ${i}`, `:${s} 005 ${nick} TOKEN${i}=x :are supported by this server`, `:${s} 311 ${nick} who${i} u h * :real`, `:${s} 372 ${nick} :- motd ${i}`);
    }
    conn.sendRaw(flood.join("\r\n") + "\r\n");
    conn.send(`:alice!a@h PRIVMSG ${channel} :after the flood`);
    await b.waitInput((x) => x.text === "after the flood", 10_000, "the message after the flood");
    const id = b.portal.launcher.list().find((p) => p.path === BOT_PATH)!.id;
    const client = (b.portal.launcher.factory(id) as unknown as { connection: { client: Client } }).connection.client;
    const handler = client.command_handler as unknown as { listenerCount(event: string): number; _caches: Record<string, unknown> };
    expect(handler.listenerCount("pong"), "pong listeners (one per 001 before)").to.be.at.most(2);
    expect(Object.keys(client.network.options).length, "ISUPPORT tokens kept").to.be.below(200);
    // At most MAX_CACHE_LINES lines' worth of unfinished replies (a WHOIS every 4 lines here), not all 3 000.
    expect(Object.keys(handler._caches).length, "open reply caches").to.be.at.most(2000 / 4 + 2);
    expect(b.states.at(-1)).to.equal("connected");
  });

  it("malformed lines, a 10 000-byte line, NUL, bare numerics, control-code nicks and its own echo: no crash, no error spam", async function () {
    this.timeout(60_000);
    const crashes = trapUncaught();
    const server = await fake({ mode: "irc" });
    const { nick, channel } = names();
    const b = await startBridge(botConfig(nick, channel, { port: server.port, ignore: [] }));
    const s = server.serverName;
    const big = "L".repeat(10_000);
    const garbage: (string | Buffer)[] = [
      `:alice!a@h PRIVMSG ${channel} :${big}\r\n`, // a 10 000-character message (a 10 000-byte line)
      `:evil!e@h PRIVMSG ${channel} :nul\0byte and bell\x07 and esc\x1b[2J done\r\n`,
      `:${s} 001\r\n`,
      `:${s} 353\r\n`,
      `:${s} 366\r\n`,
      `:${s} 433\r\n`,
      `:${s} 005\r\n`,
      `:${s} 904\r\n`,
      `:${s} 332\r\n`,
      `:${s} 311\r\n`,
      `:${s} KICK\r\n`,
      `:${s} KICK ${channel}\r\n`,
      `PRIVMSG\r\n`,
      `:x!y@z PRIVMSG\r\n`,
      `:x!y@z PRIVMSG ${channel}\r\n`,
      `:x!y@z NOTICE\r\n`,
      `:x!y@z JOIN\r\n`,
      `:x!y@z PART\r\n`,
      `:x!y@z QUIT\r\n`,
      `:x!y@z NICK\r\n`,
      `:x!y@z MODE\r\n`,
      `:x!y@z TOPIC\r\n`,
      `:x!y@z INVITE\r\n`,
      `:\r\n`,
      `    \r\n`,
      `\r\n`,
      Buffer.from([0xff, 0xfe, 0x00, 0x0d, 0x0a]),
      `:${s} ${"9".repeat(40)} ${nick} :weird numeric\r\n`,
      `@tag=${"v".repeat(3000)} :x!y@z PRIVMSG ${channel} :tagged\r\n`,
      `:${nick}!bot@h PRIVMSG ${channel} :my own echo must not loop\r\n`,
      `:\x0304ev\x1b[31mil\x07\x01!e@h PRIVMSG ${channel} :nick with control codes\r\n`,
      `:${"N".repeat(600)}!e@h PRIVMSG ${channel} :very long nick\r\n`,
    ];

    // One line at a time, each followed by a probe message that must still reach the game.
    const problems: string[] = [];
    for (const [k, g] of garbage.entries()) {
      const label = JSON.stringify((typeof g === "string" ? g : g.toString("latin1")).replace(/\r\n$/, "").slice(0, 48));
      const seen = crashes.length;
      const conn = await waitFor(() => server.connections.filter((c) => !c.closed && c.joined.has(channel.toLowerCase())).at(-1), 3000, "a joined connection");
      conn.sendRaw(g);
      await sleep(20);
      conn.send(`:alice!a@h PRIVMSG ${channel} :probe ${k}`);
      try {
        await waitFor(() => b.inputs.some((x) => x.text === `probe ${k}`), 1500, `probe ${k}`);
      } catch {
        problems.push(`${label}: the next message never reached the game`);
      }
      const fresh = crashes.slice(seen);
      for (const e of fresh) problems.push(`${label}: uncaught ${e.name}: ${e.message} (${firstFrame(e)})`);
      if (fresh.length > 0 || !b.inputs.some((x) => x.text === `probe ${k}`)) {
        // irc-framework keeps a line that threw in its read buffer and throws again on every later chunk:
        // start over on a fresh connection (the game's `reconnect` output) so the next lines are judged on their own.
        const count = server.connections.length;
        b.game.msg(b.bot(), [["reconnect", [], {}]]);
        await waitFor(() => server.connections.length > count && server.last!.joined.has(channel.toLowerCase()), 5000, "a fresh connection after a crash");
        crashes.splice(0); // late re-throws from the old connection
      }
    }
    expect(problems, `\n  ${problems.join("\n  ")}\n`).to.deep.equal([]);

    const real = b.inputs.filter((x) => !/^probe \d+$/.test(x.text));
    // Everything the game got is one of the real messages; none is an error report.
    for (const x of real) {
      expect(x.text, JSON.stringify(x.text.slice(0, 80))).to.not.match(CONTROL);
      expect(x.text).to.not.include("\x1b");
      expect(String(x.kwargs.user ?? ""), JSON.stringify(x.kwargs.user)).to.not.match(/[\x00-\x1f\x7f]/);
      expect(x.text.toLowerCase()).to.not.match(/error|malformed|unknown command|invalid/);
    }
    expect(real.filter((x) => x.text.includes("my own echo")), "own nick relayed").to.deep.equal([]);
    expect(real.filter((x) => x.text === channel), "a PRIVMSG without a text parameter relayed (as its channel name)").to.deep.equal([]);
    expect(real.length, JSON.stringify(real.map((x) => [x.kwargs.type, x.kwargs.user, x.text.slice(0, 30)]))).to.be.at.most(6);
    const long = real.find((x) => x.text.startsWith("LLLL"));
    if (long) expect(long.text.length).to.be.at.most(10_000);
    const ctl = real.find((x) => x.text === "nick with control codes");
    expect(ctl, "the control-code nick's message").to.not.equal(undefined);
    expect(ctl!.kwargs.user).to.equal("evil");
    const nul = real.find((x) => x.text.includes("nul"));
    if (nul) expect(nul.text).to.not.include("\0");

    // Same connection, still connected, one session, nothing logged at error level.
    expect(server.connections, "no reconnect caused by garbage").to.have.length(1);
    expect(b.states.filter((x) => /fail|error/i.test(x)), `a stray numeric changed BOT_STATE: ${JSON.stringify(b.states)}`).to.deep.equal([]);
    expect(b.states.at(-1)).to.equal("connected");
    expect(b.botConnects).to.have.length(1);
    expect(b.logger.entries.filter((e) => e.level === "error").map((e) => e.msg)).to.deep.equal([]);
  });
});
