import { expect } from "chai";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PORTICO_BIN, PorticoProcess, type CliResult } from "../support/portico-process.js";
import { PtyProcess } from "../support/pty-process.js";
import { TelnetTestClient } from "../support/telnet-client.js";

/** `portico <args>` with `input` on stdin (null: stdin is /dev/null, as for a job with no input). */
function runAdmin(args: string[], cwd: string, options: { input?: string | null; env?: Record<string, string> } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const input = options.input ?? null;
    const child = spawn(process.execPath, [PORTICO_BIN, ...args], {
      cwd,
      env: { ...process.env, ...options.env },
      stdio: [input === null ? "ignore" : "pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    if (input !== null) child.stdin!.end(input);
  });
}

/** `portico admin`: the first admin is the operator's act; players who create accounts over telnet never are. */
describe("portico admin: create, promote, demote, list (end to end, real CLI and real data dir)", function () {
  this.timeout(120_000);
  const dirs: string[] = [];
  const started: PorticoProcess[] = [];
  const clients: TelnetTestClient[] = [];

  function tempDir(): string {
    const d = mkdtempSync(join(tmpdir(), "portico-admin-"));
    dirs.push(d);
    writeFileSync(join(d, "portico.config.json"), JSON.stringify({ serverName: "Adm", limits: { maxConnectionRate: 0 } }));
    return d;
  }

  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    for (const p of started.splice(0)) {
      const stop = await p.cli(["stop"]);
      if (stop.code !== 0) await p.kill();
      await p.exited;
    }
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  async function startPortico(cwd: string): Promise<number> {
    const p = PorticoProcess.start({ cwd });
    started.push(p);
    const { telnetPort } = await p.ready();
    await p.waitForLog(/game connected to the link/);
    return telnetPort;
  }

  async function player(port: number): Promise<TelnetTestClient> {
    const c = await TelnetTestClient.open(port);
    clients.push(c);
    await c.waitForLine("Welcome to Adm!", 10_000);
    return c;
  }

  async function ask(c: TelnetTestClient, line: string, match: string | RegExp, timeoutMs = 15_000): Promise<string> {
    const from = c.lines.length;
    c.send(line);
    return c.waitForLine(match, timeoutMs, from);
  }

  it("before the first start: creates the data dir and an admin from PORTICO_ADMIN_PASSWORD_FILE; it logs in over telnet and uses admin commands", async () => {
    const cwd = tempDir();
    const pwFile = join(cwd, "root.pw");
    writeFileSync(pwFile, "root-pass-1\n", { mode: 0o600 });
    const r = await runAdmin(["admin", "create", "Root"], cwd, { env: { PORTICO_ADMIN_PASSWORD_FILE: pwFile } });
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.equal(`created the admin account Root in ${join(cwd, "data", "game.sqlite")}; it can log in now\n`);
    expect(r.stdout + r.stderr).to.not.include("root-pass-1");
    const list = await runAdmin(["admin", "list"], cwd);
    expect(list).to.deep.include({ code: 0, stdout: "Root\n" });

    const port = await startPortico(cwd);
    const root = await player(port);
    await ask(root, "connect Root root-pass-1", "Welcome, Root!");
    await ask(root, "help", "Admin commands:");
    await ask(root, "@sessions", "Sessions (1):");
  });

  it("while the game runs: the first network account is not an admin; --promote makes it one at once, demote takes it back; a second admin from stdin", async () => {
    const cwd = tempDir();
    const port = await startPortico(cwd);
    const first = await player(port);
    expect(await ask(first, "create First first-pass-1", /^Account First created/)).to.equal("Account First created.");
    await first.waitForLine("Welcome, First!");
    await ask(first, "@announce hello", "Unknown command '@announce'.");
    await ask(first, "help", /^Admins are appointed by the server's operator/);
    expect(first.lines.some((l) => l.includes("Admin commands"))).to.equal(false);
    const none = await runAdmin(["admin", "list"], cwd);
    expect(none.code).to.equal(0);
    expect(none.stdout).to.equal("");
    expect(none.stderr).to.include("there are no admin accounts; make one with: portico admin create <name>");

    const promote = await runAdmin(["admin", "create", "first", "--promote"], cwd);
    expect(promote.code, promote.stderr).to.equal(0);
    expect(promote.stdout).to.equal("First is now an admin (at once, also if logged in); its password is unchanged\n");
    // Rights are read on every command: the logged-in session is an admin now.
    await ask(first, "@announce hello all", /Announcement from First:.* hello all/);
    const again = await runAdmin(["admin", "create", "First", "--promote"], cwd);
    expect(again).to.deep.include({ code: 0, stdout: "First is already an admin; nothing changed\n" });

    const second = await runAdmin(["admin", "create", "Second"], cwd, { input: "second-pass-1\n" });
    expect(second.code, second.stderr).to.equal(0);
    const c2 = await player(port);
    await ask(c2, "connect Second second-pass-1", "Welcome, Second!");
    await ask(c2, "@sessions", "Sessions (2):");

    const demote = await runAdmin(["admin", "demote", "First"], cwd);
    expect(demote).to.deep.include({ code: 0, stdout: "First is no longer an admin\n" });
    await ask(first, "@announce again", "Unknown command '@announce'.");
    expect(await runAdmin(["admin", "list"], cwd)).to.deep.include({ code: 0, stdout: "Second\n" });
  });

  it("refusals: taken name, weak password, bad name, no password source, password on the command line, PORTICO_ADMIN_PASSWORD, unknown account; nothing is created", async () => {
    const cwd = tempDir();
    const ok = await runAdmin(["admin", "create", "Taken"], cwd, { input: "taken-pass-1\n" });
    expect(ok.code, ok.stderr).to.equal(0);
    const CODE = "portico: [PORTAL_ERR_ADMIN_ACCOUNT] ";

    const taken = await runAdmin(["admin", "create", "TAKEN"], cwd, { input: "other-pass-1\n" });
    expect(taken).to.deep.include({ code: 1, stdout: "" });
    expect(taken.stderr).to.equal(`${CODE}the name Taken is taken; to make that account an admin: portico admin create Taken --promote\n`);

    const weak = await runAdmin(["admin", "create", "Weakling"], cwd, { input: "12345\n" });
    expect(weak.code).to.equal(1);
    expect(weak.stderr).to.equal(`${CODE}password refused: Passwords must be 6 to 128 characters long.\n`);

    const badName = await runAdmin(["admin", "create", "9lives"], cwd, { input: "good-pass-1\n" });
    expect(badName.code).to.equal(1);
    expect(badName.stderr).to.equal(`${CODE}"9lives" cannot be an account name: Names must start with a letter.\n`);

    const noSource = await runAdmin(["admin", "create", "Nobody"], cwd, { input: null });
    expect(noSource.code).to.equal(1);
    expect(noSource.stderr).to.equal(`${CODE}no password: standard input is not a terminal and gave no line; set PORTICO_ADMIN_PASSWORD_FILE to a file holding the password, or pipe it on standard input\n`);

    const missingFile = await runAdmin(["admin", "create", "Nobody"], cwd, { env: { PORTICO_ADMIN_PASSWORD_FILE: join(cwd, "no-such.pw") } });
    expect(missingFile.code).to.equal(1);
    expect(missingFile.stderr).to.match(/^portico: \[PORTAL_ERR_ADMIN_ACCOUNT\] cannot read the password file .*no-such\.pw \(PORTICO_ADMIN_PASSWORD_FILE\): /);

    const onArgv = await runAdmin(["admin", "create", "Nobody", "argv-pass-1"], cwd, { input: null });
    expect(onArgv.code).to.equal(2);
    expect(onArgv.stderr).to.match(/^portico: portico admin create takes no password on the command line/);

    const fromEnv = await runAdmin(["admin", "create", "Nobody"], cwd, { env: { PORTICO_ADMIN_PASSWORD: "env-pass-1" } });
    expect(fromEnv.code).to.equal(1);
    expect(fromEnv.stderr).to.match(/PORTICO_ADMIN_PASSWORD is not read/);

    const unknown = await runAdmin(["admin", "create", "Ghost", "--promote"], cwd);
    expect(unknown.code).to.equal(1);
    expect(unknown.stderr).to.equal(`${CODE}there is no account called Ghost to promote; to create it as an admin leave out --promote: portico admin create Ghost\n`);
    expect((await runAdmin(["admin", "demote", "Ghost"], cwd)).code).to.equal(1);
    expect((await runAdmin(["admin", "frobnicate"], cwd)).code).to.equal(2);
    expect((await runAdmin(["admin", "create"], cwd)).code).to.equal(2);

    for (const r of [taken, weak, badName, noSource, missingFile, onArgv, fromEnv, unknown]) {
      expect(r.stdout + r.stderr).to.not.match(/pass-1/);
      expect(r.stderr).to.not.match(/\n\s+at /);
    }
    expect(await runAdmin(["admin", "list"], cwd)).to.deep.include({ code: 0, stdout: "Taken\n" });
  });

  it("on a terminal: the password is asked twice without echo; two different answers create nothing", async function () {
    const cwd = tempDir();
    const run = (name: string) => PtyProcess.start(`${process.execPath} ${PORTICO_BIN} admin create ${name}`, { cols: 100, rows: 30, cwd, timeoutS: 30 });

    const tty = run("Tty");
    try {
      await tty.waitForText("Password for Tty: ");
      tty.type("tty-secret-1\r");
      await tty.waitForText("Type it again: ");
      tty.type("tty-secret-1\r");
      await tty.waitForText("created the admin account Tty");
      expect(tty.text).to.not.include("tty-secret-1");
    } finally {
      await tty.kill();
    }

    const differ = run("Other");
    try {
      await differ.waitForText("Password for Other: ");
      differ.type("first-try-1\r");
      await differ.waitForText("Type it again: ");
      differ.type("second-try-1\r");
      await differ.waitForText("the two passwords differ; nothing was created");
      expect(differ.text).to.not.match(/-try-1/);
    } finally {
      await differ.kill();
    }
    expect(await runAdmin(["admin", "list"], cwd)).to.deep.include({ code: 0, stdout: "Tty\n" });
    expect(existsSync(join(cwd, "data", "game.sqlite"))).to.equal(true);

    const port = await startPortico(cwd);
    const c = await player(port);
    await ask(c, "connect Tty tty-secret-1", "Welcome, Tty!");
    await ask(c, "help", "Admin commands:");
  });
});
