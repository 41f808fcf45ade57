import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clientAddress, hostPortSuffix, hostWithoutPort, parseRequestTarget } from './request-target.ts';

describe('parseRequestTarget', () => {
  const cases: { url: string; host: string | undefined; want: { host: string; path: string; uri: string } }[] = [
    { url: '/', host: 'app.test', want: { host: 'app.test', path: '/', uri: '/' } },
    { url: '/a/b?x=1', host: 'APP.Test:8080', want: { host: 'app.test', path: '/a/b', uri: '/a/b?x=1' } },
    { url: '/', host: '[::1]:8080', want: { host: '[::1]', path: '/', uri: '/' } },
    { url: '/', host: '[::1]', want: { host: '[::1]', path: '/', uri: '/' } },
    { url: '/', host: 'app.test.', want: { host: 'app.test', path: '/', uri: '/' } },
    { url: '/', host: undefined, want: { host: '', path: '/', uri: '/' } },
    { url: 'http://Other.Test:81/p?q', host: 'app.test', want: { host: 'other.test', path: '/p', uri: '/p?q' } },
    { url: 'http://other.test', host: undefined, want: { host: 'other.test', path: '/', uri: '/' } },
    { url: 'http://other.test?q=1', host: undefined, want: { host: 'other.test', path: '/', uri: '/?q=1' } },
    { url: 'http://user@other.test/x', host: undefined, want: { host: 'other.test', path: '/x', uri: '/x' } },
  ];
  for (const c of cases) {
    it(`${c.url} with Host ${String(c.host)}`, () => {
      assert.deepEqual(parseRequestTarget(c.url, c.host), c.want);
    });
  }
});

describe('host helpers', () => {
  it('strips ports and lower-cases', () => {
    for (const [input, want] of [
      ['a.test:80', 'a.test'],
      ['A.TEST', 'a.test'],
      ['127.0.0.1:8080', '127.0.0.1'],
      ['[FD00::1]:443', '[fd00::1]'],
      [' a.test ', 'a.test'],
    ] as const) {
      assert.equal(hostWithoutPort(input), want, input);
    }
  });
  it('adds the port to Host unless 80 or 443', () => {
    assert.equal(hostPortSuffix(80), '');
    assert.equal(hostPortSuffix(443), '');
    assert.equal(hostPortSuffix(8080), ':8080');
  });
  it('shows IPv4-mapped client addresses as IPv4', () => {
    assert.equal(clientAddress('::ffff:10.0.0.1'), '10.0.0.1');
    assert.equal(clientAddress('::1'), '::1');
    assert.equal(clientAddress('10.0.0.2'), '10.0.0.2');
    assert.equal(clientAddress(undefined), '');
  });
});
