import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAuthorization, parseHtpasswd } from './htpasswd.ts';

const basic = (credentials: string, scheme = 'Basic '): string =>
  `${scheme}${Buffer.from(credentials, 'latin1').toString('base64')}`;

describe('parseHtpasswd', () => {
  it('reads user:hash lines, skipping comments and blank lines, with LF or CRLF endings', () => {
    const text = [
      '# a comment',
      '',
      'alice:{PLAIN}a',
      '\r',
      'bob:$apr1$saltsalt$LrttParrLPdxvgutaSXWJ0\r',
      '   ',
      'carol:{PLAIN}c:a trailing comment',
      'dave:{PLAIN}d',
    ].join('\n');
    const { users, problems } = parseHtpasswd(text);
    assert.deepEqual([...users], [
      ['alice', '{PLAIN}a'],
      ['bob', '$apr1$saltsalt$LrttParrLPdxvgutaSXWJ0'],
      ['carol', '{PLAIN}c'],
      ['dave', '{PLAIN}d'],
    ]);
    assert.deepEqual(problems, []);
  });

  it('keeps the first line of a duplicated user, as nginx, and reports the later one', () => {
    const { users, problems } = parseHtpasswd('u:{PLAIN}first\nu:{PLAIN}second\n');
    assert.equal(users.get('u'), '{PLAIN}first');
    const reason = 'duplicate user: ignored, line 1 is used (as nginx does)';
    assert.deepEqual(problems, [{ line: 2, user: 'u', reason }]);
  });

  it('keeps a first line with an unusable hash (that user can never log in) rather than a later duplicate', () => {
    const { users, problems } = parseHtpasswd('u:abNANd1rDfiNc\nu:{PLAIN}second\n');
    assert.equal(users.get('u'), 'abNANd1rDfiNc');
    assert.deepEqual(
      problems.map((p) => [p.line, p.reason]),
      [
        [1, 'DES crypt is not supported (use htpasswd -B or -m)'],
        [2, 'duplicate user: ignored, line 1 is used (as nginx does)'],
      ],
    );
  });

  it('reports lines without a colon, empty users and unsupported or malformed hashes with their line numbers', () => {
    const text = [
      'nocolon',
      ':{PLAIN}x',
      'des:abNANd1rDfiNc',
      'yes:$y$j9T$abcdefghijklmnop$3dL1LkYnZM.OVXuVdnnaKVDlLYT92dRwOzDZ5XiVCe.',
      'bad:$apr1$salt$short',
      'empty:',
      'ok:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=',
    ].join('\r\n');
    const { users, problems } = parseHtpasswd(text);
    assert.deepEqual([...users.keys()], ['des', 'yes', 'bad', 'empty', 'ok']);
    assert.deepEqual(problems, [
      { line: 1, reason: "no ':' on the line (expected user:hash)" },
      { line: 2, reason: 'empty user name' },
      { line: 3, user: 'des', reason: 'DES crypt is not supported (use htpasswd -B or -m)' },
      { line: 4, user: 'yes', reason: 'yescrypt ($y$) is not supported (use htpasswd -B or -m)' },
      { line: 5, user: 'bad', reason: 'malformed apr1 hash' },
      { line: 6, user: 'empty', reason: 'empty password hash' },
    ]);
  });

  it('keeps user bytes as they are (no trimming; latin1 bytes), and a # only starts a comment at column 1', () => {
    const { users } = parseHtpasswd(' sp:{PLAIN}1\nj\xc3\xbcrgen:{PLAIN}2\nx#y:{PLAIN}3\n#z:{PLAIN}4');
    assert.deepEqual([...users.keys()], [' sp', 'j\xc3\xbcrgen', 'x#y']);
  });
});

describe('parseAuthorization', () => {
  it('decodes Basic credentials', () => {
    assert.deepEqual(parseAuthorization(basic('alice:secret')), { user: 'alice', password: 'secret' });
    assert.deepEqual(parseAuthorization(basic('alice:')), { user: 'alice', password: '' });
  });

  it('takes the scheme in any case, one or more spaces, and surrounding whitespace', () => {
    assert.deepEqual(parseAuthorization(basic('a:b', 'basic ')), { user: 'a', password: 'b' });
    assert.deepEqual(parseAuthorization(basic('a:b', 'BASIC ')), { user: 'a', password: 'b' });
    assert.deepEqual(parseAuthorization(basic('a:b', 'Basic    ')), { user: 'a', password: 'b' });
    assert.deepEqual(parseAuthorization(`  ${basic('a:b')} \t`), { user: 'a', password: 'b' });
  });

  it('splits at the first colon: the password may contain colons', () => {
    assert.deepEqual(parseAuthorization(basic('u:p:a:ss:')), { user: 'u', password: 'p:a:ss:' });
  });

  it('keeps bytes as latin1 characters', () => {
    const raw = Buffer.from('jürgen:pä:ss', 'utf8').toString('latin1');
    assert.deepEqual(parseAuthorization(basic(raw)), { user: 'j\xc3\xbcrgen', password: 'p\xc3\xa4:ss' });
    assert.deepEqual(parseAuthorization(basic('\xe9:\xff\x00')), { user: '\xe9', password: '\xff\x00' });
  });

  it('accepts a token without its = padding, as nginx (ngx_decode_base64 stops at the first =)', () => {
    assert.equal(Buffer.from('a:bc').toString('base64'), 'YTpiYw==');
    assert.deepEqual(parseAuthorization('Basic YTpiYw'), { user: 'a', password: 'bc' });
    assert.deepEqual(parseAuthorization('Basic YTpiYw=='), { user: 'a', password: 'bc' });
    assert.deepEqual(parseAuthorization('Basic YTpiYzE='), { user: 'a', password: 'bc1' });
  });

  it('refuses other schemes, a missing or bad token, a tab separator, and credentials without a user', () => {
    for (const value of [
      undefined,
      '',
      'Basic',
      'Basic ',
      'Basicx YTpi',
      'Basic\tYTpi',
      'Bearer YTpi',
      'Digest username="a"',
      'Basic YTpi!',
      'Basic YTp-',
      'Basic YTpiYw=',
      'Basic YTpiYw===',
      'Basic YTpiYw==x',
      'Basic YTpiY',
      'Basic YTpi YTpi',
      basic('nocolon'),
      basic(':password'),
      basic(''),
    ]) {
      assert.equal(parseAuthorization(value), undefined, String(value));
    }
  });
});
