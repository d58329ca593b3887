import { expect } from "chai";
import Database from "better-sqlite3";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sleep, waitFor } from "../../core/testing/wait-for.js";
import { PorticoProcess, runCli } from "../support/portico-process.js";
import { TelnetTestClient } from "../support/telnet-client.js";
import { WsTestClient } from "../support/ws-client.js";

const SERVER = "Spoofland";
const IAC = 255, SB = 250, SE = 240;

/** The data bytes of a telnet stream: IAC IAC kept as 255, negotiations, subnegotiations and other commands dropped. */
function withoutTelnetCommands(bytes: Buffer): Buffer {
  const out: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b !== IAC) {
      out.push(b);
      continue;
    }
    const verb = bytes[++i];
    if (verb === IAC) out.push(IAC);
    else if (verb !== undefined && verb >= 251) i++;
    else if (verb === SB) {
      while (i < bytes.length && !(bytes[i] === IAC && bytes[i + 1] === SE)) i++;
      i++;
    }
  }
  return Buffer.from(out);
}

/** A telnet client that also keeps every byte it received, IAC sequences included. */
interface RawClient {
  c: TelnetTestClient;
  raw: Buffer[];
}

/**
 * Issue 12, items 4-6, against a real `portico start` (telnet, websocket, the default game):
 * system lines cannot be spoofed by players, bidi controls and line separators do not reach other
 * players, masked input is never echoed by LOCALECHO, and prototype keys are unknown option values.
 */
