import { createHash, hash } from 'node:crypto';

/**
 * MD5-crypt (Poul-Henning Kamp, `$1$`; Apache's `$apr1$` differs only in the magic string) and SHA-crypt (Ulrich
 * Drepper, "Unix crypt using SHA-256 and SHA-512", `$5$` / `$6$`), written on node:crypto.
 *
 * Both functions take the password as raw bytes and an already parsed salt and return the whole crypt string, the
 * way crypt() does. nginx checks a password by comparing that string with the stored one (strcmp), so the caller
 * compares full strings too: a stored hash that crypt() would not reproduce byte for byte never matches.
 */

const ITOA64 = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** crypt's base-64: `count` characters of `value`, least significant 6 bits first. */
function to64(value: number, count: number): string {
  let out = '';
  let v = value;
  for (let i = 0; i < count; i++) {
    out += ITOA64[v & 0x3f];
    v >>>= 6;
  }
  return out;
}

/** Encodes `digest` in 24-bit groups of byte indices `(b2, b1, b0)`, each group as 4 characters. */
function encodeGroups(digest: Buffer, groups: readonly (readonly [number, number, number])[]): string {
  let out = '';
  for (const [b2, b1, b0] of groups) {
    out += to64(((digest[b2] as number) << 16) | ((digest[b1] as number) << 8) | (digest[b0] as number), 4);
  }
  return out;
}

const ZERO = Buffer.alloc(1);

/**
 * The rounds loop shared by MD5-crypt and SHA-crypt: round i hashes (odd ? key : digest), salt unless i % 3 == 0,
 * key unless i % 7 == 0, then (odd ? digest : key). One-shot crypto.hash over a reused buffer is about 4 times
 * faster than a createHash object per round, which matters at 5000+ rounds.
 */
function stretchRounds(algorithm: string, first: Buffer, key: Buffer, salt: Buffer, rounds: number): Buffer {
  const scratch = Buffer.allocUnsafe(2 * (key.length + first.length) + salt.length);
  let digest = first;
  for (let i = 0; i < rounds; i++) {
    const odd = (i & 1) === 1;
    let at = (odd ? key : digest).copy(scratch, 0);
    if (i % 3 !== 0) at += salt.copy(scratch, at);
    if (i % 7 !== 0) at += key.copy(scratch, at);
    at += (odd ? digest : key).copy(scratch, at);
    digest = hash(algorithm, scratch.subarray(0, at), 'buffer');
  }
  return digest;
}

const MD5_GROUPS = [
  [0, 6, 12],
  [1, 7, 13],
  [2, 8, 14],
  [3, 9, 15],
  [4, 10, 5],
] as const;

/** MD5-crypt of `password` with `salt` (at most 8 characters, no `$`); `magic` is `$1$` or `$apr1$`. */
export function md5Crypt(password: Buffer, salt: string, magic: '$1$' | '$apr1$'): string {
  const saltBytes = Buffer.from(salt, 'latin1');
  const alt = createHash('md5').update(password).update(saltBytes).update(password).digest();
  const ctx = createHash('md5').update(password).update(magic, 'latin1').update(saltBytes);
  for (let left = password.length; left > 0; left -= 16) ctx.update(alt.subarray(0, Math.min(left, 16)));
  // "Then something really weird...": a zero byte for each set bit of the length, else the first password byte.
  for (let bits = password.length; bits !== 0; bits >>>= 1) ctx.update(bits & 1 ? ZERO : password.subarray(0, 1));
  const final = stretchRounds('md5', ctx.digest(), password, saltBytes, 1000);
  return `${magic}${salt}$${encodeGroups(final, MD5_GROUPS)}${to64(final[11] as number, 2)}`;
}

export type ShaCryptAlgorithm = 'sha256' | 'sha512';

/** Drepper's spec: 5000 rounds unless `rounds=` is given; the value is clamped to this range. */
export const SHA_CRYPT_DEFAULT_ROUNDS = 5000;
export const SHA_CRYPT_MIN_ROUNDS = 1000;
export const SHA_CRYPT_MAX_ROUNDS = 999_999_999;

/**
 * The spec's byte permutation for the final base-64 encoding: group g takes bytes (g, g+k, g+2k), rotated by g mod 3
 * (to the right for SHA-256, to the left for SHA-512), e.g. SHA-256 (0,10,20) (21,1,11) (12,22,2), SHA-512
 * (0,21,42) (22,43,1) (44,2,23).
 */
function shaGroups(step: number, count: number, right: boolean): [number, number, number][] {
  const groups: [number, number, number][] = [];
  for (let g = 0; g < count; g++) {
    const [a, b, c] = [g, g + step, g + 2 * step];
    const shift = right ? (3 - (g % 3)) % 3 : g % 3;
    groups.push(shift === 0 ? [a, b, c] : shift === 1 ? [b, c, a] : [c, a, b]);
  }
  return groups;
}

const SHA256_GROUPS = shaGroups(10, 10, true);
const SHA512_GROUPS = shaGroups(21, 21, false);

function encodeSha(algorithm: ShaCryptAlgorithm, digest: Buffer): string {
  if (algorithm === 'sha256') {
    return encodeGroups(digest, SHA256_GROUPS) + to64(((digest[31] as number) << 8) | (digest[30] as number), 3);
  }
  return encodeGroups(digest, SHA512_GROUPS) + to64(digest[63] as number, 2);
}

/** `length` bytes made of `digest` repeated (the spec's P and S sequences). */
function stretch(digest: Buffer, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let offset = 0; offset < length; offset += digest.length) digest.copy(out, offset, 0, length - offset);
  return out;
}

/** The intermediate digest A of the spec (steps 1-12). */
function initialDigest(algorithm: ShaCryptAlgorithm, password: Buffer, salt: Buffer): Buffer {
  const alt = createHash(algorithm).update(password).update(salt).update(password).digest();
  const ctx = createHash(algorithm).update(password).update(salt);
  let left = password.length;
  for (; left > alt.length; left -= alt.length) ctx.update(alt);
  ctx.update(alt.subarray(0, left));
  for (let bits = password.length; bits > 0; bits >>>= 1) ctx.update(bits & 1 ? alt : password);
  return ctx.digest();
}

/**
 * SHA-crypt of `password` with `salt` (truncated to 16 characters; no `$`). `rounds` undefined means the default
 * 5000 rounds and no `rounds=` in the output; a given value is clamped to 1000..999,999,999 and written out.
 */
export function shaCrypt(algorithm: ShaCryptAlgorithm, password: Buffer, salt: string, rounds?: number): string {
  const saltText = salt.slice(0, 16);
  const saltBytes = Buffer.from(saltText, 'latin1');
  const count =
    rounds === undefined
      ? SHA_CRYPT_DEFAULT_ROUNDS
      : Math.min(Math.max(rounds, SHA_CRYPT_MIN_ROUNDS), SHA_CRYPT_MAX_ROUNDS);
  const a = initialDigest(algorithm, password, saltBytes);
  const dp = createHash(algorithm);
  for (let i = 0; i < password.length; i++) dp.update(password);
  const p = stretch(dp.digest(), password.length);
  const ds = createHash(algorithm);
  for (let i = 0; i < 16 + (a[0] as number); i++) ds.update(saltBytes);
  const s = stretch(ds.digest(), saltBytes.length);
  const c = stretchRounds(algorithm, a, p, s, count);
  const magic = algorithm === 'sha256' ? '$5$' : '$6$';
  const roundsPart = rounds === undefined ? '' : `rounds=${count}$`;
  return `${magic}${roundsPart}${saltText}$${encodeSha(algorithm, c)}`;
}
