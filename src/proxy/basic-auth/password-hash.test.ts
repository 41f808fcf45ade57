import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  hashScheme,
  inspectHash,
  MAX_CRYPT_PASSWORD_BYTES,
  verifyPassword,
  verifyPasswordSync,
} from './password-hash.ts';
import { DREPPER_VECTORS, LATIN1_BCRYPT, UNSUPPORTED, VECTORS } from './test-vectors.ts';
import { md5Crypt, shaCrypt } from './unix-crypt.ts';

const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');

describe('unix-crypt', () => {
  it("reproduces Drepper's SHA-crypt test vectors, rounds clamped to 1000", () => {
    for (const [setting, password, expected] of DREPPER_VECTORS) {
      const m = /^\$([56])\$(?:rounds=(\d+)\$)?(.*)$/.exec(setting);
      assert.ok(m);
      const rounds = m[2] === undefined ? undefined : Number(m[2]);
      const algorithm = m[1] === '5' ? 'sha256' : 'sha512';
      assert.equal(shaCrypt(algorithm, bytes(password), m[3] as string, rounds), expected, setting);
    }
  });

  it('MD5-crypt and apr1 match openssl passwd', () => {
    assert.equal(md5Crypt(bytes('secret'), 'saltsalt', '$1$'), '$1$saltsalt$9xy1btjgzLYfb7hivXtC//');
    assert.equal(md5Crypt(bytes('secret'), 'saltsalt', '$apr1$'), '$apr1$saltsalt$LrttParrLPdxvgutaSXWJ0');
    assert.equal(md5Crypt(bytes(''), 's0', '$1$'), '$1$s0$zWfXtTOfDrB2w6G/gVRmB.');
  });
});

describe('verifyPassword', () => {
  it('accepts the right password of every known-answer vector, async and sync', async () => {
    for (const v of VECTORS) {
      assert.equal(await verifyPassword(v.password, v.hash), true, `${v.hash} (${v.source})`);
      assert.equal(verifyPasswordSync(v.password, v.hash), true, `${v.hash} sync`);
    }
  });

  it('refuses a wrong password, a longer or shorter one, and another case', async () => {
    for (const v of VECTORS) {
      for (const wrong of [`${v.password}x`, v.password.slice(0, -1), v.password.toUpperCase(), 'wrong']) {
        if (wrong === v.password || (v.hash.startsWith('$2') && wrong.slice(0, 72) === v.password.slice(0, 72))) {
          continue;
        }
        assert.equal(await verifyPassword(wrong, v.hash), false, `${v.hash} with ${JSON.stringify(wrong)}`);
      }
    }
  });

  it('bcrypt uses the first 72 bytes only, like crypt()', async () => {
    const hash = '$2b$04$longlonglonglonglonglu7FMfxXvgMnX1YT3HGGzK7AuXFLUahTq';
    assert.equal(await verifyPassword('x'.repeat(72), hash), true);
    assert.equal(await verifyPassword('x'.repeat(71), hash), false);
  });

  it('ends the password at a NUL byte, as nginx passes C strings to crypt()', async () => {
    assert.equal(await verifyPassword('secret\0junk', '{PLAIN}secret'), true);
    assert.equal(await verifyPassword('secret\0junk', '$apr1$saltsalt$LrttParrLPdxvgutaSXWJ0'), true);
    assert.equal(await verifyPassword('\0secret', '{PLAIN}secret'), false);
  });

  it('refuses passwords longer than libxcrypt accepts (511 bytes) for the crypt() family', async () => {
    const hash = '$6$longpw$tCH0m6nIQ9kdtgUeoiZ19yXe8vGj79S5J7hn1GBYEKnYglJS.f.cGj7X.h5E2b06uxUc2X/xR9dMynyvaUSvp.';
    assert.equal(MAX_CRYPT_PASSWORD_BYTES, 511);
    assert.equal(await verifyPassword('L'.repeat(511), hash), true);
    assert.equal(await verifyPassword('L'.repeat(512), hash), false);
    const bcryptHash = '$2b$04$longlonglonglonglonglu7FMfxXvgMnX1YT3HGGzK7AuXFLUahTq';
    assert.equal(await verifyPassword('x'.repeat(512), bcryptHash), false);
  });

  it('fails closed for bcrypt over bytes that are not UTF-8, and for characters above U+00FF', async () => {
    assert.equal(await verifyPassword(LATIN1_BCRYPT.password, LATIN1_BCRYPT.hash), false);
    assert.equal(await verifyPassword('sécret', '{PLAIN}sécret'), true);
    assert.equal(await verifyPassword('s€cret', '{PLAIN}s€cret'), false);
  });

  it('is false, never a throw, for unsupported and malformed hashes', async () => {
    const bad = [
      ...UNSUPPORTED.map((v) => v.hash),
      '',
      'secret',
      '{SHA}bm90IGJhc2U2NA',
      '{SHA}!!!!!!!!!!!!!!!!!!!!!!!!!!!=',
      '{SSHA}c2hvcnQ=',
      '$apr1$saltsalt$LrttParrLPdxvgutaSXWJ',
      '$apr1$saltsalt9$LrttParrLPdxvgutaSXWJ0',
      '$1$saltsalt$9xy1btjgzLYfb7hivXtC/',
      '$5$saltsalt$0IyaXrmV7.sGNS6tirgqHLqX/G.FBvgkYA.lpPdS5s',
      '$5$rounds=10$roundstoolow$yfvwcWrQ8l/K0DAWyuPMDNHpIVlTQebY9l/gL972bIC',
      '$6$rounds=05000$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1',
      '$6$rounds=abc$saltsalt$x',
      '$2b$04$abcdefghijklmnopqrstuv2r9OfJnfCsdneAXAGHnS4UpFFP8WIrW',
      '$2b$4$abcdefghijklmnopqrstuu2r9OfJnfCsdneAXAGHnS4UpFFP8WIrW',
      '$2b$03$abcdefghijklmnopqrstuu2r9OfJnfCsdneAXAGHnS4UpFFP8WIrW',
      '$2x$04$abcdefghijklmnopqrstuu2r9OfJnfCsdneAXAGHnS4UpFFP8WIrW',
      '$2b$04$abcdefghijklmnopqrstuu2r9OfJnfCsdneAXAGHnS4UpFFP8WIr',
      '{PLAIN}sec\0ret',
    ];
    for (const hash of bad) {
      assert.equal(hashScheme(hash), undefined, hash);
      assert.equal(await verifyPassword('secret', hash), false, hash);
      assert.equal(verifyPasswordSync('secret', hash), false, hash);
    }
  });
});

