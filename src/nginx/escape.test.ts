import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatServerAddress, includeLiteral, nginxEscape, unsafeAddress, unsafeHostname, unsafePath } from './escape.ts';

describe('nginxEscape', () => {
  it('leaves plain tokens alone (no HTML escaping)', () => {
    assert.equal(nginxEscape('app.example.test'), 'app.example.test');
    assert.equal(nginxEscape('[fd00::1]:80'), '[fd00::1]:80');
    assert.equal(nginxEscape('a&b<c>'), 'a&b<c>');
    assert.equal(nginxEscape(8080), '8080');
  });
  it('quotes values with spaces, ;, braces, # or quotes', () => {
    assert.equal(nginxEscape('a b'), '"a b"');
    assert.equal(nginxEscape('a;b{c}#'), '"a;b{c}#"');
    assert.equal(nginxEscape('say "hi" \\o/'), '"say \\"hi\\" \\\\o/"');
    assert.equal(nginxEscape(''), '""');
  });
  it('refuses $ and control characters', () => {
    assert.throws(() => nginxEscape('$host'), { code: 'ERR_TEMPLATE_INVALID' });
    assert.throws(() => nginxEscape('a\nb'), { code: 'ERR_TEMPLATE_INVALID' });
  });
});

describe('validators', () => {
  it('accepts ordinary, wildcard and IPv6 host names', () => {
    for (const h of ['app.example.test', '*.example.test', 'example.*', '172.20.0.1', '[fd00::1]', 'a_b-c']) {
      assert.equal(unsafeHostname(h), undefined, h);
    }
  });
  it('rejects host names that could break out of nginx syntax', () => {
    for (const h of ['a;b', 'a{b', 'a}b', 'a"b', "a'b", 'a\\b', 'a$b', 'a b', 'a\nb', 'a#b', '']) {
      assert.notEqual(unsafeHostname(h), undefined, JSON.stringify(h));
    }
  });
  it('checks paths', () => {
    assert.equal(unsafePath('/api/v1/'), undefined);
    assert.notEqual(unsafePath('api'), undefined);
    for (const p of ['/a b', '/a;', '/{', '/}', '/"', "/'", '/\\', '/$x', '/#', '/a\n']) assert.notEqual(unsafePath(p), undefined, p);
  });
  it('checks addresses and formats IPv6 bracketed', () => {
    assert.equal(unsafeAddress('172.17.0.2', 80), undefined);
    assert.equal(unsafeAddress('fd00::2', 80), undefined);
    assert.notEqual(unsafeAddress('example.com', 80), undefined);
    assert.notEqual(unsafeAddress('1.2.3.4', 0), undefined);
    assert.equal(formatServerAddress('fd00::2', 8080), '[fd00::2]:8080');
    assert.equal(formatServerAddress('10.0.0.1', 80), '10.0.0.1:80');
  });
  it('escapes glob characters in include paths', () => {
    assert.equal(includeLiteral('/etc/nginx/vhost.d/*.example.test'), '/etc/nginx/vhost.d/\\*.example.test');
  });
});
