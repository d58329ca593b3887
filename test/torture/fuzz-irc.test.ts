import { expect } from "chai";
import { sleep, waitFor } from "../../core/testing/wait-for.js";
import { FakeIrcServer, type FakeIrcConnection } from "../support/fake-irc-server.js";
import { NASTY_STRINGS, mutateBytes, randomText } from "../support/fuzz/mutate.js";
import { Rng } from "../support/prng.js";
import { Canary, LONG, MemoryWatch, Rig, TortureReport, caseCount, expectUnharmed, fuzzSeed, pick } from "../support/torture.js";

/**
 * Fuzzing of the IRC bridge's line handling (irc-framework's parser and handlers behind the plugin's
 * guard): a scripted IRC server that registers the bot, then sends random and mutated lines (tags,
 * prefixes, every command the bot reacts to, numerics with missing or odd parameters, CTCP, control
 * codes, invalid UTF-8, long and unterminated lines, KICK, NICK, ERROR), with a probe message every
 * few hundred lines that must reach the game, while a telnet canary keeps getting answers from the
 * same portal. Short form in `npm test`; PORTICO_TORTURE=long sends 300 000 lines.
 */
const SEED = fuzzSeed(20261206);
const BOT = "plugins.irc.IrcBotFactory";
const NICK = "PortBot";
const CHANNEL = "#fuzz";

const COMMANDS = [
  "PRIVMSG", "PRIVMSG", "PRIVMSG", "PRIVMSG", "NOTICE", "NOTICE", "JOIN", "PART", "QUIT", "KICK", "NICK", "MODE", "TOPIC", "INVITE", "PING", "PONG",
  "CAP", "AUTHENTICATE", "BATCH", "CHGHOST", "ACCOUNT", "AWAY", "WALLOPS", "TAGMSG", "FAIL", "WARN", "NOTE",
  "001", "002", "004", "005", "005", "311", "315", "324", "329", "332", "333", "352", "353", "353", "366", "372", "375", "376", "396",
  "401", "403", "404", "421", "432", "433", "437", "471", "473", "474", "475", "477", "482", "900", "903", "904", "906", "908",
];

function nick(rng: Rng): string {
  return rng.chance(0.7) ? rng.pick(["alice", "bob", "Carol", "d[a]ve", "e^v|l", NICK, NICK.toLowerCase(), "NickServ", "ChanServ"])
    : rng.chance(0.5) ? rng.pick(NASTY_STRINGS).replace(/[ \r\n]/g, "") : randomText(rng, rng.range(0, 40)).replace(/[ \r\n!@]/g, "");
}

function prefix(rng: Rng): string {
  switch (rng.int(6)) {
    case 0: return "";
    case 1: return ":fake.irc.test ";
    case 2: return `:${nick(rng)} `;
    case 3: return ": ";
    default: return `:${nick(rng)}!${rng.pick(["u", "~user", "", "x".repeat(300)])}@${rng.pick(["h", "127.0.0.1", "::1", "a.b.c", ""])} `;
  }
}

function target(rng: Rng): string {
  return rng.pick([CHANNEL, CHANNEL, CHANNEL.toUpperCase(), NICK, "#other", "*", "", "&local", "#fuzz,#other", `${CHANNEL} extra`]);
}

function trailing(rng: Rng): string {
  switch (rng.int(8)) {
    case 0: return `\x01ACTION ${randomText(rng, rng.int(40))}\x01`;
    case 1: return `\x01${rng.pick(["VERSION", "PING 123", "TIME", "CLIENTINFO", "DCC SEND x 1 2 3", "", "ACTION"])}\x01`;
    case 2: return `\x0304,12col\x02bold\x1fund\x16rev\x0f\x1dit\x1e${rng.pick(NASTY_STRINGS)}`;
    case 3: return rng.chance(0.1) ? "L".repeat(rng.range(1000, 20_000)) : rng.pick(NASTY_STRINGS);
    default: return randomText(rng, rng.int(120)).replace(/[\r\n]/g, " ");
  }
}