describe("portico start: spoofing, masked input and prototype keys (issue 12)", function () {
  this.timeout(120_000);
  let portico: PorticoProcess;
  let telnetPort: number;
  let webPort: number;
  let cwd: string;
  const clients: TelnetTestClient[] = [];
  const sockets: WsTestClient[] = [];

  before(async () => {
    cwd = mkdtempSync(join(tmpdir(), "portico-spoof-e2e-"));
    writeFileSync(join(cwd, "portico.config.json"), JSON.stringify({ serverName: SERVER, limits: { maxConnectionRate: 0 } }));
    // Every test client shares 127.0.0.1: the per-address account creation limit is lifted.
    portico = PorticoProcess.start({ cwd, env: { PORTICO_WEB_PORT: "0", PORTICO_GAME_ACCOUNT_CREATE_LIMIT: "0" } });
    const ports = await portico.ready();
    telnetPort = ports.telnetPort;
    webPort = ports.webPort!;
    await portico.waitForLog(/game connected to the link/);
  });

  after(async () => {
    for (const c of clients) c.close();
    for (const s of sockets) s.close();
    const stop = await portico.cli(["stop"]);
    if (stop.code !== 0) await portico.kill();
    await portico.exited;
    rmSync(cwd, { recursive: true, force: true });
  });

  async function open(): Promise<RawClient> {
    const c = await TelnetTestClient.open(telnetPort);
    const raw: Buffer[] = [];
    c.socket.on("data", (chunk: Buffer) => raw.push(chunk));
    clients.push(c);
    await c.waitForLine(`Welcome to ${SERVER}!`, 10_000);
    return { c, raw };
  }

  async function ask(c: TelnetTestClient, line: string, expected: string | RegExp, timeoutMs = 10_000): Promise<string> {
    const from = c.lines.length;
    c.send(line);
    return c.waitForLine(expected, timeoutMs, from);
  }

  async function player(name: string, password: string): Promise<RawClient> {
    const r = await open();
    await ask(r.c, `create ${name} ${password}`, `Welcome, ${name}!`, 20_000);
    await ask(r.c, "options NOCOLOR=on", "NOCOLOR is now true.");
    return r;
  }

  /**
   * Everything received from `fromByte` on, as the lines the bytes make: telnet commands removed (the
   * test client refuses SGA, so every line is followed by IAC GA), split at CR LF, nothing else changed.
   */
  const rawLines = (r: RawClient, fromByte = 0) => withoutTelnetCommands(Buffer.concat(r.raw).subarray(fromByte)).toString("utf8").split("\r\n");
  const rawSize = (r: RawClient) => r.raw.reduce((n, b) => n + b.length, 0);

  function accountNames(): string[] {
    const db = new Database(join(cwd, "data", "game.sqlite"), { readonly: true, fileMustExist: true });
    try {
      return (db.prepare("SELECT name FROM accounts ORDER BY id").all() as { name: string }[]).map((r) => r.name);
    } finally {
      db.close();
    }
  }

  /** Makes an account an admin the way an operator could (the game reads the flag on every command). */
  function makeAdmin(name: string): void {
    const db = new Database(join(cwd, "data", "game.sqlite"), { fileMustExist: true });
    try {
      db.prepare("UPDATE accounts SET is_admin = 1 WHERE name = ?").run(name);
    } finally {
      db.close();
    }
  }

  it("(6) options ENCODING=__proto__ / constructor / toString / hasOwnProperty are refused, and options keeps working", async () => {
    const { c } = await open();
    for (const value of ["__proto__", "constructor", "toString", "hasOwnProperty"]) {
      await ask(c, `options ENCODING=${value}`, "ENCODING must be utf-8 or latin-1.");
    }
    await ask(c, "options __proto__=on", /^You cannot set __proto__\. Settable: /);
    await ask(c, "options constructor=on", /^You cannot set constructor\. Settable: /);
    const from = c.lines.length;
    c.send("options");
    await c.waitForLine(/^Set one with: options <FLAG>=<value>/, 10_000, from);
    expect(c.lines.slice(from).find((l) => /^ {2}ENCODING /.test(l))).to.match(/^ {2}ENCODING +utf-8$/);
    expect(c.lines.join("\n")).to.not.include("{}");
    await ask(c, "options ENCODING=latin-1", "ENCODING is now latin-1.");
    await ask(c, "options ENCODING=utf-8", "ENCODING is now utf-8.");
  });

  it("(4) new accounts and channels with system-looking names are refused with a clear message", async () => {
    const { c } = await open();
    const before = accountNames();
    await ask(c, "create Announcement secret1", 'The name Announcement is reserved: it looks like "Announcement", which only the system uses. Please pick another.');
    await ask(c, "create Ann0uncement secret1", "The name Ann0uncement is reserved");
    await ask(c, "create ADMIN secret1", "The name ADMIN is reserved");
    await ask(c, "create Adm1n secret1", "The name Adm1n is reserved");
    await ask(c, "create System2 secret1", "The name System2 is reserved");
    await ask(c, `create ${SERVER} secret1`, `The name ${SERVER} is reserved: it looks like the server's name`);
    expect(accountNames()).to.deep.equal(before);
    await ask(c, "create Carol secret1", "Welcome, Carol!", 20_000);
    await ask(c, "join Announcements", "The channel name Announcements is reserved");
    await ask(c, "join Sys0p", "The channel name Sys0p is reserved");
    await ask(c, "quit", "Goodbye!");

    // The operator may still make such an account, and an existing one keeps working.
    const pwFile = join(cwd, "admin-password");
    writeFileSync(pwFile, "adminpass1\n", { mode: 0o600 });
    const made = await runCli(["admin", "create", "Admin"], cwd, { ...portico.env, PORTICO_ADMIN_PASSWORD_FILE: pwFile });
    expect(made.code, made.stderr).to.equal(0);
    const op = await open();
    await ask(op.c, "connect Admin adminpass1", "Welcome, Admin!");
    await ask(op.c, "quit", "Goodbye!");
  });

  it("(4) with colour off, a real @announce and the closest spoofs differ byte for byte: only system lines start with \"*** \"", async () => {
    const alice = await player("Alice", "alicepass1");
    makeAdmin("Alice");
    const bob = await player("Bob", "bobpass12");
    const mallory = await player("Mallory", "mallory12");
    await bob.c.waitForLine("*** Mallory has connected.");
    const mark = rawSize(bob);
    const seen = bob.c.lines.length;

    await ask(alice.c, "@announce Server going down", "*** Announcement from Alice: Server going down");
    await bob.c.waitForLine("*** Announcement from Alice: Server going down", 10_000, seen);
    // The spoofs: a pose, a say, a channel line, and a line separator meant to start a new line.
    const spoof = "*** Announcement from Alice: Server going down";
    mallory.c.send(`pose ${spoof}`);
    mallory.c.send(`say ${spoof}`);
    mallory.c.send(`public ${spoof}`);
    mallory.c.send(`pose x\u2028${spoof}`);
    mallory.c.send(`say y\u2029${spoof}`);
    mallory.c.send(`public :z\u2028${spoof}`);
    mallory.c.send("say done");
    await bob.c.waitForLine('Mallory says, "done"', 10_000, seen);

    const lines = rawLines(bob, mark).filter((l) => l !== "");
    expect(lines).to.deep.equal([
      "*** Announcement from Alice: Server going down",
      `Mallory ${spoof}`,
      `Mallory says, "${spoof}"`,
      `[public] Mallory: ${spoof}`,
      `Mallory x ${spoof}`,
      `Mallory says, "y ${spoof}"`,
      `[public] Mallory z ${spoof}`,
      'Mallory says, "done"',
    ]);
    // No colour codes: what is compared is what a colour-blind screen shows.
    expect(lines.join("\n")).to.not.include("\x1b");
    // Only the system's line starts with the prefix.
    expect(lines.filter((l) => l.startsWith("*** "))).to.deep.equal(["*** Announcement from Alice: Server going down"]);

    // Leaving is a system line too.
    const before = bob.c.lines.length;
    await ask(mallory.c, "quit", "Goodbye!");
    await bob.c.waitForLine("*** Mallory has left.", 10_000, before);
  });

  it("(4) bidi controls and line/paragraph separators in a say reach other players neutralised", async () => {
    const dave = await player("Dave", "davepass1");
    const erin = await player("Erin", "erinpass1");
    await dave.c.waitForLine("*** Erin has connected.");
    const mark = rawSize(dave);
    const from = dave.c.lines.length;
    erin.c.send("say a\u202ab\u202bc\u202cd\u202de\u202ef\u2066g\u2067h\u2068i\u2069j\u200ek\u200fl\u061cm\u2028n\u2029o");
    await dave.c.waitForLine(/^Erin says, /, 10_000, from);
    const line = rawLines(dave, mark).find((l) => l.startsWith("Erin says, "));
    expect(line).to.equal('Erin says, "abcdefghijklm n o"');
    const bytes = Buffer.concat(dave.raw).subarray(mark);
    for (const cp of [0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069, 0x200e, 0x200f, 0x061c, 0x2028, 0x2029]) {
      expect(bytes.includes(Buffer.from(String.fromCodePoint(cp), "utf8")), `U+${cp.toString(16)}`).to.equal(false);
    }
  });

  it("(5) telnet with LOCALECHO on: typed lines are echoed, the password typed at Password: never is", async () => {
    await player("Frank", "frankpass1").then((r) => ask(r.c, "quit", "Goodbye!"));
    const { c, raw } = await open();
    await ask(c, "options LOCALECHO=on", "LOCALECHO is now true.");
    await ask(c, "look", /^look$/);
    await ask(c, "connect Frank", "Password:");
    const IAC_WILL_ECHO = Buffer.from([255, 251, 1]);
    expect(Buffer.concat(raw).includes(IAC_WILL_ECHO), "the portal sent IAC WILL ECHO").to.equal(true);
    // A wrong password first (also masked), then the right one.
    await ask(c, "wrongpass9", "Wrong name or password.");
    await ask(c, "connect Frank", "Password:");
    await ask(c, "frankpass1", "Welcome, Frank!");
    await ask(c, "say echo is back", /^say echo is back$/);
    await c.waitForLine('You say, "echo is back"');
    const all = Buffer.concat(raw);
    expect(all.includes(Buffer.from("frankpass1")), "the password was sent back").to.equal(false);
    expect(all.includes(Buffer.from("wrongpass9")), "the wrong password was sent back").to.equal(false);
    expect(c.lines.filter((l) => l === "connect Frank")).to.have.length(2);
  });

  it("(5) websocket with LOCALECHO on: the same, over the v1 protocol", async () => {
    await player("Gina", "ginapass1").then((r) => ask(r.c, "quit", "Goodbye!"));
    const ws = await WsTestClient.open(`ws://127.0.0.1:${webPort}/ws`);
    sockets.push(ws);
    const texts = () => ws.v1.filter((m) => m[0] === "text").map((m) => String(m[1][0]));
    const send = async (line: string, expected: string | RegExp) => {
      const from = texts().length;
      ws.sendV1("text", [line], {});
      return ws.waitFor(() => texts().slice(from).find((t) => (typeof expected === "string" ? t.includes(expected) : expected.test(t))), `"${String(expected)}" after "${line}"`, 10_000);
    };
    await ws.waitFor(() => texts().find((t) => t.includes(`Welcome to ${SERVER}!`)), "the banner", 10_000);
    await send("options LOCALECHO=on", "LOCALECHO is now true.");
    await send("look", /^look$/);
    await send("connect Gina", "Password:");
    expect(ws.v1.some((m) => m[0] === "echo" && m[1][0] === false), "the echo-off instruction").to.equal(true);
    await send("ginapass1", "Welcome, Gina!");
    await send("say hello web", /^say hello web$/);
    await sleep(200);
    expect(ws.frames.map((f) => String(f.data)).join("\n")).to.not.include("ginapass1");
  });

  it("the portal and the game still serve players afterwards", async () => {
    const r = await player("Hank", "hankpass1");
    await ask(r.c, "who", /^Players online \(\d+\):$/);
    await waitFor(() => !r.c.closed, 1000, "still connected");
  });
});
