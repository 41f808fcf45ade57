import { createHash, timingSafeEqual } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { verifyInWorker } from './hash-worker.ts';
import { md5Crypt, shaCrypt, SHA_CRYPT_MAX_ROUNDS, SHA_CRYPT_MIN_ROUNDS } from './unix-crypt.ts';

/**
 * Password hashes of an htpasswd file, checked the way nginx's auth_basic does (ngx_crypt): `{PLAIN}`, `{SHA}`,
 * `{SSHA}` and `$apr1$` in nginx itself, everything else through the system crypt() (libxcrypt on Debian), whose
 * result nginx compares with the stored string (strcmp). Here: MD5-crypt `$1$`, SHA-crypt `$5$` / `$6$` and bcrypt
 * `$2a$` / `$2b$` / `$2y$`. DES crypt, yescrypt, scrypt, argon2, ... are reported as unsupported and never match
 * (fail closed).
 *
 * Passwords and hashes are byte strings: one character per byte (read the file and decode the Authorization
 * credentials as latin1), so bytes compare exactly. A password character above U+00FF never matches.
 */

export type HashScheme =
  | 'plain'
  | 'sha'
  | 'ssha'
  | 'apr1'
  | 'md5-crypt'
  | 'sha256-crypt'
  | 'sha512-crypt'
  | 'bcrypt';

export type HashInfo =
  | { readonly scheme: HashScheme }
  | { readonly scheme: undefined; readonly problem: string };


/**
 * Longest password (bytes) tried against the crypt() family (MD5-crypt, apr1, SHA-crypt, bcrypt). libxcrypt (the
 * crypt() of Debian's nginx) refuses passphrases of 512 bytes or more (CRYPT_MAX_PASSPHRASE_SIZE), so nginx never
 * accepts them for `$1$`, `$5$`, `$6$` and `$2?$`. nginx's own apr1 has no limit; berth applies the same one because
 * MD5-crypt and SHA-crypt cost grows with the password length (SHA-crypt with its square) and would stall the event
 * loop for a client sending a huge password.
 */
export const MAX_CRYPT_PASSWORD_BYTES = 511;

const UNSUPPORTED_HINT = 'is not supported (use htpasswd -B or -m)';

