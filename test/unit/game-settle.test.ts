import { expect } from "chai";
import { GameSessionHandler, type GameTransport, type GameTransportEvents } from "../../core/game/index.js";
import type { GameToPortal, PortalToGame } from "../../core/link/link-messages.js";
import { FakeClock } from "../../core/testing/index.js";

/** A transport the test drives: frames and link drops are injected, sent messages recorded. */
class ScriptedTransport implements GameTransport {
  readonly dropsSessionsOnDown = true;
  readonly keysArePortalIds = true;
  events: GameTransportEvents | undefined;
  readonly sent: [string, GameToPortal][] = [];
  constructor(readonly settleMs: number) {}
  start(events: GameTransportEvents): void {
    this.events = events;
  }
  async stop(): Promise<void> {}
  send(portal: string, msg: GameToPortal): boolean {
    this.sent.push([portal, msg]);
    return true;
  }
  flush(): void {}
  linked(): boolean {
    return true;
  }
}

const LIMITS = { max_frame_bytes: 1 << 20, max_server_data_bytes: 1 << 16 };

/** A portal's hand-over of one session, followed by input that session typed while the game was away. */
function handOver(portal: string, line?: string): PortalToGame[] {
  const sessid = `${portal}:1:1`;
  const session = { sessid, csessid: null, protocol_key: "telnet", address: "127.0.0.1", uid: 1, uname: portal, logged_in: true, puid: null, conn_time: 0, cmd_last: 0, cmd_last_visible: 0, cmd_total: 0, protocol_flags: {}, server_data: {}, input_seq: 1 };
  const msgs: PortalToGame[] = [
    { op: "portal-sync", version: 2, mode: "reload", portal_id: portal, portal_run: 1, portal_start_time: 0, gen: 1, total: 1, limits: LIMITS },
    { op: "portal-sync-sessions", sessions: [session], fresh: [] },
    { op: "portal-sync-end", gen: 1 },
  ];
  if (line !== undefined) msgs.push({ op: "data-in", sessid, seq: 1, cmds: [["text", [line], {}]] });
  return msgs;
}

function game(settleMs: number) {
  const clock = new FakeClock();
  const transport = new ScriptedTransport(settleMs);
  const seen: { line: string; sessionsKnown: string[] }[] = [];
  const handler = new GameSessionHandler({
    transport, clock,
    callbacks: { onInput: (_s, _n, args) => seen.push({ line: String(args[0]), sessionsKnown: [...handler.sessions.keys()].sort() }) },
  });
  handler.start();
  return { clock, transport, seen, handler };
}

describe("GameSessionHandler: the portals' hand-overs are gathered before replayed input runs (settleMs)", () => {
  it("runs input replayed by the first portal only once the second portal's sessions are known", () => {
    const g = game(100);
    g.transport.events!.frame("p1", handOver("p1", "say hi"));
    g.clock.advance(5);
    g.transport.events!.frame("p2", handOver("p2"));
    expect(g.seen).to.deep.equal([]);
    g.clock.advance(95);
    expect(g.seen).to.deep.equal([{ line: "say hi", sessionsKnown: ["p1:1:1", "p2:1:1"] }]);
    // Acknowledged to the portal that sent it, once.
    expect(g.transport.sent.filter(([, m]) => m.op === "ack")).to.deep.equal([["p1", { op: "ack", seqs: { "p1:1:1": 1 } }]]);
  });

  it("without a settling time the first portal's input runs before the second portal synced (what settleMs prevents)", () => {
    const g = game(0);
    g.transport.events!.frame("p1", handOver("p1", "say hi"));
    g.transport.events!.frame("p2", handOver("p2"));
    expect(g.seen).to.deep.equal([{ line: "say hi", sessionsKnown: ["p1:1:1"] }]);
  });

  it("keeps each portal's order: a link drop and frames after the hand-over come after it, as they arrived", () => {
    const g = game(100);
    g.transport.events!.frame("p1", handOver("p1"));
    g.transport.events!.frame("p1", [{ op: "data-in", sessid: "p1:1:1", seq: 1, cmds: [["text", ["later"], {}]] }]);
    g.transport.events!.down("p1");
    g.transport.events!.frame("p2", handOver("p2", "from p2"));
    g.clock.advance(100);
    expect(g.seen.map((x) => x.line)).to.deep.equal(["later", "from p2"]);
    expect(g.seen[0]!.sessionsKnown).to.deep.equal(["p1:1:1", "p2:1:1"]);
    expect([...g.handler.sessions.keys()]).to.deep.equal(["p2:1:1"]);
  });
});
