import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hostKind } from '../routing-table.ts';
import { parseHostname, parseVirtualHost } from './parse-host.ts';

describe('parseHostname: forms', () => {
  const cases: Array<[string, string, ReturnType<typeof hostKind>]> = [
    ['App.Example.COM', 'app.example.com', 'exact'],
    ['a.example.', 'a.example', 'exact'],
    ['under_score.example', 'under_score.example', 'exact'],
    ['localhost', 'localhost', 'exact'],
    ['*.Example.com', '*.example.com', 'leading-wildcard'],
    ['.example.com', '.example.com', 'leading-wildcard'],
    ['www.example.*', 'www.example.*', 'trailing-wildcard'],
    ['example.*', 'example.*', 'trailing-wildcard'],
    ['~^App\\d+\\.example\\.com$', '~^App\\d+\\.example\\.com$', 'regex'],
    ['~^foo\\.bar\\..*\\.nip\\.io', '~^foo\\.bar\\..*\\.nip\\.io', 'regex'],
    ['~^(?<sub>[a-z]+)\\.example\\.com$', '~^(?<sub>[a-z]+)\\.example\\.com$', 'regex'],
    ['172.20.0.1', '172.20.0.1', 'ipv4'],
    ['[fd00::1]', '[fd00::1]', 'ipv6'],
    ['[FD00::A]', '[fd00::a]', 'ipv6'],
    ['[::ffff:10.0.0.1]', '[::ffff:10.0.0.1]', 'ipv6'],
  ];
  for (const [item, name, kind] of cases) {
    it(`${item} -> ${name} (${kind})`, () => {
      const parsed = parseHostname(item);
      assert.deepEqual(parsed, { ok: true, value: name });
      assert.equal(hostKind(name), kind);
    });
  }
});

describe('parseHostname: invalid items name the item and why', () => {
  const cases: Array<[string, RegExp]> = [
    ['a.example:8080', /"a.example:8080" has a port: a port is not allowed here, use VIRTUAL_PORT/],
    ['*.example.com:80', /has a port/],
    ['[fd00::1]:8080', /"\[fd00::1\]:8080" has a port/],
    ['172.20.0.1:80', /has a port/],
    ['[fd00::zz]', /not a valid bracketed IPv6 address/],
    ['[fd00::1', /not a valid bracketed IPv6 address/],
    ['300.1.1.1', /not a valid IPv4 address/],
    ['a;b{', /"a;b\{" is not a valid host name/],
    ['a b.example', /not a valid host name/],
    ['a"b', /not a valid host name/],
    ['a.example\nb', /not a valid host name/],
    ['*', /not a valid host name/],
    ['*.*', /not a valid host name/],
    ['www.*.example.com', /not a valid host name/],
    ['*.example.*', /not a valid host name/],
    ['-a.example', /not a valid host name/],
    ['~', /regular expression is empty/],
    ['~^(?P<x>a)\\.example', /does not compile/],
    ['~^a++\\.example', /does not compile/],
    ['~\\Aapp\\.example', /\\A \(PCRE: start of subject\)/],
    ['~^a b', /whitespace/],
  ];
  for (const [item, reason] of cases) {
    it(JSON.stringify(item), () => {
      const parsed = parseHostname(item);
      assert.equal(parsed.ok, false);
      if (!parsed.ok) assert.match(parsed.reason, reason);
    });
  }
  it('rejects a name longer than 253 characters', () => {
    const long = `${'a'.repeat(60)}.`.repeat(5) + 'example';
    assert.equal(parseHostname(long).ok, false);
  });
});

describe('parseVirtualHost', () => {
  it('splits, trims, drops blanks, merges duplicates and sorts', () => {
    assert.deepEqual(parseVirtualHost(' b.example, ,A.example,a.example,, *.x.example '), { ok: true, value: ['*.x.example', 'a.example', 'b.example'] });
  });
  it('is undefined when unset or blank', () => {
    assert.equal(parseVirtualHost(undefined), undefined);
    assert.equal(parseVirtualHost(' , '), undefined);
  });
  it('one invalid item rejects the whole value, naming the item', () => {
    const parsed = parseVirtualHost('good.example,bad:81');
    assert.equal(parsed?.ok, false);
    if (parsed?.ok === false) assert.match(parsed.reason, /"bad:81"/);
  });
});
