import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { escapeUri, normalizeUri, proxyPassUri } from './location-uri.ts';

describe('normalizeUri (nginx $uri)', () => {
  const cases: [string, string | undefined, string | undefined][] = [
    ['/', '/', undefined],
    ['/a/b?x=1', '/a/b', 'x=1'],
    ['/a?', '/a', ''],
    ['/a//b///c', '/a/b/c', undefined],
    ['/a/./b/.', '/a/b/', undefined],
    ['/a/b/../c', '/a/c', undefined],
    ['/a/b/..', '/a/', undefined],
    ['/a/%2e%2E/b', '/b', undefined],
    ['/%61%62c', '/abc', undefined],
    ['/a%2Fb', '/a/b', undefined],
    ['/a%252F', '/a%2F', undefined],
    ['/caf%C3%A9', '/caf\u00c3\u00a9', undefined], // bytes, one char each
    ['/..hidden/x', '/..hidden/x', undefined],
    ['/a#frag?x', '/a', undefined],
    ['/a?b#c', '/a', 'b'],
  ];
  for (const [uri, path, args] of cases) {
    it(`${uri} -> ${path}`, () => {
      const n = normalizeUri(uri);
      assert.equal(n?.path, path);
      assert.equal(n?.args, args);
    });
  }
  for (const bad of ['/..', '/a/../..', '/%2e%2e/', '/%zz', '/%4', '/a%00b', '*', 'x']) {
    it(`${bad} -> 400`, () => assert.equal(normalizeUri(bad), undefined));
  }
  it('marks escaped paths', () => {
    assert.equal(normalizeUri('/a%20b')?.quoted, true);
    assert.equal(normalizeUri('/a//b')?.quoted, false);
  });
});

describe('proxyPassUri (VIRTUAL_DEST)', () => {
  const via = (uri: string, location: string, dest: string): string => {
    const n = normalizeUri(uri);
    assert.ok(n);
    return proxyPassUri(dest, location.length, n, uri);
  };
  it('replaces the matched prefix and keeps the query', () => {
    assert.equal(via('/app1/foo?x=1', '/app1/', '/'), '/foo?x=1');
    assert.equal(via('/app1/', '/app1/', '/'), '/');
    assert.equal(via('/app1/a/b', '/app1/', '/base/'), '/base/a/b');
  });
  it('keeps nginx\'s double slash for a location without a trailing slash', () => {
    assert.equal(via('/foo/bar', '/foo', '/'), '//bar');
  });
  it('sends the request target untouched without a dest', () => {
    assert.equal(via('/a//b/../c?q', '/', ''), '/a//b/../c?q');
  });
  it('sends the normalised path, re-escaped only when the client escaped something', () => {
    assert.equal(via('/app1/x//y/./z', '/app1/', '/'), '/x/y/z');
    assert.equal(via('/app1/a%20b%2Fc', '/app1/', '/'), '/a%20b/c');
    assert.equal(via('/app1/%3F?q=1', '/app1/', '/'), '/%3F?q=1');
  });
  it('drops an empty query', () => {
    assert.equal(via('/app1/x?', '/app1/', '/'), '/x');
  });
});

describe('escapeUri', () => {
  it('escapes what nginx NGX_ESCAPE_URI escapes', () => {
    assert.equal(escapeUri('a b#c%d?e\u007f\u00e9/f'), 'a%20b%23c%25d%3Fe%7F%E9/f');
  });
});
