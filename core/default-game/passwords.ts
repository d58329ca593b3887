/** scrypt password hashing (node:crypto, async) and constant-time verification. */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from "node:crypto";

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
  keylen: number;
}

/** The default cost: N=16384, r=8, p=1 (16 MiB per hash), 64-byte key. */
export const DEFAULT_SCRYPT: Readonly<ScryptParams> = { N: 16384, r: 8, p: 1, keylen: 64 };
export const SALT_BYTES = 16;

/** What is stored per account: hex hash, hex salt and the parameters used (so they can change later). */
export interface PasswordRecord {
  hash: string;
  salt: string;
  params: ScryptParams;
}

function derive(password: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  const options: ScryptOptions = { N: params.N, r: params.r, p: params.p, maxmem: 256 * params.N * params.r + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(password.normalize("NFC"), salt, params.keylen, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

export async function hashPassword(password: string, params: ScryptParams = DEFAULT_SCRYPT): Promise<PasswordRecord> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, params);
  return { hash: key.toString("hex"), salt: salt.toString("hex"), params: { ...params } };
}

export async function verifyPassword(password: string, record: PasswordRecord): Promise<boolean> {
  const expected = Buffer.from(record.hash, "hex");
  const key = await derive(password, Buffer.from(record.salt, "hex"), { ...record.params, keylen: expected.length });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** Parses stored params, refusing anything that is not a sane scrypt configuration. */
export function parseParams(json: string): ScryptParams {
  const raw = JSON.parse(json) as Partial<ScryptParams>;
  const ok = (v: unknown, min: number, max: number) => typeof v === "number" && Number.isInteger(v) && v >= min && v <= max;
  if (!ok(raw.N, 2, 2 ** 22) || !ok(raw.r, 1, 64) || !ok(raw.p, 1, 16) || !ok(raw.keylen, 16, 256)) {
    throw new Error(`bad scrypt parameters ${json}`);
  }
  return { N: raw.N!, r: raw.r!, p: raw.p!, keylen: raw.keylen! };
}

/** A record no password matches (random hash), for verifying against an unknown name in the same time. */
export function decoyRecord(params: ScryptParams = DEFAULT_SCRYPT): PasswordRecord {
  return { hash: randomBytes(params.keylen).toString("hex"), salt: randomBytes(SALT_BYTES).toString("hex"), params: { ...params } };
}
