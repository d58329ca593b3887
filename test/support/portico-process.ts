import { spawn, execFile, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { collectLines } from "../../core/testing/collect-lines.js";
import { waitFor, waitForLine } from "../../core/testing/wait-for.js";

export const PORTICO_BIN = fileURLToPath(new URL("../../core/cli/portico.js", import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `portico <args>` to completion in `cwd` with the given environment. */
export function runCli(args: string[], cwd: string, env: Record<string, string> = {}, timeoutMs = 20_000, bin = PORTICO_BIN): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd, env: { ...process.env, ...env }, timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: unknown }).code as number | null) ?? 1 : 0;
      resolve({ code: typeof code === "number" ? code : 1, stdout, stderr });
    });
  });
}

/** A `portico start` in the foreground in a fresh directory, on free ports. */
export class PorticoProcess {
  readonly output: string[] = [];
  readonly exited: Promise<number | null>;

  private constructor(readonly child: ChildProcess, readonly cwd: string, readonly env: Record<string, string>, readonly bin: string) {
    collectLines(child.stdout, this.output);
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (chunk: string) => this.output.push(...chunk.split("\n").filter(Boolean)));
    this.exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
  }

  /** `bin`: the portico CLI to run (default this repository's build; an installation's node_modules/portico/dist/core/cli/portico.js). */
  static start(options: { cwd?: string; env?: Record<string, string>; bin?: string } = {}): PorticoProcess {
    const cwd = options.cwd ?? mkdtempSync(join(tmpdir(), "portico-e2e-"));
    // Without a config file the default listeners (telnet and websocket) run: both on free ports.
    const defaults: Record<string, string> = existsSync(join(cwd, "portico.config.json")) ? {} : { PORTICO_WEB_PORT: "0" };
    const env = {
      PORTICO_TELNET_PORT: "0", PORTICO_LINK_PORT: "0", PORTICO_ADMIN_PORT: "0", PORTICO_LOG_LEVEL: "info", ...defaults,
      ...options.env,
    };
    const bin = options.bin ?? PORTICO_BIN;
    const child = spawn(process.execPath, ["--enable-source-maps", bin, "start"], { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    return new PorticoProcess(child, cwd, env, bin);
  }

  /** Waits for the "portico is running" log line and returns the runtime info (ports). */
  async ready(timeoutMs = 15_000): Promise<{ telnetPort: number; webPort: number | undefined; adminPort: number; linkPort: number }> {
    const runtimeFile = join(this.cwd, "data", "portico.runtime.json");
    const state = await waitFor(
      () => (this.child.exitCode !== null ? "exited" : existsSync(runtimeFile) && this.output.some((l) => l.includes("portico is running")) ? "running" : undefined),
      timeoutMs,
      () => `portico ready (output: ${this.output.slice(-10).join("\n")})`,
      50,
    );
    if (state === "exited") throw new Error(`portico exited with ${this.child.exitCode}: ${this.output.slice(-10).join("\n")}`);
    const info = JSON.parse(readFileSync(runtimeFile, "utf8"));
    const web = (info.listeners as { plugin: string; port: number }[]).find((l) => l.plugin === "plugins.websocket.WebsocketFactory");
    return { telnetPort: info.listeners[0].port, webPort: web?.port, adminPort: info.admin.port, linkPort: info.link.port };
  }

  /** Resolves once a log line matching appears (from index `from`). */
  waitForLog(match: RegExp, timeoutMs = 15_000, from = 0): Promise<string> {
    return waitForLine(this.output, match, timeoutMs, from, 50);
  }

  cli(args: string[]): Promise<CliResult> {
    return runCli(args, this.cwd, this.env, 20_000, this.bin);
  }

  /** The listening port of the listener started for `plugin` (from the runtime file). */
  listenerPort(plugin: string): number {
    const info = JSON.parse(readFileSync(join(this.cwd, "data", "portico.runtime.json"), "utf8")) as { listeners: { plugin: string; port: number }[] };
    const l = info.listeners.find((x) => x.plugin === plugin);
    if (!l) throw new Error(`no listener for ${plugin} in the runtime file`);
    return l.port;
  }

  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
    await this.exited;
  }
}
