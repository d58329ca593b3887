import { expect } from "chai";
import { GameSessionHandler, readLinkSecret, type GameSession } from "../../core/game/index.js";
import { sleep, waitFor } from "../../core/testing/wait-for.js";
import { IrcObserver } from "../support/irc-observer.js";
import { startNgircd, waitForPort, type Ngircd } from "../support/ngircd.js";
import { Rng } from "../support/prng.js";
import { Canary, LONG, MemoryWatch, Rig, TortureReport, expectUnharmed, fuzzSeed, pick } from "../support/torture.js";

/**
 * Fault: the IRC server dies. The IRC bridge (plugins.irc, irc-framework) is connected to a real
 * ngircd on loopback and relays both ways under steady traffic (a game line every 100 ms to IRC, an
 * IRC line every 100 ms to the game); ngircd is SIGKILLed, kept down a few seconds and started again
 * on the same port. What plugins/irc/README.md promises, checked on the wire:
 * - the bot reconnects and rejoins by itself, with its own back-off (`reconnect`: initialMs × factor up
 *   to maxMs; irc-framework's auto-reconnect, which gives up after 3 retries and never retries a first
 *   connect, is off), the attempts counted against that schedule, the delay shown in BOT_STATE;
 * - lines the game sends while IRC is unreachable are kept and delivered after the rejoin, in order,
 *   none twice (only lines in flight at the kill may be lost: IRC has no acknowledgements);
 * - one bot session and one IRC nick throughout (the game never sees a second ircbot session, NAMES
 *   shows the bot's nick once, without a `_` suffix);
 * - the portal and a logged-in telnet canary are not affected; timers and sockets come back to their
 *   level; nothing is logged at error level.
 * And, with ngircd down for longer than irc-framework's own retry budget: the bot keeps trying at the
 * capped delay (never faster, never giving up), BOT_STATE names the reason and the next try, and it
 * comes back when the server does; of the game's lines meanwhile it keeps the newest `flood.queueMax`
 * and says how many older ones it dropped (`[… N lines clipped]`, before the rest), never silently.
 *
 * The game is an in-process SDK game on the portal's link (echo + login for the canary, channel output
 * to the bot, bot input recorded). Short form: one kill/restart (and a 3.5 s outage); PORTICO_TORTURE=long:
 * several cycles with random down times (and a 30 s outage).
 */
const SEED = fuzzSeed(20261213);
const BOT = "plugins.irc.IrcBotFactory";
const NICK = "FaultBot";
const CHANNEL = "#fault";
const ZWSP = "\u200b";
/** The relay prefix of the game's lines (nick "Alice" on game channel "public"). */
const PREFIX = `[public] A${ZWSP}lice: `;
/** Lines in flight at the kill may be lost: those sent this long before it (or later, until the bot noticed). */
const IN_FLIGHT_MS = 250;

interface Stamped {
  text: string;
  time: number;
}

/** The game: `login <name>` and echo for players (the canary), channel output to the bot, the bot's input and BOT_STATE recorded. */
class BridgeGame {
  readonly handler: GameSessionHandler;
  readonly fromIrc: Stamped[] = [];
  readonly states: Stamped[] = [];
  readonly botSessions: GameSession[] = [];
  botDisconnects = 0;

