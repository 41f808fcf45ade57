import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { unsupportedRegex } from './nginx-regex.ts';
import { DEFAULT_PATH, parseDest, parsePath } from './parse-path.ts';

describe('parsePath: forms', () => {
  const cases: Array<[string | undefined, unknown]> = [
    [undefined, { text: '/', match: { kind: 'prefix', value: '/' } }],
    ['  ', { text: '/', match: { kind: 'prefix', value: '/' } }],
    ['/api/', { text: '/api/', match: { kind: 'prefix', value: '/api/' } }],
    [' /api ', { text: '/api', match: { kind: 'prefix', value: '/api' } }],
    ['^~ /static/', { text: '^~ /static/', match: { kind: 'prefix-no-regex', value: '/static/' } }],
    ['^~/static/', { text: '^~ /static/', match: { kind: 'prefix-no-regex', value: '/static/' } }],
    ['=  /health', { text: '= /health', match: { kind: 'exact', value: '/health' } }],
    ['=/health', { text: '= /health', match: { kind: 'exact', value: '/health' } }],
    ['~ ^/(app1|alt)/', { text: '~ ^/(app1|alt)/', match: { kind: 'regex', value: '^/(app1|alt)/', caseInsensitive: false } }],
    ['~^/a', { text: '~ ^/a', match: { kind: 'regex', value: '^/a', caseInsensitive: false } }],
    ['~*   \\.(png|jpg)$', { text: '~* \\.(png|jpg)$', match: { kind: 'regex', value: '\\.(png|jpg)$', caseInsensitive: true } }],
    ['~ ^/(?<app>[a-z]+)/\\d{2,3}', { text: '~ ^/(?<app>[a-z]+)/\\d{2,3}', match: { kind: 'regex', value: '^/(?<app>[a-z]+)/\\d{2,3}', caseInsensitive: false } }],
  ];
  for (const [raw, expected] of cases) {
    it(JSON.stringify(raw), () => assert.deepEqual(parsePath(raw), { ok: true, value: expected }));
  }
});

describe('parsePath: invalid values name the value and why', () => {
  const cases: Array<[string, RegExp]> = [
    ['api', /"api" is not a location path: it does not start with \//],
    ['@named', /does not start with \//],
    ['/a b', /it contains whitespace/],
    ['/a;b', /it contains ";"/],
    ['/a{b}', /it contains "\{"/],
    ['/a$b', /it contains "\$"/],
    ['^~ api', /after \^~, it does not start with \//],
    ['= ', /after =, it does not start with \//],
    ['~ ', /regular expression is empty/],
    ['~ ^/(?P<x>a)', /does not compile/],
    ['~ ^/(?>atomic)', /does not compile/],
    ['~ ^/a++', /does not compile/],
    ['~ (?i)^/a', /does not compile/],
    ['~ \\A/a', /\\A \(PCRE: start of subject\)/],
    ['~ ^/a\\z', /\\z/],
    ['~ ^/[[:digit:]]+', /POSIX class/],
    ['~ ^/\\x{41}', /\\x\{...\}/],
    ['~ ^/[]a]', /literal \]/],
    ['~ ^/a\nb', /control character/],
  ];
  for (const [raw, reason] of cases) {
    it(JSON.stringify(raw), () => {
      const parsed = parsePath(raw);
      assert.equal(parsed.ok, false);
      if (!parsed.ok) {
        assert.match(parsed.reason, reason);
        assert.ok(parsed.reason.startsWith(JSON.stringify(raw.trim())), parsed.reason);
      }
    });
  }
});

describe('unsupportedRegex', () => {
  it('accepts what PCRE and JavaScript read alike', () => {
    for (const re of ['^/a', '\\.php$', '^/(?<x>\\d+)', '[a-z\\-]+', '(?:a|b)*?', '\\bword\\b', '[^/]+', '^/a\\/b', '(?=a)(?!b)(?<=c)(?<!d)']) {
      assert.equal(unsupportedRegex(re, false), undefined, re);
    }
  });
});

describe('parseDest', () => {
  const prefix = DEFAULT_PATH;
  const regex = { text: '~ ^/a', match: { kind: 'regex', value: '^/a', caseInsensitive: false } } as const;
  it('empty is none', () => assert.deepEqual(parseDest(undefined, prefix), { ok: true, value: '' }));
  it('a URI path', () => assert.deepEqual(parseDest(' /app/ ', prefix), { ok: true, value: '/app/' }));
  it('refuses a relative value', () => assert.match(String(!parseDest('app', prefix).ok && (parseDest('app', prefix) as { reason: string }).reason), /does not start with \//));
  it('refuses a variable', () => assert.equal(parseDest('/$uri', prefix).ok, false));
  it('refuses a dest with a regex path, as nginx does', () => {
    const parsed = parseDest('/', regex);
    assert.equal(parsed.ok, false);
    if (!parsed.ok) assert.match(parsed.reason, /cannot be used with the regex path "~ \^\/a"/);
  });
  it('ignores a blank dest with a regex path', () => assert.deepEqual(parseDest('  ', regex), { ok: true, value: '' }));
});
