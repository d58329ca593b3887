/**
 * The one message shape used in both directions: `[name, args, kwargs]`.
 * Client → game it is an input function call; game → client it is a send instruction.
 */
export type Kwargs = Record<string, unknown>;
export type CommandTuple = [name: string, args: unknown[], kwargs: Kwargs];

/** What a game may hand to `msg()`: Evennia-style keyword form, e.g. `{ text: "hi", prompt: "> ", options: {...} }`. */
export type OutputSpec = Record<string, unknown>;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Builds one tuple. */
export function cmd(name: string, args: unknown[] = [], kwargs: Kwargs = {}): CommandTuple {
  return [name, args, kwargs];
}

/** Normalises one value of the keyword form into `[args, kwargs]` (Evennia's clean_senddata table). */
function toArgsKwargs(data: unknown): [unknown[], Kwargs] {
  if (data === undefined || data === null || data === false || data === "" || data === 0) return [[], {}];
  if (isPlainObject(data)) return [[], { ...data }];
  if (Array.isArray(data)) {
    const last = data[data.length - 1];
    if (data.length >= 2 && isPlainObject(last)) {
      if (data.length === 2) {
        return [Array.isArray(data[0]) ? [...data[0]] : [data[0]], { ...last }];
      }
      return [data.slice(0, -1), { ...last }];
    }
    return [[...data], {}];
  }
  return [[data], {}];
}

function isEmptyText(data: unknown): boolean {
  if (data === undefined || data === null || data === "" || data === false || data === 0) return true;
  if (Array.isArray(data)) {
    const [args] = toArgsKwargs(data);
    return args.length === 0 || args.every((a) => a === undefined || a === null || a === "");
  }
  return false;
}

/**
 * Turns the keyword form into tuples: empty `text` dropped, every instruction's kwargs
 * carry `options` (a copy of the top-level `options`), and `prompt` comes last.
 */
export function normalizeOutput(spec: OutputSpec): CommandTuple[] {
  const options = isPlainObject(spec.options) ? spec.options : {};
  const out: CommandTuple[] = [];
  let prompt: CommandTuple | undefined;
  for (const [name, data] of Object.entries(spec)) {
    if (name === "options") continue;
    // Empty text is dropped, unless it only carries options (e.g. `echo: true` after a password).
    if (name === "text" && isEmptyText(data) && Object.keys(options).length === 0) continue;
    const [args, kwargs] = toArgsKwargs(data);
    const tuple: CommandTuple = [name, args, { ...kwargs, options: { ...options, ...(isPlainObject(kwargs.options) ? kwargs.options : {}) } }];
    if (name === "prompt") prompt = tuple;
    else out.push(tuple);
  }
  if (prompt) out.push(prompt);
  return out;
}

/**
 * Orders already-built tuples for delivery: empty text dropped (unless it carries options), prompt last, `options` present.
 * Returns the tuples that are well-formed and the indexes of those that are not.
 */
export function prepareTuples(tuples: readonly unknown[]): { ok: CommandTuple[]; bad: number[] } {
  const ok: CommandTuple[] = [];
  const prompts: CommandTuple[] = [];
  const bad: number[] = [];
  tuples.forEach((t, i) => {
    if (!isCommandTuple(t)) {
      bad.push(i);
      return;
    }
    const [name, args, kwargs] = t;
    const empty = args.length === 0 || args.every((a) => a === undefined || a === null || a === "");
    const carriesOptions = isPlainObject(kwargs.options) && Object.keys(kwargs.options).length > 0;
    if (name === "text" && empty && !carriesOptions) return;
    const withOptions: CommandTuple = isPlainObject(kwargs.options) ? t : [name, args, { ...kwargs, options: {} }];
    if (name === "prompt") prompts.push(withOptions);
    else ok.push(withOptions);
  });
  return { ok: ok.concat(prompts), bad };
}

export function isCommandTuple(t: unknown): t is CommandTuple {
  return Array.isArray(t) && t.length === 3 && typeof t[0] === "string" && t[0].trim() !== "" && Array.isArray(t[1]) && isPlainObject(t[2]);
}
