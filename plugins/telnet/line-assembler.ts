const CR = 0x0d;
const LF = 0x0a;
const NUL = 0x00;

export interface LineEvents {
  line(bytes: Buffer): void;
  /** A line grew past the cap; its bytes up to the next line end are discarded. */
  overflow(): void;
  /** A lone NUL between lines: a client keep-alive. */
  idle(): void;
}

/**
 * Turns telnet data into lines. CR LF, LF, CR, LF CR and CR NUL each end one line; a partial line
 * is kept until its end arrives; a line longer than `maxLineBytes` is discarded (reported once).
 */
export class LineAssembler {
  /** The unfinished line's parts (none allocated while no line is under way). */
  private parts: Buffer[] | undefined;
  private size = 0;
  private discarding = false;
  /** The byte that ended the previous line, so its partner (LF after CR, CR after LF, NUL after CR) is swallowed. */
  private lastEnd = 0;

  constructor(
    private readonly events: LineEvents,
    private readonly maxLineBytes: number,
  ) {}

  /** Lines ended so far, discarded ones included (a client that ends lines is making progress). */
  linesEnded = 0;

  /** Bytes held for an unfinished line. */
  get pendingBytes(): number {
    return this.size;
  }

  /** True while a line has begun and not ended (held, or being discarded for its length). */
  get midLine(): boolean {
    return this.size > 0 || this.discarding;
  }

  push(data: Buffer): void {
    let start = 0;
    for (let i = 0; i < data.length; i++) {
      const b = data[i]!;
      if (b !== CR && b !== LF && b !== NUL) {
        this.lastEnd = 0;
        continue;
      }
      const pairs = (this.lastEnd === CR && (b === LF || b === NUL)) || (this.lastEnd === LF && b === CR);
      if (b === NUL && !pairs) {
        // A NUL inside text is dropped; between lines it is a keep-alive.
        this.append(data.subarray(start, i));
        if (this.size === 0 && !this.discarding) this.events.idle();
        start = i + 1;
        continue;
      }
      if (pairs) {
        this.lastEnd = 0;
        start = i + 1;
        continue;
      }
      this.append(data.subarray(start, i));
      this.endLine();
      this.lastEnd = b;
      start = i + 1;
    }
    this.append(data.subarray(start));
  }

  private append(bytes: Buffer): void {
    if (bytes.length === 0 || this.discarding) return;
    if (this.size + bytes.length > this.maxLineBytes) {
      this.parts = undefined;
      this.size = 0;
      this.discarding = true;
      this.events.overflow();
      return;
    }
    (this.parts ??= []).push(Buffer.from(bytes));
    this.size += bytes.length;
  }

  private endLine(): void {
    this.linesEnded += 1;
    if (this.discarding) {
      this.discarding = false;
      return;
    }
    const parts = this.parts ?? [];
    const line = parts.length === 1 ? parts[0]! : Buffer.concat(parts, this.size);
    this.parts = undefined;
    this.size = 0;
    this.events.line(line);
  }
}