function tags(rng: Rng): string {
  if (!rng.chance(0.15)) return "";
  const parts = Array.from({ length: rng.range(0, 4) }, () => `${rng.pick(["time", "msgid", "+draft/reply", "account", "batch", "", "="])}=${rng.pick(["2026-12-04T00:00:00.000Z", "a\\sb\\:c\\\\", "", "x".repeat(rng.int(5000)), randomText(rng, 10).replace(/[ \r\n;]/g, "")])}`);
  return `@${parts.join(";")} `;
}

/** One server line (with or without its terminator). */
function ircLine(rng: Rng): Buffer {
  const cmd = rng.chance(0.9) ? rng.pick(COMMANDS) : rng.chance(0.5) ? randomText(rng, rng.range(0, 12)).replace(/[ \r\n]/g, "") : String(rng.int(1000)).padStart(3, "0");
  const params: string[] = [];
  const want = rng.chance(0.2) ? rng.int(3) : rng.range(1, 6);
  for (let i = 0; i < want; i++) {
    if (i === 0 && /^\d{3}$/.test(cmd)) params.push(rng.chance(0.8) ? NICK : nick(rng));
    else if (i === 0 || (i === 1 && rng.chance(0.5))) params.push(target(rng));
    else if (cmd === "005") params.push(rng.pick(["LINELEN=abc", "LINELEN=100", "LINELEN=999999999", "CHANTYPES=", "PREFIX=(", "PREFIX=(ov)@", "NICKLEN=-1", "CASEMAPPING=rfc1459", "NETWORK=\x1b[31m", `TOKEN${rng.int(50)}=${rng.int(10)}`, "=", "-LINELEN"]));
    else if (cmd === "353") params.push(rng.pick(["=", "@", "*"]), CHANNEL, `:${Array.from({ length: rng.range(0, 30) }, () => `${rng.pick(["", "@", "+", "@+", "~"])}${nick(rng)}`).join(" ")}`);
    else params.push(rng.chance(0.5) ? nick(rng) : randomText(rng, rng.int(12)).replace(/[ \r\n]/g, ""));
  }
  const withTrailing = rng.chance(0.7) ? ` :${trailing(rng)}` : "";
  const text = `${tags(rng)}${prefix(rng)}${cmd}${params.length > 0 ? " " : ""}${params.join(" ")}${withTrailing}`;
  let line: Buffer = Buffer.from(text, rng.chance(0.05) ? "latin1" : "utf8");
  if (rng.chance(0.08)) line = mutateBytes(rng, line, [0, 10, 13, 0x20, 0x3a, 0x40, 0x21, 0x01, 0xff]);
  const end = rng.pick(["\r\n", "\r\n", "\r\n", "\r\n", "\n", "\r", "", "\r\r\n", "\n\n"]);
  return Buffer.concat([line, Buffer.from(end)]);
}

/** Lines that end the bot's connection on a real network; sent rarely so most lines are judged on a live connection. */
function fatalLine(rng: Rng): string {
  return rng.pick(["ERROR :Closing Link: fuzz (Killed)", `:fake.irc.test KILL ${NICK} :fuzzed`, `:op!o@h KICK ${CHANNEL} ${NICK} :out`]) + "\r\n";
}

