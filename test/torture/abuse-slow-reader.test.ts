import { expect } from "chai";
import { performance } from "node:perf_hooks";
import { sleep, waitFor } from "../../core/testing/wait-for.js";
import {
  LONG, MB, TelnetPlayer, TorturePortal, WebPlayer, addressAt, canary, listeners, mb, percentile, pool, report, scale, webStatus,
} from "./abuse-support.js";

// Issue 13, item 3, abuse: "a slow reader on telnet and on websocket (buffers capped, memory bounded,
// disconnected), other players unaffected". Logged-in players of the default game stop reading (their
// sockets paused: the kernel buffers fill, then the portal's) while two talkers say long lines to the
// room as fast as the command-rate limit lets them. Every slow reader must be disconnected once its
// output queue passes the listener's maxBufferedBytes (websocket: closed with 1013, the session then
// waits resumeGraceMs and goes), the portal's memory must stay within the caps, and two canaries (telnet
// and websocket) must get every room line and answers to their own commands throughout.
//
// Short form: caps 256 KiB (telnet) / 64 KiB (websocket), 2 + 2 readers. Long form: the default caps
// (4 MiB / 1 MiB), 10 + 10 readers, a 60 s flood.

const TELNET_CAP = scale(256 * 1024, 4 * MB);
const WEB_CAP = scale(64 * 1024, 1 * MB);
const GRACE_MS = scale(2000, 60_000);
const READERS = scale(2, 10); // of each protocol
const FLOOD_MS = scale(30_000, 60_000); // short: until every reader is cut (at most this); long: all of it
const LINE = 5000; // characters per said line (limits.maxCharLimit is 6000)
const SAYS_PER_TICK = 6; // per talker per 100 ms: 60/s, under limits.maxCommandRate (80)

