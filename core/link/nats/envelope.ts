/**
 * What travels in one NATS message of the link (docs/link-protocol.md, "Over NATS"): a JSON object
 * naming its epoch (`e`); a data frame adds its sequence number (`s`) and its messages (`m`, the
 * same messages as a TCP frame's array); `a` acknowledges the peer's frames up to that number, `n`
 * asks for them again from that number, `r` says the epoch is not (or no longer) known here.
 */
export interface Envelope {
  e: string;
  s?: number;
  a?: number;
  n?: number;
  r?: string;
  m?: unknown[];
}

/** An envelope as the epoch hands it out: the messages already serialized as one JSON array. */
export type OutgoingEnvelope = Omit<Envelope, "m"> & { m?: string };

/** Serializes an envelope; the messages' JSON is spliced in as it is (it was encoded once, when queued). */
export function encodeEnvelope(env: OutgoingEnvelope): string {
  if (env.m === undefined) return JSON.stringify(env);
  const { m, ...head } = env;
  return `${JSON.stringify(head).slice(0, -1)},"m":${m}}`;
}

const isSeq = (v: unknown) => v === undefined || (typeof v === "number" && Number.isSafeInteger(v) && v >= 0);

/** Epoch ids: what the portal makes (`<game>~<run>.<n>`), bounded. */
export const EPOCH_ID = /^[A-Za-z0-9_-]{1,64}~\d{1,15}\.\d{1,15}$/;

/** Checks one received envelope; returns the name of the first bad field, or undefined. */
export function badEnvelopeField(v: unknown): string | undefined {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return "(envelope)";
  const env = v as Record<string, unknown>;
  if (typeof env.e !== "string" || !EPOCH_ID.test(env.e)) return "e";
  if (!isSeq(env.s) || env.s === 0) return "s";
  if (!isSeq(env.a)) return "a";
  if (!isSeq(env.n) || env.n === 0) return "n";
  if (env.r !== undefined && (typeof env.r !== "string" || env.r.length > 200)) return "r";
  if ((env.s === undefined) !== (env.m === undefined) || (env.m !== undefined && !Array.isArray(env.m))) return "m";
  return undefined;
}

/** The game instance an epoch id belongs to (its part before `~`). */
export function epochGame(epoch: string): string {
  return epoch.slice(0, epoch.indexOf("~"));
}

/** The portal run an epoch id names (between `~` and the first `.`). */
export function epochRun(epoch: string): string {
  return epoch.slice(epoch.indexOf("~") + 1).split(".")[0]!;
}