describe("torture: IRC line fuzz (plugins.irc behind a scripted server)", function () {
  this.timeout(LONG ? 600_000 : 60_000);
  let rig: Rig;
  let server: FakeIrcServer;
  let canary: Canary | undefined;

  beforeEach(async () => {
    server = await FakeIrcServer.start({ mode: "irc" });
    // The bot's own input is not what is measured here: no per-session command rate.
    rig = await Rig.start({ portal: { limits: { maxCommandRate: 0 } } });
  });

  afterEach(async () => {
    canary?.close();
    canary = undefined;
    await rig.stop();
    await server.close();
  });

  it("random and mutated server lines: no crash, no unbounded growth, probes reach the game, the canary is answered throughout", async () => {
    const rng = new Rng(SEED);
    canary = await Canary.telnet(rig.port(), "canary");
    await rig.portal.launcher.launch(BOT, {
      uid: "irc:fuzz", nick: NICK, host: "127.0.0.1", port: server.port, channels: [CHANNEL], rejoinDelayMs: 20, registrationTimeoutMs: 3000,
      reconnect: { initialMs: 20, factor: 1.5, maxMs: 200, jitter: 0 }, flood: { ratePerSec: 100, burst: 100, queueMax: 200 },
    });
    const joined = () => server.connections.filter((c) => !c.closed && c.registered && c.joined.has(CHANNEL)).at(-1);
    await waitFor(joined, 10_000, "the bot registered and joined");
    const game = rig.game!;
    const probes = { sent: 0, seen: () => game.output.filter((l) => l.startsWith("BOT ircbot PROBE ")).length };

    const report = new TortureReport("irc/live", SEED, new MemoryWatch());
    const target = caseCount(4000, 300_000);
    const maxMs = pick(30_000, 170_000);
    const fatalEvery = pick(2000, 5000);
    let lines = 0;
    let fatal = 0;
    let bytes = 0;
    const started = Date.now();
    canary.start(50, 5000);
    let conn: FakeIrcConnection | undefined;
    while (lines < target && Date.now() - started < maxMs) {
      conn = joined() ?? (await waitFor(joined, 10_000, () => `the bot back in ${CHANNEL} (connections: ${server.connections.length})`));
      const batch: Buffer[] = [];
      for (let i = 0; i < 50; i++) batch.push(ircLine(rng));
      lines += batch.length;
      if (rng.chance(0.01)) batch.push(Buffer.alloc(rng.range(10_000, 300_000), 0x41)); // an unterminated run: no line end for a while
      batch.push(Buffer.from(`\r\n:prober!p@h PRIVMSG ${CHANNEL} :PROBE ${++probes.sent}\r\n`));
      if (Math.floor(lines / fatalEvery) !== Math.floor((lines - 50) / fatalEvery)) {
        batch.push(Buffer.from(fatalLine(rng)));
        fatal += 1;
      }
      const chunk = Buffer.concat(batch);
      bytes += chunk.length;
      conn.sendRaw(chunk);
      if (conn.socket.writableLength > 1024 * 1024) await waitFor(() => conn!.socket.writableLength < 256 * 1024 || conn!.closed, 5000, "the bot reading").catch(() => undefined);
      await sleep(rng.int(4));
    }
    const canaryResult = await canary.stop();

    // The bot is (back) in the channel and a last probe reaches the game.
    const last = await waitFor(joined, 10_000, "the bot in the channel after the fuzz");
    const n = ++probes.sent;
    last.send(`:prober!p@h PRIVMSG ${CHANNEL} :PROBE ${n}`);
    await waitFor(() => game.output.includes(`BOT ircbot PROBE ${n}`), 5000, `the last probe (${n}) relayed to the game`);
    report.count("lines", lines);
    Object.assign(report.notes, {
      probesSent: probes.sent, probesRelayed: probes.seen(), connections: server.connections.length, fatalLines: fatal,
      megabytes: Math.round(bytes / 1048576), botState: rig.portal.launcher.list().find((p) => p.path === BOT)?.status.state, traffic: rig.traffic, log: rig.logger.counts, topWarnings: rig.logger.top(),
    });
    await rig.settleSessions(2); // the canary and the bot
    await report.memory.finish();
    await report.finish([canaryResult]);

    await expectUnharmed(rig, [canary], report.memory);
    expect(lines, `lines sent within ${maxMs} ms`).to.be.at.least(target);
    // Probes after a fatal line in the same burst are lost with the connection; the others arrive.
    expect(probes.seen(), "probes relayed").to.be.at.least(Math.floor((probes.sent - 2 * fatal - 1) * 0.95));
    // Reconnects come only from the fatal lines (and registration trouble a fuzzed numeric may cause).
    expect(server.connections.length, "connections").to.be.at.most(2 * fatal + 5);
  });
});