describe('inspectHash', () => {
  it('names the scheme of each vector', () => {
    const expected: Record<string, string> = {
      '{PLAIN}': 'plain',
      '{SHA}': 'sha',
      '{SSHA}': 'ssha',
      '$apr1$': 'apr1',
      '$1$': 'md5-crypt',
      '$5$': 'sha256-crypt',
      '$6$': 'sha512-crypt',
      '$2': 'bcrypt',
    };
    for (const v of VECTORS) {
      const prefix = Object.keys(expected).find((p) => v.hash.startsWith(p));
      assert.equal(hashScheme(v.hash), prefix === undefined ? undefined : expected[prefix], v.hash);
    }
  });

  it('explains unsupported and malformed hashes', () => {
    const problem = (hash: string): string => {
      const info = inspectHash(hash);
      return info.scheme === undefined ? info.problem : 'ok';
    };
    assert.equal(problem('abNANd1rDfiNc'), 'DES crypt is not supported (use htpasswd -B or -m)');
    assert.match(problem(UNSUPPORTED[1]?.hash ?? ''), /^yescrypt \(\$y\$\) is not supported/);
    assert.match(problem('$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA'), /^argon2 is not supported/);
    assert.match(problem('{SMD5}abc'), /^\{SMD5\} is not supported/);
    assert.match(problem('$2x$04$abcdefghijklmnopqrstuu2r9OfJnfCsdneAXAGHnS4UpFFP8WIrW'), /\$2x\$/);
    assert.equal(problem('$5$rounds=10$x$abc'), 'malformed sha256-crypt hash');
    assert.equal(
      problem('$5$rounds=10$roundstoolow$yfvwcWrQ8l/K0DAWyuPMDNHpIVlTQebY9l/gL972bIC'),
      'sha256-crypt rounds=10 is outside 1000..999999999',
    );
    assert.equal(problem('$apr1$saltsalt$short'), 'malformed apr1 hash');
    assert.equal(problem(''), 'empty password hash');
    assert.match(problem('hello world'), /^unrecognised password hash format/);
  });


});
