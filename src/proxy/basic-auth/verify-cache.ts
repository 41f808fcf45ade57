import { createHash } from 'node:crypto';
import type { BasicCredentials } from './htpasswd.ts';
import type { HashScheme } from './password-hash.ts';
import { inspectHash, verifyPassword, verifyPasswordSync } from './password-hash.ts';

/**
 * Remembers password checks so that a crypt() hash (MD5-crypt ~2 ms, SHA-crypt ~10 ms, bcrypt ~70 ms) is computed once per
 * credential instead of on every request: browsers resend the same Authorization header with each request.
 */

export const DEFAULT_VERIFY_CACHE_SIZE = 1024;

const CHEAP: ReadonlySet<HashScheme> = new Set(['plain', 'sha', 'ssha']);

/**
 * The cache key of one check: sha256 over the length-prefixed user, stored hash and password, so neither the
 * password nor an ambiguous concatenation is kept, and an entry for a hash that has since changed is never hit.
 */
export function verifyCacheKey(user: string, hash: string, password: string): string {
  return createHash('sha256')
    .update(`${user.length}:${user}${hash.length}:${hash}`, 'latin1')
    .update(password, 'latin1')
    .digest('base64');
}

/** A bounded least-recently-used map from check key to result. */
export class VerifyCache {
  readonly #entries = new Map<string, boolean>();
  readonly #capacity: number;

  constructor(capacity = DEFAULT_VERIFY_CACHE_SIZE) {
    this.#capacity = Math.max(1, Math.floor(capacity));
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The cached result, marking the entry as most recently used; undefined when unknown. */
  get(key: string): boolean | undefined {
    const value = this.#entries.get(key);
    if (value === undefined) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, value);
    return value;
  }

  set(key: string, value: boolean): void {
    this.#entries.delete(key);
    this.#entries.set(key, value);
    if (this.#entries.size > this.#capacity) {
      // A Map iterates in insertion order: the first key is the least recently used.
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
  }

  clear(): void {
    this.#entries.clear();
  }
}

export interface CredentialCheckerOptions {
  readonly cacheSize?: number;
  /** Test seam: the asynchronous verification (default verifyPassword). */
  readonly verify?: (password: string, hash: string) => Promise<boolean>;
}

/**
 * Checks Basic credentials against an htpasswd user map. The answer is synchronous when it is cached, when the
 * user is unknown or the hash unusable, or for `{PLAIN}` / `{SHA}` / `{SSHA}` (one hash, cheaper than the cache
 * key); a Promise when a crypt() hash must be computed (in the worker thread: hash-worker.ts). Concurrent checks of
 * the same uncached credential share one computation.
 */
export class CredentialChecker {
  readonly cache: VerifyCache;
  readonly #pending = new Map<string, Promise<boolean>>();
  readonly #verify: (password: string, hash: string) => Promise<boolean>;

  constructor(options: CredentialCheckerOptions = {}) {
    this.cache = new VerifyCache(options.cacheSize);
    this.#verify = options.verify ?? verifyPassword;
  }

  /** Number of checks being computed now (in the worker thread). */
  get pending(): number {
    return this.#pending.size;
  }

  check(users: ReadonlyMap<string, string>, credentials: BasicCredentials): boolean | Promise<boolean> {
    const hash = users.get(credentials.user);
    if (hash === undefined) return false;
    const info = inspectHash(hash);
    if (info.scheme === undefined) return false;
    // Cheaper to compute than the cache key.
    if (CHEAP.has(info.scheme)) return verifyPasswordSync(credentials.password, hash);
    const key = verifyCacheKey(credentials.user, hash, credentials.password);
    const cached = this.cache.get(key);
    if (cached !== undefined) return cached;
    // Every crypt() scheme is checked off the event loop (hash-worker.ts): even apr1 costs ~2 ms, SHA-crypt ~10 ms.
    const running = this.#pending.get(key);
    if (running !== undefined) return running;
    const computation = this.#verify(credentials.password, hash)
      .then(
        (ok) => {
          this.cache.set(key, ok);
          return ok;
        },
        // A failure is refused but not remembered: the next request tries again.
        () => false,
      )
      .finally(() => this.#pending.delete(key));
    this.#pending.set(key, computation);
    return computation;
  }
}