const CRYPT64 = '[./0-9A-Za-z]';
const APR1 = new RegExp(`^\\$apr1\\$([^$]{0,8})\\$${CRYPT64}{22}$`);
const MD5_CRYPT = new RegExp(`^\\$1\\$([^$]{0,8})\\$${CRYPT64}{22}$`);
const SHA_CRYPT = new RegExp(`^\\$([56])\\$(?:rounds=([0-9]+)\\$)?([^$]{0,16})\\$(${CRYPT64}+)$`);
const BCRYPT = new RegExp(`^\\$2[aby]\\$([0-9]{2})\\$${CRYPT64}{21}[.Oeu]${CRYPT64}{31}$`);
const SHA = /^\{SHA\}[A-Za-z0-9+/]{27}=$/;
const SSHA = /^\{SSHA\}((?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?)$/;

/** Formats crypt() knows but berth does not verify, by prefix, for the problem message. */
const UNSUPPORTED_PREFIXES: readonly (readonly [RegExp, string])[] = [
  [/^\$y\$/, 'yescrypt ($y$)'],
  [/^\$gy\$/, 'gost-yescrypt ($gy$)'],
  [/^\$7\$/, 'scrypt ($7$)'],
  [/^\$argon2/, 'argon2'],
  [/^\$2x\$/, 'bcrypt $2x$ (the buggy pre-2011 variant)'],
  [/^\$2\$/, 'bcrypt $2$ (the original variant)'],
  [/^\$sha1\$/, 'NetBSD sha1crypt ($sha1$)'],
  [/^\$md5[$,]/, 'Sun MD5 crypt ($md5$)'],
  [/^\$3\$/, 'NT hash ($3$)'],
  [/^_/, 'BSDi extended DES crypt (_)'],
  [new RegExp(`^${CRYPT64}{13}$`), 'DES crypt'],
];

function inspectShaCrypt(match: RegExpExecArray): HashInfo {
  const [, kind, roundsText, , encoded = ''] = match;
  const scheme = kind === '5' ? 'sha256-crypt' : 'sha512-crypt';
  if (encoded.length !== (kind === '5' ? 43 : 86)) return { scheme: undefined, problem: `malformed ${scheme} hash` };
  if (roundsText === undefined) return { scheme };
  const rounds = Number(roundsText);
  // crypt() would write a clamped or re-formatted number, so such a string can never be reproduced (libxcrypt
  // rejects it outright).
  if (roundsText.startsWith('0')) return { scheme: undefined, problem: `${scheme} rounds=${roundsText} has a leading 0` };
  if (rounds < SHA_CRYPT_MIN_ROUNDS || rounds > SHA_CRYPT_MAX_ROUNDS) {
    return {
      scheme: undefined,
      problem: `${scheme} rounds=${roundsText} is outside ${SHA_CRYPT_MIN_ROUNDS}..${SHA_CRYPT_MAX_ROUNDS}`,
    };
  }
  return { scheme };
}

function inspectKnown(hash: string): HashInfo | undefined {
  if (hash.startsWith('{PLAIN}')) return { scheme: 'plain' };
  if (hash.startsWith('{SSHA}')) {
    const m = SSHA.exec(hash);
    const ok = m !== null && Buffer.from(m[1] as string, 'base64').length >= 20;
    return ok ? { scheme: 'ssha' } : { scheme: undefined, problem: 'malformed {SSHA} hash' };
  }
  if (hash.startsWith('{SHA}')) {
    return SHA.test(hash) ? { scheme: 'sha' } : { scheme: undefined, problem: 'malformed {SHA} hash' };
  }
  if (hash.startsWith('$apr1$')) {
    return APR1.test(hash) ? { scheme: 'apr1' } : { scheme: undefined, problem: 'malformed apr1 hash' };
  }
  if (hash.startsWith('$1$')) {
    const ok = MD5_CRYPT.test(hash);
    return ok ? { scheme: 'md5-crypt' } : { scheme: undefined, problem: 'malformed MD5-crypt hash' };
  }
  if (hash.startsWith('$5$') || hash.startsWith('$6$')) {
    const m = SHA_CRYPT.exec(hash);
    const scheme = hash.startsWith('$5$') ? 'sha256-crypt' : 'sha512-crypt';
    return m === null ? { scheme: undefined, problem: `malformed ${scheme} hash` } : inspectShaCrypt(m);
  }
  if (/^\$2[aby]\$/.test(hash)) {
    const m = BCRYPT.exec(hash);
    const cost = m === null ? 0 : Number(m[1]);
    const ok = cost >= 4 && cost <= 31;
    return ok ? { scheme: 'bcrypt' } : { scheme: undefined, problem: 'malformed bcrypt hash' };
  }
  return undefined;
}

/** What a stored hash is: a supported scheme, or why it can never match. */
export function inspectHash(hash: string): HashInfo {
  if (hash === '') return { scheme: undefined, problem: 'empty password hash' };
  if (hash.includes('\0')) return { scheme: undefined, problem: 'password hash contains a NUL byte' };
  const known = inspectKnown(hash);
  if (known !== undefined) return known;
  const braced = /^\{[A-Za-z0-9-]*\}/.exec(hash);
  if (braced !== null) return { scheme: undefined, problem: `${braced[0]} ${UNSUPPORTED_HINT}` };
  for (const [re, name] of UNSUPPORTED_PREFIXES) {
    if (re.test(hash)) return { scheme: undefined, problem: `${name} ${UNSUPPORTED_HINT}` };
  }
  return { scheme: undefined, problem: `unrecognised password hash format ${UNSUPPORTED_HINT}` };
}

/** The scheme of a well-formed, supported hash; undefined for anything that can never match. */
export function hashScheme(hash: string): HashScheme | undefined {
  return inspectHash(hash).scheme;
}

/**
 * The password bytes as crypt() sees them: nginx hands C strings to ngx_crypt and crypt(), so the password ends at
 * its first NUL byte (`secret\0junk` checks as `secret`). Undefined for a character above U+00FF (not a byte string).
 */
function passwordBytes(password: string): Buffer | undefined {
  const nul = password.indexOf('\0');
  const text = nul === -1 ? password : password.slice(0, nul);
  // eslint-disable-next-line no-control-regex
  if (/[^\x00-\xff]/.test(text)) return undefined;
  return Buffer.from(text, 'latin1');
}

function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

function sameString(computed: string, stored: string): boolean {
  return sameBytes(Buffer.from(computed, 'latin1'), Buffer.from(stored, 'latin1'));
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * bcryptjs takes a JS string and hashes its UTF-8 encoding, so the password bytes must be valid UTF-8 to be passed
 * through unchanged; other byte sequences cannot be expressed and never match (fail closed).
 */
function bcryptPassword(bytes: Buffer): string | undefined {
  if (bytes.length > MAX_CRYPT_PASSWORD_BYTES) return undefined;
  try {
    return UTF8.decode(bytes);
  } catch {
    return undefined;
  }
}

function verifyShaCrypt(bytes: Buffer, hash: string): boolean {
  const m = SHA_CRYPT.exec(hash);
  if (m === null || bytes.length > MAX_CRYPT_PASSWORD_BYTES) return false;
  const [, kind, roundsText, salt = ''] = m;
  const rounds = roundsText === undefined ? undefined : Number(roundsText);
  return sameString(shaCrypt(kind === '5' ? 'sha256' : 'sha512', bytes, salt, rounds), hash);
}

function verifyMd5Crypt(bytes: Buffer, hash: string, magic: '$1$' | '$apr1$'): boolean {
  const m = (magic === '$1$' ? MD5_CRYPT : APR1).exec(hash);
  if (m === null || bytes.length > MAX_CRYPT_PASSWORD_BYTES) return false;
  return sameString(md5Crypt(bytes, m[1] as string, magic), hash);
}

/** {SSHA}: base64(sha1(password + salt) + salt), compared after re-encoding as nginx does. */
function verifySsha(bytes: Buffer, hash: string): boolean {
  const decoded = Buffer.from(hash.slice('{SSHA}'.length), 'base64');
  const salt = decoded.subarray(20);
  const digest = createHash('sha1').update(bytes).update(salt).digest();
  return sameString(`{SSHA}${Buffer.concat([digest, salt]).toString('base64')}`, hash);
}

/** Every scheme but bcrypt (which `verify*` route to bcryptjs). */
function verifyFast(bytes: Buffer, hash: string, scheme: Exclude<HashScheme, 'bcrypt'>): boolean {
  switch (scheme) {
    case 'plain':
      return sameBytes(bytes, Buffer.from(hash.slice('{PLAIN}'.length), 'latin1'));
    case 'sha':
      return sameString(`{SHA}${createHash('sha1').update(bytes).digest('base64')}`, hash);
    case 'ssha':
      return verifySsha(bytes, hash);
    case 'apr1':
      return verifyMd5Crypt(bytes, hash, '$apr1$');
    case 'md5-crypt':
      return verifyMd5Crypt(bytes, hash, '$1$');
    case 'sha256-crypt':
    case 'sha512-crypt':
      return verifyShaCrypt(bytes, hash);
  }
}

/**
 * Checks `password` against `hash` synchronously: for the single-hash schemes and the worker thread
 * (hash-worker-main.ts); on the event loop prefer `verifyPassword` (bcrypt ~70 ms at cost 10, SHA-crypt ~10 ms).
 * Never throws; a malformed or unsupported hash is false.
 */
export function verifyPasswordSync(password: string, hash: string): boolean {
  const scheme = hashScheme(hash);
  const bytes = passwordBytes(password);
  if (scheme === undefined || bytes === undefined) return false;
  if (scheme !== 'bcrypt') return verifyFast(bytes, hash, scheme);
  const text = bcryptPassword(bytes);
  return text !== undefined && bcrypt.compareSync(text, hash);
}

/**
 * Checks `password` against `hash` without blocking the event loop: `{PLAIN}`, `{SHA}` and `{SSHA}` (a single hash)
 * here, every crypt() scheme (MD5-crypt, SHA-crypt, bcrypt) in the worker thread of hash-worker.ts. Never rejects.
 */
export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  const scheme = hashScheme(hash);
  if (scheme === undefined) return false;
  if (scheme === 'plain' || scheme === 'sha' || scheme === 'ssha') return verifyPasswordSync(password, hash);
  return verifyInWorker(password, hash);
}
