import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UpstreamError } from './errors.ts';
import { MAX_HEAD_BYTES, ResponseParser, type ResponseEvents } from './response-parser.ts';

interface Outcome {
  heads: [number, string[]][];
  body: string;
  completes: number;
  reusable: boolean;
  keepAliveTimeoutMs: number | undefined;
  error: string | undefined;
}

const buf = (s: string): Buffer => Buffer.from(s, 'latin1');

/** A parser whose events are recorded in `out`; `hooks` run after recording (e.g. to stop the parser). */
function recorder(hooks: Partial<ResponseEvents> = {}): { parser: ResponseParser; out: Outcome } {
  const out: Outcome = { heads: [], body: '', completes: 0, reusable: false, keepAliveTimeoutMs: undefined, error: undefined };
  const parser = new ResponseParser({
    onHead: (status, headers) => {
      out.heads.push([status, headers]);
      hooks.onHead?.(status, headers);
    },
    onBody: (chunk) => {
      out.body += chunk.toString('latin1');
      hooks.onBody?.(chunk);
    },
    onComplete: (last) => {
      if (last !== undefined) out.body += last.toString('latin1');
      out.completes++;
      hooks.onComplete?.(last);
    },
  });
  return { parser, out };
}

/** Runs `fn`, records the UpstreamError code it throws (any other error fails the test). */
function capture(out: Outcome, fn: () => void): void {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof UpstreamError, `not an UpstreamError: ${String(err)}`);
    out.error = err.code;
  }
}

/** Feeds `pieces` as separate reads of the response to one request (then end() when `close`). */
function feed(pieces: readonly (string | Buffer)[], opts: { head?: boolean; close?: boolean } = {}): Outcome {
  const { parser, out } = recorder();
  parser.start(opts.head === true);
  capture(out, () => {
    for (const p of pieces) parser.execute(typeof p === 'string' ? buf(p) : p);
    if (opts.close === true) parser.end();
  });
  out.reusable = parser.reusable;
  out.keepAliveTimeoutMs = parser.keepAliveTimeoutMs;
  return out;
}

/** Feeds `response` whole, one byte per read, and in two reads split at every index: all must agree. */
function everySplit(response: string, opts: { head?: boolean; close?: boolean } = {}): Outcome {
  const whole = feed([response], opts);
  assert.deepEqual(feed([...response], opts), whole, 'one byte per read');
  for (let i = 1; i < response.length; i++) {
    assert.deepEqual(feed([response.slice(0, i), response.slice(i)], opts), whole, `split at ${i}`);
  }
  return whole;
}

const ok = (o: Outcome, heads: [number, string[]][], body: string, reusable: boolean): void =>
  assert.deepEqual(o, { heads, body, completes: 1, reusable, keepAliveTimeoutMs: undefined, error: undefined });
const failed = (o: Outcome, code: string): void => assert.equal(o.error, code);
const BAD = 'UPSTREAM_BAD_RESPONSE';
const CHUNKED_HEAD = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n';

describe('ResponseParser: Content-Length', () => {
  it('reads a body of Content-Length bytes, whatever the read boundaries (head split inside CRLFCRLF too)', () => {
    const o = everySplit('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhello');
    ok(o, [[200, ['Content-Length', '5', 'X-A', 'b']]], 'hello', true);
  });
  it('completes at the head with Content-Length: 0', () => {
    ok(everySplit('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'), [[200, ['Content-Length', '0']]], '', true);
  });
  const lengths: [string, boolean][] = [
    ['10, 10', true], ['10,10', true], ['10, 11', false], ['abc', false], ['-1', false], ['+5', false],
    ['1234567890123456', false], ['', false], ['10,', false], ['0x10', false], ['1 0', false],
  ];
  for (const [value, valid] of lengths) {
    it(`Content-Length: ${JSON.stringify(value)} -> ${valid ? 'ok' : 'error'}`, () => {
      const o = feed([`HTTP/1.1 200 OK\r\nContent-Length: ${value}\r\n\r\n0123456789`]);
      if (valid) ok(o, [[200, ['Content-Length', value]]], '0123456789', true);
      else assert.deepEqual([o.error, o.heads, o.completes], [BAD, [], 0]);
    });
  }
  it('accepts two equal Content-Length fields, rejects two different ones', () => {
    ok(feed(['HTTP/1.1 200 OK\r\nContent-Length: 2\r\ncontent-length: 2\r\n\r\nok']), [[200, ['Content-Length', '2', 'content-length', '2']]], 'ok', true);
    failed(feed(['HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok']), BAD);
  });
  it('accepts 15 digits (the head is delivered, the body awaited)', () => {
    const o = feed(['HTTP/1.1 200 OK\r\nContent-Length: 999999999999999\r\n\r\nabc']);
    assert.deepEqual([o.heads.length, o.body, o.completes, o.error], [1, 'abc', 0, undefined]);
  });
});

