import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scanRequestHead, type SimpleRequestHead } from './request-head.ts';

const MAX = 16 * 1024;

function scan(text: string, max = MAX): ReturnType<typeof scanRequestHead> {
  return scanRequestHead(Buffer.from(text, 'latin1'), max);
}

function simple(text: string): SimpleRequestHead {
  const head = scan(text);
  assert.equal(typeof head, 'object', `expected a simple request: ${JSON.stringify(text)}`);
  return head as SimpleRequestHead;
}

describe('scanRequestHead: what the fast lane serves', () => {
  it('parses a plain GET: method, target, raw headers in order, trimmed values, head length', () => {
    const text = 'GET /a/b?c=d%20e HTTP/1.1\r\nHost: echo.127.0.0.1.nip.io\r\nAccept:  */*  \r\nX-Empty:\r\nX-Tab:\tv\t\r\n\r\n';
    const head = simple(`${text}GET /next`);
    assert.equal(head.method, 'GET');
    assert.equal(head.target, '/a/b?c=d%20e');
    assert.deepEqual(head.rawHeaders, ['Host', 'echo.127.0.0.1.nip.io', 'Accept', '*/*', 'X-Empty', '', 'X-Tab', 'v']);
    assert.equal(head.close, false);
    assert.equal(head.length, Buffer.byteLength(text, 'latin1'));
  });

  it('takes any token method but CONNECT, and reads Connection: close as a token', () => {
    assert.equal(simple('DELETE /x HTTP/1.1\r\nhost: a\r\n\r\n').method, 'DELETE');
    assert.equal(simple('HEAD / HTTP/1.1\r\nHost: a\r\n\r\n').method, 'HEAD');
    assert.equal(simple('GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Close\r\n\r\n').close, true);
    assert.equal(simple('GET / HTTP/1.1\r\nHost: a\r\nConnection: closed\r\n\r\n').close, false);
    assert.equal(scan('CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n'), 'not-simple');
  });

  it('keeps obs-text (bytes >= 0x80) in values as latin1, as node:http does', () => {
    assert.deepEqual(simple('GET / HTTP/1.1\r\nHost: a\r\nX-Name: caf\xe9\r\n\r\n').rawHeaders, ['Host', 'a', 'X-Name', 'caf\xe9']);
  });

  it('waits for the blank line, and leaves a head at or over the size limit to node:http (431)', () => {
    assert.equal(scan('GET / HTTP/1.1\r\nHost: a\r\n'), 'incomplete');
    assert.equal(scan('GET / HTTP/1.1\r\nHost: a\r\n\r'), 'incomplete');
    assert.equal(scan(''), 'incomplete');
    assert.equal(scan('GET / HTTP/1.1\r\nHost: a\r\nX: 0123456789\r\n\r\n', 30), 'not-simple');
    assert.equal(scan('GET / HTTP/1.1\r\nHost: a\r\nX: 0123456789', 30), 'not-simple');
  });
});

describe('scanRequestHead: what goes to node:http', () => {
  const notSimple: Array<[string, string]> = [
    ['a body by Content-Length', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc'],
    ['Content-Length: 0 too', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n'],
    ['a chunked body', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
    ['Transfer-Encoding in any case', 'GET / HTTP/1.1\r\nHost: a\r\ntransfer-ENCODING: gzip\r\n\r\n'],
    ['an upgrade', 'GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n'],
    ['Expect', 'PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n'],
    ['HTTP/1.0', 'GET / HTTP/1.0\r\nHost: a\r\n\r\n'],
    ['a lower-case method (node:http answers 400)', 'get / HTTP/1.1\r\nHost: a\r\n\r\n'],
    ['a method node:http does not know', 'FOO / HTTP/1.1\r\nHost: a\r\n\r\n'],
    ['a lower-case connect', 'connect / HTTP/1.1\r\nHost: a\r\n\r\n'],
    ['HTTP/1.0 without Host', 'GET / HTTP/1.0\r\n\r\n'],
    ['HTTP/2 preface-like', 'PRI * HTTP/2.0\r\n\r\n'],
    ['no Host', 'GET / HTTP/1.1\r\nAccept: */*\r\n\r\n'],
    ['no header at all', 'GET / HTTP/1.1\r\n\r\n'],
    ['two Host lines', 'GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n'],
    ['an absolute-form target', 'GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n'],
    ['an asterisk-form target', 'OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n'],
    ['a control character in the target', 'GET /a\x01b HTTP/1.1\r\nHost: a\r\n\r\n'],
    ['a non-ASCII byte in the target', 'GET /caf\xe9 HTTP/1.1\r\nHost: a\r\n\r\n'],
    ['two spaces after the method', 'GET  / HTTP/1.1\r\nHost: a\r\n\r\n'],
    ['a tab as separator', 'GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n'],
    ['a lower-case version', 'GET / http/1.1\r\nHost: a\r\n\r\n'],
    ['HTTP/1.10', 'GET / HTTP/1.10\r\nHost: a\r\n\r\n'],
    ['a method with a non-token byte', 'G(T / HTTP/1.1\r\nHost: a\r\n\r\n'],
    ['a space before the colon', 'GET / HTTP/1.1\r\nHost : a\r\n\r\n'],
    ['a header line without colon', 'GET / HTTP/1.1\r\nHost: a\r\nbogus\r\n\r\n'],
    ['an empty header name', 'GET / HTTP/1.1\r\nHost: a\r\n: v\r\n\r\n'],
    ['obs-fold', 'GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n  c\r\n\r\n'],
    ['a bare LF between lines', 'GET / HTTP/1.1\r\nHost: a\nX-A: b\r\n\r\n'],
    ['a bare CR in a value', 'GET / HTTP/1.1\r\nHost: a\r\nX-A: b\rc\r\n\r\n'],
    ['a NUL in a value', 'GET / HTTP/1.1\r\nHost: a\r\nX-A: b\x00c\r\n\r\n'],
    ['a DEL in a value', 'GET / HTTP/1.1\r\nHost: a\r\nX-A: b\x7fc\r\n\r\n'],
    ['a bare LF request line', 'GET / HTTP/1.1\nHost: a\r\n\r\n'],
  ];
  for (const [what, text] of notSimple) {
    it(what, () => assert.equal(scan(text), 'not-simple'));
  }

  it('a smuggling classic: Transfer-Encoding hidden behind obs-fold or whitespace never passes', () => {
    assert.equal(scan('GET / HTTP/1.1\r\nHost: a\r\nX: y\r\n Transfer-Encoding: chunked\r\n\r\n'), 'not-simple');
    assert.equal(scan('GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n'), 'not-simple');
    assert.equal(scan('GET / HTTP/1.1\r\nHost: a\r\n\tTransfer-Encoding: chunked\r\n\r\n'), 'not-simple');
  });

  it('a head split at any byte is incomplete until its blank line, then parses the same', () => {
    const text = 'GET /p HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n';
    for (let cut = 0; cut < text.length - 1; cut++) {
      const partial = scan(text.slice(0, cut));
      assert.equal(partial, 'incomplete', `cut at ${cut}`);
    }
    assert.equal(simple(text).close, true);
  });
});
