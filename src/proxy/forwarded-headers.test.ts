import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { downstreamResponseHeaders, serializeRequestHead, upstreamRequestHeaders, type ForwardContext } from './forwarded-headers.ts';

const CTX: ForwardContext = {
  host: 'app.test',
  localPort: 8080,
  clientAddress: '10.0.0.9',
  requestUri: '/p?q=1',
  trustDownstreamProxy: true,
  upgrade: false,
};

describe('upstreamRequestHeaders', () => {
  const incomingForwarded = {
    'x-forwarded-for': '1.1.1.1',
    'x-forwarded-proto': 'https',
    'x-forwarded-host': 'front.test',
    'x-forwarded-port': '443',
  };
  const cases: { name: string; incoming: Record<string, string>; ctx?: Partial<ForwardContext>; want: Record<string, string> }[] = [
    {
      name: 'no incoming forwarding headers',
      incoming: {},
      want: {
        host: 'app.test:8080',
        'x-real-ip': '10.0.0.9',
        'x-forwarded-for': '10.0.0.9',
        'x-forwarded-host': 'app.test',
        'x-forwarded-proto': 'http',
        'x-forwarded-ssl': 'off',
        'x-forwarded-port': '8080',
        'x-original-uri': '/p?q=1',
      },
    },
    {
      name: 'trusted incoming headers pass through, XFF appended',
      incoming: incomingForwarded,
      want: {
        'x-forwarded-for': '1.1.1.1, 10.0.0.9',
        'x-forwarded-host': 'front.test',
        'x-forwarded-proto': 'https',
        'x-forwarded-ssl': 'on',
        'x-forwarded-port': '443',
      },
    },
    {
      name: 'untrusted incoming headers are overwritten',
      incoming: { ...incomingForwarded, 'x-real-ip': '6.6.6.6', 'x-original-uri': '/forged', 'x-forwarded-ssl': 'on' },
      ctx: { trustDownstreamProxy: false },
      want: {
        'x-real-ip': '10.0.0.9',
        'x-forwarded-for': '10.0.0.9',
        'x-forwarded-host': 'app.test',
        'x-forwarded-proto': 'http',
        'x-forwarded-ssl': 'off',
        'x-forwarded-port': '8080',
        'x-original-uri': '/p?q=1',
      },
    },
    {
      name: 'empty incoming values count as absent',
      incoming: { 'x-forwarded-for': '', 'x-forwarded-proto': '', 'x-forwarded-port': '' },
      want: { 'x-forwarded-for': '10.0.0.9', 'x-forwarded-proto': 'http', 'x-forwarded-port': '8080' },
    },
    { name: 'port 80 is not added to Host', incoming: {}, ctx: { localPort: 80 }, want: { host: 'app.test', 'x-forwarded-port': '80' } },
    { name: 'port 443 is not added to Host', incoming: {}, ctx: { localPort: 443 }, want: { host: 'app.test' } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const out = upstreamRequestHeaders(c.incoming, { ...CTX, ...c.ctx });
      for (const [k, v] of Object.entries(c.want)) assert.equal(out[k], v, k);
    });
  }

  it('drops Proxy, Expect, hop-by-hop headers and headers named in Connection', () => {
    const out = upstreamRequestHeaders(
      {
        proxy: 'http://evil',
        expect: '100-continue',
        connection: 'keep-alive, X-Secret',
        'x-secret': 's',
        'keep-alive': 'timeout=5',
        te: 'trailers',
        trailer: 'x',
        'transfer-encoding': 'chunked',
        upgrade: 'websocket',
        'proxy-connection': 'keep-alive',
        'x-app': 'kept',
        cookie: 'a=b',
      },
      CTX,
    );
    for (const gone of ['proxy', 'expect', 'connection', 'x-secret', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'proxy-connection']) {
      assert.equal(out[gone], undefined, gone);
    }
    assert.equal(out['x-app'], 'kept');
    assert.equal(out['cookie'], 'a=b');
  });

  it('keeps Upgrade and sends Connection: upgrade for protocol switches', () => {
    const out = upstreamRequestHeaders({ connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-key': 'k' }, { ...CTX, upgrade: true });
    assert.equal(out['upgrade'], 'websocket');
    assert.equal(out['connection'], 'upgrade');
    assert.equal(out['sec-websocket-key'], 'k');
  });
});

describe('downstreamResponseHeaders', () => {
  it('removes hop-by-hop headers and keeps the rest (multi-valued too)', () => {
    const out = downstreamResponseHeaders({
      connection: 'close, x-hop',
      'x-hop': '1',
      'keep-alive': 'timeout=5',
      'transfer-encoding': 'chunked',
      'set-cookie': ['a=1', 'b=2'],
      'content-type': 'text/plain',
    });
    assert.deepEqual(out, { 'set-cookie': ['a=1', 'b=2'], 'content-type': 'text/plain' });
  });
});

describe('serializeRequestHead', () => {
  it('writes the request line, one line per value and a blank line', () => {
    assert.equal(
      serializeRequestHead('GET', '/ws', { host: 'a:1', 'x-m': ['1', '2'] }),
      'GET /ws HTTP/1.1\r\nhost: a:1\r\nx-m: 1\r\nx-m: 2\r\n\r\n',
    );
  });
});