describe('ResponseParser: chunked', () => {
  it('de-chunks (extensions, uppercase hex, trailers dropped, last chunk) at every read boundary', () => {
    const alphabet = 'abcdefghijklmnopqrstuvwxyz';
    const response = `${CHUNKED_HEAD}5;ext=1\r\nhello\r\nA ; a=b;c="d"\r\n0123456789\r\n1A\r\n${alphabet}\r\n0\r\nX-Trailer: t\r\nX-Other: u\r\n\r\n`;
    ok(everySplit(response), [[200, ['Transfer-Encoding', 'chunked']]], `hello0123456789${alphabet}`, true);
  });
  it('completes with only the terminating 0 chunk', () => {
    ok(everySplit(`${CHUNKED_HEAD}0\r\n\r\n`), [[200, ['Transfer-Encoding', 'chunked']]], '', true);
  });
  const invalid: [string, string][] = [
    ['chunk size zz', 'zz\r\nhello\r\n0\r\n\r\n'],
    ['empty chunk size', '\r\nhello\r\n0\r\n\r\n'],
    ['14 hex digits', '00000000000005\r\nhello\r\n0\r\n\r\n'],
    ['negative size', '-5\r\nhello\r\n0\r\n\r\n'],
    ['no CRLF after chunk data', '5\r\nhelloX\r\n0\r\n\r\n'],
    ['bare LF after the size', '5\nhello\r\n0\r\n\r\n'],
    ['bare LF after chunk data', '5\r\nhello\n0\r\n\r\n'],
    ['bare LF line endings throughout', '5\nhello\n0\n\n'],
    ['bare LF ending the trailers', '0\r\n\n'],
    ['trailer without a colon', '0\r\nX-Trailer\r\n\r\n'],
  ];
  for (const [name, body] of invalid) {
    it(`${name} -> UPSTREAM_BAD_RESPONSE, at every read boundary`, () => {
      const o = everySplit(CHUNKED_HEAD + body);
      assert.deepEqual([o.error, o.completes], [BAD, 0]);
    });
  }
});

