import { fork, type ChildProcess } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { trackChild } from "../children.js";
import type { GenCommand, GenMessage } from "./loadgen-protocol.js";

const script = join(dirname(fileURLToPath(import.meta.url)), "loadgen.js");

/** A load generator child process (loadgen.ts), one command at a time over IPC. */
export class Generator {
  private readonly child: ChildProcess;
  private next = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private exitError: Error | undefined;

  constructor(private readonly onProgress: (text: string) => void) {
    this.child = fork(script, [], { stdio: ["ignore", "inherit", "inherit", "ipc"], execArgv: ["--enable-source-maps", "--max-old-space-size=4096"] });
    trackChild(this.child);
    this.child.on("message", (m: GenMessage) => {
      if ("progress" in m) return this.onProgress(m.progress);
      const w = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      if (m.ok) w?.resolve(m.result);
      else w?.reject(new Error(`load generator: ${m.error}`));
    });
    this.child.on("exit", (code, signal) => {
      this.exitError = new Error(`the load generator exited (code ${code}, signal ${signal})`);
      for (const w of this.waiting.values()) w.reject(this.exitError);
      this.waiting.clear();
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  request<T>(command: GenCommand): Promise<T> {
    if (this.exitError) return Promise.reject(this.exitError);
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ id, command });
    });
  }

  /** Closes every client, then ends the process. */
  async close(): Promise<void> {
    if (!this.exitError) {
      try {
        await this.request({ cmd: "close" });
      } catch {
        // gone already
      }
    }
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((r) => this.child.once("exit", r));
      this.child.disconnect();
      const timer = setTimeout(() => this.child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    }
  }
}