  constructor(port: number, secret: string) {
    const isBot = (s: GameSession) => s.protocol_key === "ircbot";
    const noteState = (s: GameSession) => {
      const state = s.protocol_flags.BOT_STATE;
      if (typeof state === "string" && this.states.at(-1)?.text !== state) this.states.push({ text: state, time: Date.now() });
    };
    const handler: GameSessionHandler = new GameSessionHandler({
      host: "127.0.0.1", port, secret, info: { name: "fault-irc-game" }, requestTimeoutMs: 10_000,
      callbacks: {
        onConnect: (s) => {
          if (!isBot(s)) return void handler.msg(s, "Welcome. Type: login <name>");
          this.botSessions.push(s);
          noteState(s);
        },
        onSessionUpdate: (s) => void (isBot(s) && noteState(s)),
        onDisconnect: (s) => void (isBot(s) && (this.botDisconnects += 1)),
        onInput: (s, name, args) => {
          if (isBot(s)) {
            if (name === "bot_data_in") this.fromIrc.push({ text: String(args[0] ?? ""), time: Date.now() });
            return;
          }
          if (name !== "text") return;
          const text = String(args[0] ?? "");
          const login = /^login (\S+)$/.exec(text.trim());
          if (login) {
            handler.login(s, login[1]!, login[1]!);
            handler.msg(s, `Logged in as ${login[1]}.`);
          } else handler.msg(s, `echo: ${text}`);
        },
      },
    });
    this.handler = handler;
    handler.start();
  }

  get bot(): GameSession {
    const s = this.botSessions[0];
    if (!s) throw new Error("no ircbot session yet");
    return s;
  }

  /** A game channel line for IRC (what a player's `public <text>` becomes). */
  say(text: string): void {
    this.handler.msg(this.bot, [["channel", [text], { channel: "public", nick: "Alice", kind: "say" }]]);
  }

  /** Index of the first state at or after `from` matching `re`, waited for. */
  async waitState(re: RegExp, timeoutMs: number, from = 0): Promise<number> {
    const i = await waitFor(() => {
      const k = this.states.findIndex((s, j) => j >= from && re.test(s.text));
      return k >= 0 ? k + 1 : 0;
    }, timeoutMs, () => `BOT_STATE ${String(re)} after #${from} (states: ${JSON.stringify(this.states.slice(-8).map((s) => s.text))})`, 5);
    return i - 1;
  }

  get current(): string {
    return this.states.at(-1)?.text ?? "";
  }

  stop(): Promise<void> {
    return this.handler.stop();
  }
}

/** The reconnect delays the bot must use, in order (jitter 0): initialMs × factor^k, capped at maxMs. */
function schedule(b: { initialMs: number; factor: number; maxMs: number }, n: number): number[] {
  return Array.from({ length: n }, (_, k) => Math.min(b.maxMs, b.initialMs * b.factor ** k));
}

/** The same as BOT_STATE shows them (`reconnecting in 0.3 s`: tenths of a second). */
function shownSchedule(b: { initialMs: number; factor: number; maxMs: number }, n: number): number[] {
  return schedule(b, n).map((d) => Math.round(d / 100) * 100);
}

/** How many dials fit into an outage of `ms` after the first one (each waits its delay from the schedule), plus that first one. */
function dialsWithin(b: { initialMs: number; factor: number; maxMs: number }, ms: number): number {
  let t = 0;
  let n = 1;
  for (const d of schedule(b, 10_000)) {
    t += d;
    if (t > ms) break;
    n += 1;
  }
  return n;
}

/** Active timers and sockets of this process (the portal runs in it), by type. */
function resources(): { timers: number; sockets: number } {
  const all = process.getActiveResourcesInfo();
  return { timers: all.filter((r) => r === "Timeout").length, sockets: all.filter((r) => r === "TCPSocketWrap").length };
}