describe('ResponseParser: framing precedence (RFC 9112 6.3)', () => {
  it('a response to HEAD has no body, even with Content-Length or Transfer-Encoding', () => {
    ok(everySplit('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n', { head: true }), [[200, ['Content-Length', '5']]], '', true);
    ok(feed([`${CHUNKED_HEAD}`], { head: true }), [[200, ['Transfer-Encoding', 'chunked']]], '', true);
  });
  it('204 and 304 have no body', () => {
    ok(everySplit('HTTP/1.1 204 No Content\r\n\r\n'), [[204, []]], '', true);
    ok(feed(['HTTP/1.1 304 Not Modified\r\nContent-Length: 100\r\n\r\n']), [[304, ['Content-Length', '100']]], '', true);
  });
  it('drops 1xx heads: only the final response reaches onHead, in one read or several', () => {
    const response = 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';
    ok(everySplit(response), [[200, ['Content-Length', '2']]], 'ok', true);
    ok(feed(['HTTP/1.1 100 Continue\r\n\r\n', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok']), [[200, ['Content-Length', '2']]], 'ok', true);
  });
  it('101 Switching Protocols is an error', () => {
    failed(feed(['HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n']), BAD);
  });
  it('Transfer-Encoding wins over Content-Length: chunked, Content-Length removed, not reusable', () => {
    const o = everySplit('HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\nX: y\r\n\r\n5\r\nhello\r\n0\r\n\r\n');
    ok(o, [[200, ['Transfer-Encoding', 'chunked', 'X', 'y']]], 'hello', false);
  });
  it('Transfer-Encoding: gzip (chunked not last) is read until close, not reusable', () => {
    const o = feed(['HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nab', 'cd']);
    assert.deepEqual([o.body, o.completes, o.error], ['abcd', 0, undefined]);
    ok(everySplit('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nabcd', { close: true }), [[200, ['Transfer-Encoding', 'gzip']]], 'abcd', false);
  });
  it('chunked that is not the last coding is an error (one field or two)', () => {
    failed(feed(['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n']), BAD);
    failed(feed(['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n']), BAD);
    ok(feed(['HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: Chunked\r\n\r\n0\r\n\r\n']), [[200, ['Transfer-Encoding', 'gzip', 'Transfer-Encoding', 'Chunked']]], '', true);
  });
  it('without Content-Length and Transfer-Encoding the body runs until close', () => {
    ok(everySplit('HTTP/1.1 200 OK\r\nX: y\r\n\r\nsome body', { close: true }), [[200, ['X', 'y']]], 'some body', false);
  });
});

describe('ResponseParser: reusable and keep-alive', () => {
  const cases: [string, string, boolean][] = [
    ['HTTP/1.1 by default', 'HTTP/1.1 200 OK\r\n', true],
    ['HTTP/1.1 Connection: close', 'HTTP/1.1 200 OK\r\nConnection: close\r\n', false],
    ['HTTP/1.1 Connection: Keep-Alive, Close', 'HTTP/1.1 200 OK\r\nConnection: Keep-Alive, Close\r\n', false],
    ['HTTP/1.0 by default', 'HTTP/1.0 200 OK\r\n', false],
    ['HTTP/1.0 Connection: keep-alive', 'HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n', true],
    ['HTTP/1.0 chunked', 'HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n', false],
  ];
  for (const [name, head, reusable] of cases) {
    it(`${name} -> reusable ${String(reusable)}`, () => {
      const body = head.includes('chunked') ? '2\r\nok\r\n0\r\n\r\n' : 'Content-Length: 2\r\n\r\nok';
      const o = feed([`${head}${head.includes('chunked') ? '\r\n' : ''}${body}`]);
      assert.deepEqual([o.body, o.completes, o.reusable], ['ok', 1, reusable]);
    });
  }
  const extra: [string, string][] = [
    ['Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'],
    ['no body (204)', 'HTTP/1.1 204 No Content\r\n\r\n'],
    ['chunked', `${CHUNKED_HEAD}2\r\nok\r\n0\r\n\r\n`],
  ];
  for (const [name, response] of extra) {
    it(`bytes after a complete response (${name}) in the same read: completes once, not reusable`, () => {
      const o = feed([`${response}HTTP/1.1 200 OK\r\n\r\n`]);
      assert.deepEqual([o.heads.length, o.completes, o.reusable, o.error], [1, 1, false, undefined]);
    });
  }
  it('reads Keep-Alive: timeout=5, max=100 as 5000 ms', () => {
    const o = feed(['HTTP/1.1 200 OK\r\nKeep-Alive: timeout=5, max=100\r\nContent-Length: 0\r\n\r\n']);
    assert.deepEqual([o.keepAliveTimeoutMs, o.reusable], [5000, true]);
    const hint = feed(['HTTP/1.1 103 Early Hints\r\nKeep-Alive: timeout=9\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n']);
    assert.equal(hint.keepAliveTimeoutMs, undefined);
  });
});

describe('ResponseParser: strict syntax', () => {
  const statusLines: [string, number | null][] = [
    ['HTTP/1.1 200', 200], ['HTTP/1.1 200 ', 200], ['HTTP/1.0 404 Not Found', 404], ['HTTP/1.1 599 x y\tz', 599],
    ['HTTP/2 200', null], ['HTTP/1.1 20', null], ['HTTP/1.1 2000', null], ['HTTP/1.1 200OK', null], ['ICY 200 OK', null],
    ['http/1.1 200 OK', null], ['HTTP/1.1  200 OK', null], ['HTTP/1.2 200 OK', null], ['HTTP/1.1 099 x', null], [' HTTP/1.1 200 OK', null],
  ];
  for (const [line, status] of statusLines) {
    it(`status line ${JSON.stringify(line)} -> ${status ?? 'error'}`, () => {
      const o = feed([`${line}\r\nContent-Length: 0\r\n\r\n`]);
      if (status === null) failed(o, BAD);
      else ok(o, [[status, ['Content-Length', '0']]], '', line.startsWith('HTTP/1.1'));
    });
  }
  const badHeads: [string, string][] = [
    ['obs-fold', 'X-A: a\r\n  folded'],
    ['obs-fold with a colon', 'X-A: a\r\n\tb: c'],
    ['header without a colon', 'X-A a'],
    ['empty name', ': a'],
    ['space in the name', 'X A: a'],
    ['space before the colon', 'X-A : a'],
    ['NUL in a value', 'X-A: a\x00b'],
    ['control character in a value', 'X-A: a\x01b'],
    ['DEL in a value', 'X-A: a\x7fb'],
    ['bare CR in a value', 'X-A: a\rb'],
    ['bare CR ending a line', 'X-A: a\r\r\nX-B: b'],
    ['bare LF between lines', 'X-A: a\nX-B: b'],
  ];
  for (const [name, line] of badHeads) {
    it(`${name} -> UPSTREAM_BAD_RESPONSE`, () => {
      const o = everySplit(`HTTP/1.1 200 OK\r\n${line}\r\nContent-Length: 0\r\n\r\n`);
      assert.deepEqual([o.error, o.heads], [BAD, []]);
    });
  }
  it('trims values of SP/HT, keeps names as received and repeated fields in order', () => {
    const o = feed(['HTTP/1.1 200 OK\r\nX-Mixed-CASE: \t a  b \t\r\nSet-Cookie: a=1\r\nEmpty:\r\nset-cookie:b=2\r\nSet-Cookie:  c=3\r\nObs: caf\xe9\r\nContent-Length: 0\r\n\r\n']);
    ok(o, [[200, ['X-Mixed-CASE', 'a  b', 'Set-Cookie', 'a=1', 'Empty', '', 'set-cookie', 'b=2', 'Set-Cookie', 'c=3', 'Obs', 'caf\xe9', 'Content-Length', '0']]], '', true);
  });
});

describe('ResponseParser: head size limit', () => {
  /** A head (status line + fields, without the final CRLFCRLF) of exactly `size` bytes. */
  const headOf = (size: number): string => {
    const start = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Pad: ';
    return start + 'p'.repeat(size - start.length);
  };
  const TOO_LARGE = 'UPSTREAM_HEADER_TOO_LARGE';
  it('rejects a head larger than MAX_HEAD_BYTES, whole, in pieces, and before its end arrives', () => {
    failed(feed([`${headOf(MAX_HEAD_BYTES + 1)}\r\n\r\nok`]), TOO_LARGE);
    const response = `${headOf(MAX_HEAD_BYTES + 100)}\r\n\r\nok`;
    const inPieces = (s: string): string[] => s.match(/[^]{1,1000}/g) ?? [];
    failed(feed(inPieces(response)), TOO_LARGE);
    failed(feed(inPieces(response.slice(0, MAX_HEAD_BYTES + 50))), TOO_LARGE);
    failed(feed([response.slice(0, 100), response.slice(100, MAX_HEAD_BYTES + 50)]), TOO_LARGE);
  });
  it('accepts a head of exactly MAX_HEAD_BYTES, however the reads split it (inside the final CRLFCRLF too)', () => {
    const response = `${headOf(MAX_HEAD_BYTES)}\r\n\r\nok`;
    const summary = (o: Outcome): unknown[] => [o.error, o.heads.length, o.body, o.completes, o.reusable];
    assert.deepEqual(summary(feed([response])), [undefined, 1, 'ok', 1, true]);
    for (let i = MAX_HEAD_BYTES - 2; i <= MAX_HEAD_BYTES + 5; i++) {
      // Fails at MAX_HEAD_BYTES + 1..3 (the first read ends inside CRLFCRLF): see #head's no-terminator-yet check.
      assert.deepEqual(summary(feed([response.slice(0, i), response.slice(i)])), [undefined, 1, 'ok', 1, true], `split at MAX_HEAD_BYTES + ${i - MAX_HEAD_BYTES}`);
    }
  });
});

describe('ResponseParser: end(), idle and dead', () => {
  it('end() when idle (never started, or after a complete response) does nothing', () => {
    const { parser, out } = recorder();
    parser.end();
    parser.start(false);
    parser.execute(buf('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'));
    parser.end();
    assert.deepEqual([out.completes, parser.idle], [1, true]);
  });
  const closed: [string, string][] = [
    ['awaiting the head', ''],
    ['inside the head', 'HTTP/1.1 200 OK\r\nContent-Le'],
    ['after a 100 Continue', 'HTTP/1.1 100 Continue\r\n\r\n'],
    ['inside a Content-Length body', 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel'],
    ['inside a chunk', `${CHUNKED_HEAD}5\r\nhel`],
    ['before the last chunk', `${CHUNKED_HEAD}5\r\nhello\r\n`],
    ['inside the trailers', `${CHUNKED_HEAD}0\r\nX: y\r\n`],
  ];
  for (const [name, data] of closed) {
    it(`end() ${name} -> UPSTREAM_CLOSED, no onComplete`, () => {
      const o = feed(data === '' ? [] : [data], { close: true });
      assert.deepEqual([o.error, o.completes], ['UPSTREAM_CLOSED', 0]);
    });
  }
  it('end() completes a response read until close', () => {
    const { parser, out } = recorder();
    parser.start(false);
    parser.execute(buf('HTTP/1.1 200 OK\r\n\r\nbody'));
    assert.equal(out.completes, 0);
    parser.end();
    assert.deepEqual([out.body, out.completes, parser.reusable, parser.idle], ['body', 1, false, true]);
  });
  it('data while idle (before start, after a complete response) is UPSTREAM_BAD_RESPONSE', () => {
    const { parser, out } = recorder();
    capture(out, () => parser.execute(buf('HTTP/1.1 200 OK\r\n\r\n')));
    assert.deepEqual([out.error, out.heads], [BAD, []]);
    const o = feed(['HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', 'X']);
    assert.deepEqual([o.error, o.completes], [BAD, 1]);
  });
  it('after an error the parser is dead: later reads and end() emit nothing', () => {
    const { parser, out } = recorder();
    parser.start(false);
    capture(out, () => parser.execute(buf('HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n')));
    assert.deepEqual([out.error, parser.idle], [BAD, true]);
    out.error = undefined;
    capture(out, () => {
      parser.execute(buf('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
      parser.end();
    });
    assert.deepEqual([out.heads, out.body, out.completes, out.error], [[], '', 0, undefined]);
  });
});

describe('ResponseParser: stop() from a handler (abort)', () => {
  const stopped = (when: 'onHead' | 'onBody', reads: string[]): Outcome => {
    const hooks: Partial<ResponseEvents> = { [when]: () => ref.parser.stop() };
    const ref = recorder(hooks);
    ref.parser.start(false);
    capture(ref.out, () => {
      for (const r of reads) ref.parser.execute(buf(r));
      ref.parser.end();
    });
    return ref.out;
  };
  const cases: [string, 'onHead' | 'onBody', string[], string][] = [
    ['onHead, Content-Length body in the same read', 'onHead', ['HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'], ''],
    ['onHead, bodyless 204', 'onHead', ['HTTP/1.1 204 No Content\r\n\r\n'], ''],
    ['onHead, chunked', 'onHead', [`${CHUNKED_HEAD}2\r\nok\r\n0\r\n\r\n`], ''],
    ['onHead, until close', 'onHead', ['HTTP/1.1 200 OK\r\n\r\nab', 'cd'], ''],
    ['onBody, Content-Length, first of two reads', 'onBody', ['HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab', 'cd'], 'ab'],
    ['onBody, first of several chunks in one read', 'onBody', [`${CHUNKED_HEAD}2\r\nab\r\n2\r\ncd\r\n0\r\n\r\n`], 'ab'],
    ['onBody, part of a chunk', 'onBody', [`${CHUNKED_HEAD}4\r\nab`, 'cd\r\n0\r\n\r\n'], 'ab'],
    ['onBody, until close', 'onBody', ['HTTP/1.1 200 OK\r\n\r\nab', 'cd'], 'ab'],
  ];
  it('hands the last piece of a Content-Length body to onComplete, not onBody (one write for body and end)', () => {
    const pieces: string[] = [];
    const lasts: (string | undefined)[] = [];
    const parser = new ResponseParser({ onHead: () => undefined, onBody: (c) => void pieces.push(c.toString('latin1')), onComplete: (last) => void lasts.push(last?.toString('latin1')) });
    parser.start(false);
    parser.execute(buf('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab'));
    parser.execute(buf('cd'));
    assert.deepEqual([pieces, lasts], [['ab'], ['cd']]);
  });
  for (const [name, when, reads, body] of cases) {
    it(`${name}: no further events`, () => {
      const o = stopped(when, reads);
      assert.deepEqual([o.heads.length, o.body, o.completes, o.error], [1, body, 0, undefined]);
    });
  }
});

describe('ResponseParser: reuse', () => {
  it('parses responses in sequence on one parser, state reset by start()', () => {
    const { parser, out } = recorder();
    parser.start(false);
    parser.execute(buf('HTTP/1.1 200 OK\r\nKeep-Alive: timeout=5\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n'));
    assert.deepEqual([out.completes, parser.reusable, parser.keepAliveTimeoutMs, parser.idle], [1, true, 5000, true]);
    parser.start(true);
    assert.deepEqual([parser.idle, parser.awaitingHead], [false, true]);
    parser.execute(buf('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n'));
    parser.start(false);
    parser.execute(buf('HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n'));
    assert.equal(parser.awaitingHead, false);
    parser.execute(buf('\r\ndef'));
    assert.deepEqual(out.heads.map(([s]) => s), [200, 200, 404]);
    assert.deepEqual([out.body, out.completes, parser.reusable, parser.keepAliveTimeoutMs], ['abcdef', 3, true, undefined]);
  });
});
