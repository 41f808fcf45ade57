import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  downstreamResponseHeaderList,
  downstreamResponseHeaders,
  hostHeaderProblem,
  scanHasBody,
  scanRequestHeaders,
  upstreamRequestHeaderList,
  upstreamRequestHeaders,
  type ForwardContext,
} from './forwarded-headers.ts';

/** The hot-path (raw list) variants must compute what the object variants compute. */

const CTX: ForwardContext = { host: 'app.test', localPort: 8080, clientAddress: '10.0.0.9', requestUri: '/p?q=1', trustDownstreamProxy: true, upgrade: false };

function toObject(list: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < list.length; i += 2) {
    const name = (list[i] as string).toLowerCase();
    out[name] = out[name] === undefined ? (list[i + 1] as string) : `${out[name]}, ${list[i + 1] as string}`;
  }
  return out;
}

/** What node:http makes of raw lines (enough for these cases: duplicates joined, host first wins). */
function parsed(raw: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    const value = raw[i + 1] as string;
    if (out[name] === undefined) out[name] = value;
    else if (name !== 'host' && name !== 'content-length') out[name] = `${out[name]}, ${value}`;
  }
  return out;
}

const REQUESTS: { name: string; raw: string[]; trust?: boolean }[] = [
  { name: 'plain', raw: ['Host', 'App.Test:8080', 'User-Agent', 'wrk', 'Accept', '*/*'] },
  { name: 'forwarded, trusted', raw: ['Host', 'a', 'X-Forwarded-For', '1.1.1.1', 'X-Forwarded-For', '2.2.2.2', 'X-Forwarded-Proto', 'https', 'X-Forwarded-Host', 'f', 'X-Forwarded-Port', '443'] },
  { name: 'forwarded, untrusted', raw: ['Host', 'a', 'X-Forwarded-For', '1.1.1.1', 'X-Real-IP', '6.6.6.6', 'X-Original-URI', '/x', 'X-Forwarded-Ssl', 'on'], trust: false },
  {
    name: 'hop-by-hop, Connection-named, Proxy, Expect',
    raw: ['Host', 'a', 'Connection', 'keep-alive, X-Secret', 'X-Secret', 's', 'Keep-Alive', '5', 'TE', 'trailers', 'Proxy', 'http://evil', 'Expect', '100-continue', 'Transfer-Encoding', 'chunked', 'Upgrade', 'h2c', 'X-Keep', 'k'],
  },
  { name: 'empty forwarding values', raw: ['Host', 'a', 'X-Forwarded-For', '', 'X-Forwarded-Proto', '', 'Content-Length', '0'] },
];

describe('upstreamRequestHeaderList', () => {
  for (const c of REQUESTS) {
    it(`matches upstreamRequestHeaders: ${c.name}`, () => {
      const ctx = { ...CTX, trustDownstreamProxy: c.trust ?? true };
      const want = upstreamRequestHeaders(parsed(c.raw), ctx);
      const got = toObject(upstreamRequestHeaderList(c.raw, scanRequestHeaders(c.raw), ctx));
      assert.deepEqual(got, want);
    });
  }

  it('scans body presence (RFC 9112 section 6.3: Transfer-Encoding or a non-zero Content-Length)', () => {
    assert.equal(scanHasBody(scanRequestHeaders(['Host', 'a'])), false);
    assert.equal(scanHasBody(scanRequestHeaders(['Content-Length', '0'])), false);
    assert.equal(scanHasBody(scanRequestHeaders(['Content-Length', '12'])), true);
    assert.equal(scanHasBody(scanRequestHeaders(['Transfer-Encoding', 'chunked'])), true);
  });

  it('takes the first Host line, and counts them', () => {
    const scan = scanRequestHeaders(['host', 'one', 'Host', 'two']);
    assert.equal(scan.host, 'one');
    assert.equal(scan.hostLines, 2);
  });

  it('says what is wrong with the Host lines: more than one, or an empty one; none or one is fine', () => {
    assert.equal(hostHeaderProblem(scanRequestHeaders(['Host', 'a.test'])), undefined);
    assert.equal(hostHeaderProblem(scanRequestHeaders(['Accept', '*/*'])), undefined);
    assert.equal(hostHeaderProblem(scanRequestHeaders(['Host', 'a.test', 'HOST', 'a.test', 'host', 'b'])), '3 Host header lines');
    assert.equal(hostHeaderProblem(scanRequestHeaders(['Host', ''])), 'an empty Host header');
    assert.equal(hostHeaderProblem(scanRequestHeaders(['Host', ' \t'])), 'an empty Host header');
  });
});

describe('downstreamResponseHeaderList', () => {
  it('drops hop-by-hop and Connection-named headers, keeps repeated lines and bytes', () => {
    const raw = ['Content-Type', 'text/plain', 'Connection', 'keep-alive, X-Hop', 'X-Hop', 'h', 'Keep-Alive', 'timeout=5', 'Transfer-Encoding', 'chunked', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2', 'X-Latin', 'caf\u00e9'];
    const got = downstreamResponseHeaderList(raw);
    assert.deepEqual(got, ['Content-Type', 'text/plain', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2', 'X-Latin', 'caf\u00e9']);
    const object = downstreamResponseHeaders({ 'content-type': 'text/plain', connection: 'keep-alive, X-Hop', 'x-hop': 'h', 'set-cookie': ['a=1', 'b=2'] });
    assert.deepEqual(Object.keys(object).sort(), ['content-type', 'set-cookie']);
  });
});