describe("torture: fault: ngircd killed and restarted under traffic (plugins.irc)", function () {
  this.timeout(LONG ? 900_000 : 60_000);
  let ircd: Ngircd;
  let rig: Rig;
  let game: BridgeGame;
  let canary: Canary | undefined;
  const observers: IrcObserver[] = [];

  before(async () => {
    ircd = await startNgircd();
  });

  after(async () => {
    await ircd?.dispose();
  });

  beforeEach(async () => {
    if (!(await waitForPort(ircd.port, 300))) await ircd.restart(); // a failed test may have left it down
    rig = await Rig.start({ game: false, portal: { limits: { maxCommandRate: 0 } } });
    game = new BridgeGame(rig.portal.linkAddress!.port, readLinkSecret(rig.dataDir));
    await waitFor(() => game.handler.ready, 10_000, "the game linked");
    canary = await Canary.telnet(rig.port(), "canary");
  });

  afterEach(async () => {
    canary?.close();
    canary = undefined;
    for (const o of observers.splice(0)) o.close();
    await game.stop();
    await rig.stop();
  });

  /** An observer in the channel (joined before the bot, so it sees the bot's JOIN and everything after). */
  async function observe(): Promise<IrcObserver> {
    const o = await IrcObserver.connect(ircd.port, `watcher${observers.length}`);
    observers.push(o);
    await o.join(CHANNEL);
    return o;
  }

  async function startBot(reconnect: { initialMs: number; factor: number; maxMs: number }, o: IrcObserver, queueMax = 100): Promise<void> {
    await game.handler.connectBot(BOT, {
      uid: "irc:fault", nick: NICK, host: "127.0.0.1", port: ircd.port, channels: [CHANNEL], tls: false,
      flood: { ratePerSec: 20, burst: 5, queueMax }, reconnect: { ...reconnect, jitter: 0 }, registrationTimeoutMs: 5000,
    });
    await waitFor(() => game.botSessions.length > 0, 5000, "the ircbot session at the game");
    await game.waitState(/^connected$/, 10_000);
    await o.waitForLine((l) => l.command === "JOIN" && l.nick === NICK, 5000, `${NICK} joining`);
  }

  /** SIGKILL: no QUIT, no ERROR, the sockets simply close (the kernel sends FIN). */
  function killIrcd(): number {
    const pid = ircd.pid();
    if (!pid) throw new Error("ngircd is not running");
    process.kill(pid, "SIGKILL");
    return Date.now();
  }

  /**
   * Starts ngircd again on the same port right after the bot scheduled a retry (so the retry is still
   * `delay` away), puts a fresh observer in the channel first, then waits for the bot's rejoin.
   */
  async function reviveAndRejoin(reconnectTimeoutMs: number): Promise<IrcObserver> {
    const from = game.states.length;
    await game.waitState(/^reconnecting in /, reconnectTimeoutMs, from);
    await ircd.restart(0);
    const o = await observe();
    const back = await game.waitState(/^connected$/, reconnectTimeoutMs, from);
    try {
      await o.waitForLine((l) => l.command === "JOIN" && l.nick === NICK, 3000, `${NICK} rejoining`);
    } catch (err) {
      const names = await o.names(CHANNEL).catch(() => []);
      throw new Error(`${(err as Error).message}; NAMES ${JSON.stringify(names)}: the bot rejoined before the observer (state ${game.states[back]?.text})`);
    }
    return o;
  }

  /** NAMES: the bot's nick is there exactly once, as configured (no `FaultBot_` left by a ghost of the old connection). */
  async function expectOneNick(o: IrcObserver): Promise<void> {
    const members = (await o.names(CHANNEL)).map((n) => n.replace(/^[@+]/, ""));
    expect(members.filter((n) => n.toLowerCase().startsWith(NICK.toLowerCase())), `NAMES ${CHANNEL}: ${JSON.stringify(members)}`).to.deep.equal([NICK]);
  }

  function expectOneSession(): void {
    expect(game.botSessions, "ircbot sessions the game was told about").to.have.length(1);
    expect(game.botDisconnects, "ircbot sessions that ended").to.equal(0);
    expect([...game.handler.sessions.values()].filter((s) => s.protocol_key === "ircbot"), "ircbot sessions at the game").to.have.length(1);
    expect(rig.portal.launcher.list().filter((p) => p.path === BOT), "IRC bots in the portal").to.have.length(1);
    expect(rig.portal.status().sessions, "portal sessions").to.deep.include({ total: 2 });
  }

  it("SIGKILL under traffic, down a few seconds, back on the same port: the bot reconnects with its back-off, relays both ways again, delivers the outage's game lines once and in order; one session, one nick; the canary is served", async () => {
    const rng = new Rng(SEED);
    const reconnect = { initialMs: 250, factor: 2, maxMs: 1000 };
    const cycles = pick(1, 8);
    let observer = await observe();
    await startBot(reconnect, observer);
    const report = new TortureReport("fault/ngircd-restart", SEED, new MemoryWatch());
    canary!.start(50, 5000);

    // Traffic: a numbered game line every 100 ms; a numbered IRC line every 100 ms while the bot is in the channel.
    const toIrc: { n: number; time: number }[] = [];
    const toGame: { n: number; time: number }[] = [];
    let ircSide = true;
    const received: { n: number; observer: number; text: string; time: number }[] = [];
    const tap = (o: IrcObserver, k: number) => () => {
      for (const m of o.messages.splice(0)) {
        if (m.nick !== NICK || m.target !== CHANNEL) continue;
        const n = m.text.startsWith(`${PREFIX}G`) ? Number(m.text.slice(PREFIX.length + 1)) : NaN;
        received.push({ n, observer: k, text: m.text, time: m.time });
      }
    };
    let drain = tap(observer, 0);
    const traffic = setInterval(() => {
      const n = toIrc.length;
      toIrc.push({ n, time: Date.now() });
      game.say(`G${n}`);
      if (ircSide && !observer.closed) {
        const k = toGame.length;
        toGame.push({ n: k, time: Date.now() });
        observer.say(`I${k}`);
      }
      drain();
    }, 100);

    const outages: { kill: number; detected: number; back: number; dials: number; delays: number[]; queuedDown: unknown; queuedUp: unknown }[] = [];
    const botStatus = () => {
      const st = rig.portal.launcher.list().find((p) => p.path === BOT)!.status;
      return { queued: st.queued, clipped: st.clipped, sent: toIrc.length };
    };
    const before = resources();
    try {
      for (let c = 0; c < cycles; c++) {
        await sleep(pick(1000, rng.range(500, 3000)));
        // What the last outage left queued is out before the next one (else the bound, not the fault, decides what is lost).
        await waitFor(() => Number(botStatus().queued) <= 2, 15_000, () => `the bot's queue drained (${JSON.stringify(botStatus())})`, 20);
        const statesAtKill = game.states.length;
        ircSide = false;
        const kill = killIrcd();
        const lost = await game.waitState(/^reconnecting in /, 5000, statesAtKill);
        const detected = game.states[lost]!.time;
        const downMs = pick(2500, rng.range(1000, 6000));
        await sleep(Math.max(0, kill + downMs - Date.now()));
        drain();
        const queuedDown = botStatus();
        observer = await reviveAndRejoin(reconnect.maxMs * 3);
        const queuedUp = botStatus();
        drain = tap(observer, c + 1);
        ircSide = true;
        const back = Date.now();
        const during = game.states.slice(statesAtKill);
        const delays = during.map((s) => /^reconnecting in ([\d.]+) s/.exec(s.text)?.[1]).filter((d): d is string => d !== undefined).map((d) => Number(d) * 1000);
        outages.push({ kill, detected, back, dials: during.filter((s) => s.text === "connecting").length, delays, queuedDown, queuedUp });
        report.count("restarts");
      }
      await sleep(1000);
    } finally {
      clearInterval(traffic);
    }
    // The last lines reach IRC and the game.
    const lastIrc = toIrc.length - 1;
    await waitFor(() => (drain(), received.some((r) => r.n === lastIrc)), 5000, () => `game line G${lastIrc} on IRC (last received: ${JSON.stringify(received.slice(-5))})`);
    const lastGame = toGame.at(-1)!.n;
    await waitFor(() => game.fromIrc.some((m) => m.text === `I${lastGame}`), 5000, `IRC line I${lastGame} at the game`);
    const canaryResult = await canary!.stop();
    await sleep(300);
    const after = resources();

    // Game → IRC: every line once, in order; a line may be missing only if it was in flight at a kill.
    const inFlight = (t: number) => outages.some((o) => t >= o.kill - IN_FLIGHT_MS && t <= o.detected);
    const other = received.filter((r) => Number.isNaN(r.n)).map((r) => r.text);
    const got = received.filter((r) => !Number.isNaN(r.n)).map((r) => r.n);
    const dupes = got.filter((n, i) => got.indexOf(n) !== i);
    const missing = toIrc.filter((l) => !got.includes(l.n));
    const missingOutside = missing.filter((l) => !inFlight(l.time));
    const outOfOrder = got.filter((n, i) => i > 0 && n <= got[i - 1]!);
    // IRC → game: the same rule (the observer's lines in flight at the kill may be lost with ngircd).
    const heard = game.fromIrc.map((m) => m.text).filter((t) => /^I\d+$/.test(t)).map((t) => Number(t.slice(1)));
    const heardDupes = heard.filter((n, i) => heard.indexOf(n) !== i);
    const unheard = toGame.filter((l) => !heard.includes(l.n));
    const unheardOutside = unheard.filter((l) => !outages.some((o) => l.time >= o.kill - IN_FLIGHT_MS && l.time <= o.kill));

    report.count("gameLines", toIrc.length);
    report.count("ircLines", toGame.length);
    Object.assign(report.notes, {
      outages: outages.map((o) => ({ downMs: o.back - o.kill, detectMs: o.detected - o.kill, dials: o.dials, delays: o.delays, queuedDown: o.queuedDown, queuedUp: o.queuedUp })),
      lostInFlight: missing.length, missing: missing.map((l) => l.n), other, unheardInFlight: unheard.length, resources: { before, after }, log: rig.logger.counts, topWarnings: rig.logger.top(),
    });
    await report.memory.finish();
    await report.finish([canaryResult]);

    expect(other, "other lines from the bot (a clipped marker: lines dropped)").to.deep.equal([]);
    expect(dupes, "game lines relayed twice").to.deep.equal([]);
    expect(outOfOrder, "game lines out of order").to.deep.equal([]);
    expect(missingOutside.map((l) => l.n), "game lines lost (not in flight at a kill)").to.deep.equal([]);
    expect(missing.length, "game lines lost in flight").to.be.at.most(3 * cycles);
    expect(heardDupes, "IRC lines relayed twice").to.deep.equal([]);
    expect(unheardOutside.map((l) => l.n), "IRC lines lost (not in flight at a kill)").to.deep.equal([]);
    for (const [i, o] of outages.entries()) {
      // The delays follow the configured back-off from the start, and the dials fit in the time it was down.
      expect(o.delays, `outage ${i}: reconnect delays`).to.deep.equal(shownSchedule(reconnect, o.delays.length));
      expect(o.dials, `outage ${i}: dials in ${o.back - o.kill} ms`).to.be.within(2, dialsWithin(reconnect, o.back - o.kill) + 1);
    }
    expectOneSession();
    await expectOneNick(observer);
    expect(after.timers, `timers ${JSON.stringify({ before, after })}`).to.be.at.most(before.timers + 3);
    expect(after.sockets, `sockets ${JSON.stringify({ before, after })}`).to.be.at.most(before.sockets + 1);
    await expectUnharmed(rig, [canary!], report.memory);
  });

  it("ngircd down longer than irc-framework's own retry budget: the bot keeps dialling at the capped delay (never faster, never giving up), BOT_STATE names the reason and the next try; the game's lines past the queue bound are clipped with a visible marker; it comes back with the server", async () => {
    // The cap leaves the test time to put its observer in the channel before the bot's next try (see reviveAndRejoin).
    const reconnect = { initialMs: 100, factor: 2, maxMs: 800 };
    const downMs = pick(3500, 30_000);
    const queueMax = 20;
    const lines = pick(30, 300); // said by the game while IRC is down: more than the bot keeps
    const observer = await observe();
    await startBot(reconnect, observer, queueMax);
    const report = new TortureReport("fault/ngircd-down-long", SEED, new MemoryWatch());
    canary!.start(50, 5000);
    const from = game.states.length;
    const warnsBefore = rig.logger.counts.warn;
    const kill = killIrcd();
    await game.waitState(/^reconnecting in /, 5000, from);
    for (let k = 0; k < lines; k++) {
      game.say(`L${k}`);
      await sleep((downMs - 500) / lines);
    }
    await sleep(Math.max(0, kill + downMs - Date.now()));
    const during = game.states.slice(from);
    const dials = during.filter((s) => s.text === "connecting");
    const waits = during.filter((s) => s.text.startsWith("reconnecting in "));
    const delays = waits.map((s) => Number(/^reconnecting in ([\d.]+) s/.exec(s.text)![1]) * 1000);
    const gaps = dials.slice(1).map((d, i) => d.time - dials[i]!.time);
    const shown = game.current;
    const o2 = await reviveAndRejoin(reconnect.maxMs * 5);
    const back = Date.now();
    game.say("after the long outage");
    await o2.waitForMessage((m) => m.nick === NICK && m.text === `${PREFIX}after the long outage`, 10_000, "game → IRC after the outage");
    o2.say("PROBE back");
    await waitFor(() => game.fromIrc.some((m) => m.text === "PROBE back"), 5000, "IRC → game after the outage");
    const canaryResult = await canary!.stop();
    // What IRC got: one marker for the oldest lines, then the newest queueMax lines in order, then the live one.
    const got = o2.from(NICK, CHANNEL).map((m) => m.text.startsWith(PREFIX) ? m.text.slice(PREFIX.length) : m.text);
    const want = [`[… ${lines - queueMax} lines clipped]`, ...Array.from({ length: queueMax }, (_, i) => `L${lines - queueMax + i}`), "after the long outage"];

    report.count("dials", dials.length);
    Object.assign(report.notes, { downMs, linesWhileDown: lines, botStatus: rig.portal.launcher.list().find((p) => p.path === BOT)!.status, backAfterMs: back - kill, delays: [...new Set(delays)], gapsMs: { min: Math.min(...gaps), max: Math.max(...gaps) }, shown, warns: rig.logger.counts.warn - warnsBefore, log: rig.logger.counts });
    await report.memory.finish();
    await report.finish([canaryResult]);

    // irc-framework alone would give up after 3 retries; Portico keeps going, at the capped delay, never faster.
    expect(dials.length, "dials while down").to.be.within(5, dialsWithin(reconnect, downMs) + 1);
    expect(delays, "delays shown in BOT_STATE").to.deep.equal(shownSchedule(reconnect, delays.length));
    expect(delays.slice(-3), "the last delays are the cap").to.deep.equal([reconnect.maxMs, reconnect.maxMs, reconnect.maxMs]);
    for (const [i, gap] of gaps.entries()) expect(gap, `gap before dial ${i + 1}`).to.be.at.least(schedule(reconnect, i + 1)[i]! - 20);
    // What the game (and `irc2chan/list` in the default game) shows: when the next try is, and why.
    expect(shown).to.match(/^(reconnecting in 0\.8 s: connect ECONNREFUSED 127\.0\.0\.1:\d+|connecting)$/);
    expect(waits.slice(1).every((w) => /ECONNREFUSED/.test(w.text)), `reasons: ${JSON.stringify([...new Set(waits.map((w) => w.text))])}`).to.equal(true);
    expect(got, "the game's lines of the outage as IRC saw them").to.deep.equal(want);
    // Bounded logging: nothing at warn or error per retry.
    expect(rig.logger.counts.warn - warnsBefore, `warnings while down: ${JSON.stringify(rig.logger.top())}`).to.be.at.most(2);
    expectOneSession();
    await expectOneNick(o2);
    await expectUnharmed(rig, [canary!], report.memory);
  });
});
