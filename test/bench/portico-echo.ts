import { Portal } from "../../core/portal.js";
import { JsonLineLogger } from "../../core/logging/logger.js";
import { BenchSession } from "./bench-session.js";
import { NodeChild } from "./children.js";
import type { EchoTarget } from "./load.js";
import { makeTempDir, removeTempDir } from "./temp-dirs.js";

export interface PorticoEchoOptions {
  gameScript: string;
  sessions: number;
  /** Portal link.batchMaxBytes; the portal default when undefined. */
  linkBatchMaxBytes?: number;
}

/**
 * Portico end to end, minus client sockets: a Portal in this process, the echo game as a child
 * process on the link, and socketless sessions whose input goes through handler.data_in and
 * whose `echo: ...` replies arrive at send_text.
 */
export class PorticoEcho implements EchoTarget {
  onReplies: (n: number) => void = () => {};
  readonly failed: Promise<never>;
  /** Text lines that were not echoes (there should be none once the welcomes are in). */
  other = 0;
  private readonly dataDir = makeTempDir("portico-bench-");
  private portal: Portal | undefined;
  private game: NodeChild | undefined;
  private sessions: BenchSession[] = [];
  private next = 0;
  private seq = 0;
  private rejectFailed: (err: Error) => void = () => {};

  constructor(private readonly options: PorticoEchoOptions) {
    this.failed = new Promise<never>((_, reject) => {
      this.rejectFailed = reject;
    });
    this.failed.catch(() => {});
  }

  async start(): Promise<void> {
    const logger = new JsonLineLogger("warn", { bench: "portico" }, (line) => process.stderr.write(line));
    const link = this.options.linkBatchMaxBytes === undefined ? { port: 0 } : { port: 0, batchMaxBytes: this.options.linkBatchMaxBytes };
    const portal = new Portal({ config: { dataDir: this.dataDir, link, limits: { maxCommandRate: 0, maxConnectionRate: 0 } }, logger });
    this.portal = portal;
    await portal.start();
    const game = new NodeChild("echo game", this.options.gameScript, {
      PORTICO_LINK_PORT: String(portal.linkAddress!.port),
      PORTICO_DATA_DIR: this.dataDir,
    });
    this.game = game;
    game.failed.catch((err: Error) => this.rejectFailed(err));
    await game.waitFor(/^SYNC /m, 10_000);

    // Connect every session and wait for each one's welcome line before any load.
    const n = this.options.sessions;
    let welcomed = 0;
    let timer: NodeJS.Timeout | undefined;
    const allWelcomed = new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`only ${welcomed} of ${n} sessions got the game's welcome within 10 s`)), 10_000);
      const onWelcome = (s: BenchSession) => {
        s.onText = (_s, text) => this.onText(text);
        welcomed += 1;
        if (welcomed === n) resolve();
      };
      for (let i = 0; i < n; i += 1) {
        const s = new BenchSession();
        s.onText = onWelcome;
        this.sessions.push(s);
        portal.handler.connect(s);
      }
    });
    await Promise.race([allWelcomed, this.failed]).finally(() => clearTimeout(timer));
  }

  /** Sends `n` text inputs, round-robin over the sessions. */
  send(n: number): void {
    const handler = this.portal!.handler;
    const sessions = this.sessions;
    for (let i = 0; i < n; i += 1) {
      const s = sessions[this.next]!;
      this.next = this.next + 1 === sessions.length ? 0 : this.next + 1;
      handler.data_in(s, [["text", [`hello ${this.seq++}`], {}]]);
    }
  }

  childCpuMs(): number | undefined {
    return this.game?.cpuMs();
  }

  /** Stops the portal (closing sessions and the link), kills the game, removes the data dir. Safe after a partial start. */
  async close(): Promise<void> {
    try {
      await this.portal?.stop("benchmark finished");
    } finally {
      try {
        await this.game?.kill();
      } finally {
        removeTempDir(this.dataDir);
      }
    }
  }

  private onText(text: string): void {
    if (text.startsWith("echo: ")) this.onReplies(1);
    else this.other += 1;
  }
}