describe(`abuse: slow readers on telnet and websocket (${LONG ? "long" : "short"} form)`, function () {
  this.timeout(scale(90_000, 240_000));
  let portal: TorturePortal | undefined;
  const cleanup: (() => void)[] = [];

  after(async function () {
    this.timeout(30_000);
    for (const f of cleanup) f();
    await portal?.stop();
  });

  it("each slow reader is disconnected at its listener's maxBufferedBytes, portal memory stays within the caps, other players get everything", async () => {
    portal = await TorturePortal.start({
      limits: { maxConnectionRate: 0 },
      listeners: listeners(
        LONG ? {} : { maxBufferedBytes: TELNET_CAP },
        LONG ? {} : { maxBufferedBytes: WEB_CAP, resumeGraceMs: GRACE_MS },
      ),
    }, { PORTICO_GAME_ACCOUNT_CREATE_LIMIT: "0" });
    const p = portal;
    const tCanary = await TelnetPlayer.login(p.telnetPort, addressAt(40, 0), "tcanary");
    const wCanary = await WebPlayer.login(p.webPort, addressAt(40, 1), "wcanary");
    const talkers = [await TelnetPlayer.login(p.telnetPort, addressAt(40, 2), "talkera"), await TelnetPlayer.login(p.telnetPort, addressAt(40, 3), "talkerb")];
    cleanup.push(() => [tCanary, wCanary, ...talkers].forEach((x) => x.close()));
    const tReaders = await pool(READERS, 4, (i) => TelnetPlayer.login(p.telnetPort, addressAt(40, 10 + i), `treader${i}`));
    const wReaders = await pool(READERS, 4, (i) => WebPlayer.login(p.webPort, addressAt(40, 100 + i), `wreader${i}`));
    cleanup.push(() => [...tReaders, ...wReaders].forEach((x) => x.close()));
    const players = 4 + 2 * READERS;
    expect((await p.status()).sessions.logged_in).to.equal(players);

    // ---- baseline, then the readers stop reading ----
    const before = await p.probe();
    const baseRss = p.memory().rss;
    for (const r of tReaders) r.client.socket.pause();
    for (const r of wReaders) r.stopReading();

    // ---- the flood: two talkers, 60 long lines a second each; canaries ping every 250 ms ----
    const tWatch = canary(tCanary, 250);
    const wWatch = canary(wCanary, 250);
    const tCut = "client is not reading its output; disconnected";
    const wCut = "web client is not reading its output; closed";
    const cutAll = () => p.msgCount(tCut) >= READERS && p.msgCount(wCut) >= READERS;
    const floodStart = performance.now();
    let peakRss = baseRss;
    let said = 0;
    let cutAt = NaN;
    const payload = (n: number) => `${n}:`.padEnd(LINE, "x");
    while (performance.now() - floodStart < FLOOD_MS) {
      for (let k = 0; k < SAYS_PER_TICK; k++) for (const t of talkers) t.send(`say ${payload(said++)}`);
      peakRss = Math.max(peakRss, p.memory().rss);
      if (Number.isNaN(cutAt) && cutAll()) {
        cutAt = performance.now() - floodStart;
        if (!LONG) break;
      }
      await sleep(100);
    }
    const floodMs = performance.now() - floodStart;
    await waitFor(cutAll, 10_000, () => `every slow reader cut (telnet ${p.msgCount(tCut)}, websocket ${p.msgCount(wCut)} of ${READERS})`, 100);
    if (Number.isNaN(cutAt)) cutAt = performance.now() - floodStart;
    // every line said reaches the canaries (and the talkers' own echoes come back)
    const heard = (lines: string[]) => lines.filter((l) => /^talker[ab] says, "/.test(l)).length;
    const perCanary = said; // each canary hears both talkers: every line said
    await waitFor(() => heard(tCanary.client.lines) === perCanary && heard(wCanary.texts) === perCanary, 30_000,
      () => `canaries heard every line (said ${said}; telnet ${heard(tCanary.client.lines)}, websocket ${heard(wCanary.texts)})`, 100);
    await tWatch.stop();
    await wWatch.stop();
    const peakAfterFlood = Math.max(peakRss, p.memory().rss);

    // ---- the readers look again: their connections are gone ----
    for (const r of tReaders) r.client.socket.resume();
    for (const r of wReaders) r.resumeReading();
    await waitFor(() => tReaders.every((r) => r.closed) && wReaders.every((r) => r.closed), 15_000, "every reader sees its connection closed");
    const wCodes = [...new Set(wReaders.map((r) => r.closeCode))];
    // the websocket readers' sessions wait resumeGraceMs for their tab, then go; the telnet ones went at once
    const detached = webStatus(await p.status()).detached;
    await waitFor(async () => (await p.status()).sessions.total === 4, GRACE_MS + 10_000, "only the canaries and talkers left", 250);
    const after = await p.settledProbe();
    const buffered = p.tail.filter((l) => l.includes(wCut)).map((l) => Number(/"buffered":(\d+)/.exec(l)?.[1]));

    const caps = READERS * (TELNET_CAP + WEB_CAP);
    report("slow readers", {
      readers: `${READERS} telnet + ${READERS} websocket`, caps_kib: `${TELNET_CAP / 1024} / ${WEB_CAP / 1024}`,
      lines_said: said, line_chars: LINE, flood_s: floodMs / 1000, all_cut_after_s: cutAt / 1000,
      ws_buffered_at_close_kib_max: Math.max(...buffered) / 1024, ws_close_codes: wCodes.join("/"), ws_detached_after_cut: detached,
      rss_base_mb: mb(baseRss), rss_peak_mb: mb(peakAfterFlood), rss_growth_mb: mb(peakAfterFlood - baseRss), caps_total_mb: mb(caps),
      heap_after_gc_mb: `${mb(before.heapUsed)} -> ${mb(after.heapUsed)}`,
      canary_telnet_p50_p99_max_ms: `${percentile(tWatch.rtts, 50).toFixed(1)} / ${percentile(tWatch.rtts, 99).toFixed(1)} / ${Math.max(...tWatch.rtts).toFixed(1)} (${tWatch.rtts.length} pings)`,
      canary_ws_p50_p99_max_ms: `${percentile(wWatch.rtts, 50).toFixed(1)} / ${percentile(wWatch.rtts, 99).toFixed(1)} / ${Math.max(...wWatch.rtts).toFixed(1)} (${wWatch.rtts.length} pings)`,
    });

    // disconnected: one log line per reader and protocol, nobody else
    expect(p.msgCount(tCut)).to.equal(READERS);
    expect(p.msgCount(wCut)).to.equal(READERS);
    expect(wCodes.every((c) => c === 1013 || c === 1006), `websocket close codes ${wCodes.join(",")}`).to.equal(true);
    // capped: a websocket is closed as soon as its queue passes the cap (by at most one output's frame)
    expect(buffered).to.have.length(READERS);
    for (const b of buffered) expect(b).to.be.above(WEB_CAP).and.at.most(WEB_CAP + LINE + 1024);
    // memory bounded: the portal grew by no more than what the caps allow, plus room for the traffic itself
    expect(peakAfterFlood - baseRss).to.be.at.most(caps + 96 * MB);
    // and it gave it back: heap after GC near where it started
    expect(after.heapUsed - before.heapUsed).to.be.at.most(8 * MB);
    // other players unaffected: every line, every answer, no one else dropped
    expect(tWatch.failures).to.deep.equal([]);
    expect(wWatch.failures).to.deep.equal([]);
    expect(percentile(tWatch.rtts, 99)).to.be.below(2000);
    expect(percentile(wWatch.rtts, 99)).to.be.below(2000);
    expect([tCanary.closed, wCanary.closed, ...talkers.map((t) => t.closed)]).to.deep.equal([false, false, false, false]);
    expect((await p.status()).sessions.logged_in).to.equal(4);
  });
});
