import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CredentialChecker, VerifyCache, verifyCacheKey } from './verify-cache.ts';

const BCRYPT = '$2b$04$abcdefghijklmnopqrstuu2r9OfJnfCsdneAXAGHnS4UpFFP8WIrW'; // "secret"
const SHA512_SLOW =
  '$6$rounds=123456$asaltof16chars..$BtCwjqMJGx5hrJhZywWvt0RLE8uZ4oPwcelCjmw2kSYu.Ec6ycULevoBK25fs2xXgMNrCzIMVcgEJAstJeonj1';
const APR1 = '$apr1$saltsalt$LrttParrLPdxvgutaSXWJ0'; // "secret"

const USERS: ReadonlyMap<string, string> = new Map([
  ['b', BCRYPT],
  ['s', SHA512_SLOW],
  ['a', APR1],
  ['p', '{PLAIN}secret'],
  ['des', 'abNANd1rDfiNc'],
]);

/** A verify function whose results the test releases by hand, counting calls. */
function manualVerify(): {
  verify: (password: string, hash: string) => Promise<boolean>;
  calls: string[];
  release: (ok: boolean) => void;
} {
  const calls: string[] = [];
  const waiting: ((ok: boolean) => void)[] = [];
  return {
    calls,
    verify: (password) => {
      calls.push(password);
      return new Promise((resolve) => waiting.push(resolve));
    },
    release: (ok) => {
      for (const resolve of waiting.splice(0)) resolve(ok);
    },
  };
}

describe('VerifyCache', () => {
  it('is bounded and evicts the least recently used entry', () => {
    const cache = new VerifyCache(3);
    cache.set('a', true);
    cache.set('b', false);
    cache.set('c', true);
    assert.equal(cache.get('a'), true); // a is now the most recent: b is the oldest
    cache.set('d', true);
    assert.equal(cache.size, 3);
    assert.equal(cache.get('b'), undefined);
    assert.equal(cache.get('a'), true);
    assert.equal(cache.get('c'), true);
    assert.equal(cache.get('d'), true);
    cache.set('c', false); // an update refreshes too
    cache.set('e', true);
    assert.equal(cache.get('a'), undefined);
    assert.equal(cache.get('c'), false);
  });

  it('defaults to 1024 entries', () => {
    const cache = new VerifyCache();
    for (let i = 0; i < 1100; i++) cache.set(String(i), true);
    assert.equal(cache.size, 1024);
    assert.equal(cache.get('75'), undefined);
    assert.equal(cache.get('76'), true);
  });

  it('keys on user, stored hash and password without ambiguity', () => {
    const key = verifyCacheKey('u', 'h', 'p');
    assert.equal(verifyCacheKey('u', 'h', 'p'), key);
    assert.notEqual(verifyCacheKey('u', 'h2', 'p'), key);
    assert.notEqual(verifyCacheKey('u', 'hp', ''), key);
    assert.notEqual(verifyCacheKey('uh', '', 'p'), key);
    assert.doesNotMatch(key, /p$/);
  });
});

describe('CredentialChecker', () => {
  it('answers synchronously for unknown users, unusable hashes and the single-hash schemes', () => {
    const checker = new CredentialChecker();
    assert.equal(checker.check(USERS, { user: 'nobody', password: 'secret' }), false);
    assert.equal(checker.check(USERS, { user: 'des', password: 'secret' }), false);
    assert.equal(checker.check(USERS, { user: 'p', password: 'secret' }), true);
    assert.equal(checker.check(USERS, { user: 'p', password: 'nope' }), false);
    assert.equal(checker.cache.size, 0, '{PLAIN} results are not worth caching');
  });

  it('checks a crypt() hash (apr1, ~2 ms) off the event loop once, then answers from the cache synchronously', async () => {
    const checker = new CredentialChecker();
    for (const [password, expected] of [['secret', true], ['nope', false]] as const) {
      const first = checker.check(USERS, { user: 'a', password });
      assert.ok(first instanceof Promise, `a promise for ${password}`);
      assert.equal(await first, expected);
      assert.equal(checker.check(USERS, { user: 'a', password }), expected);
    }
    assert.equal(checker.cache.size, 2);
  });

  it('computes a slow hash once, asynchronously, then answers from the cache synchronously', async () => {
    const checker = new CredentialChecker();
    const first = checker.check(USERS, { user: 'b', password: 'secret' });
    assert.ok(first instanceof Promise);
    assert.equal(await first, true);
    assert.equal(checker.check(USERS, { user: 'b', password: 'secret' }), true);
    const wrong = checker.check(USERS, { user: 'b', password: 'wrong' });
    assert.ok(wrong instanceof Promise);
    assert.equal(await wrong, false);
    assert.equal(checker.check(USERS, { user: 'b', password: 'wrong' }), false);
  });

  it('shares one computation between concurrent checks of the same credential', async () => {
    const manual = manualVerify();
    const checker = new CredentialChecker({ verify: manual.verify });
    const a = checker.check(USERS, { user: 's', password: 'pw' });
    const b = checker.check(USERS, { user: 's', password: 'pw' });
    const other = checker.check(USERS, { user: 's', password: 'other' });
    assert.ok(a instanceof Promise && b instanceof Promise && other instanceof Promise);
    assert.equal(a, b);
    assert.deepEqual(manual.calls, ['pw', 'other']);
    assert.equal(checker.pending, 2);
    manual.release(true);
    assert.deepEqual(await Promise.all([a, b, other]), [true, true, true]);
    assert.equal(checker.pending, 0);
    assert.equal(checker.check(USERS, { user: 's', password: 'pw' }), true);
    assert.deepEqual(manual.calls, ['pw', 'other']);
  });

  it('never hits an entry made for a hash that has since changed', async () => {
    const manual = manualVerify();
    const checker = new CredentialChecker({ verify: manual.verify });
    const before = checker.check(USERS, { user: 'b', password: 'pw' });
    manual.release(true);
    assert.equal(await before, true);
    const changed = new Map(USERS).set('b', BCRYPT.replace('$04$', '$05$'));
    const after = checker.check(changed, { user: 'b', password: 'pw' });
    assert.ok(after instanceof Promise);
    manual.release(false);
    assert.equal(await after, false);
    assert.equal(manual.calls.length, 2);
  });

  it('treats a failing verification as a refusal', async () => {
    const checker = new CredentialChecker({ verify: () => Promise.reject(new Error('boom')) });
    assert.equal(await checker.check(USERS, { user: 'b', password: 'secret' }), false);
    assert.equal(checker.pending, 0);
    assert.equal(checker.cache.size, 0, 'a failure is not cached');
  });
});
