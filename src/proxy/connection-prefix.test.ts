import assert from 'node:assert/strict';
import { connect as h2connect } from 'node:http2';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { proxyHeaderV1, proxyHeaderV2 } from './proxy-protocol.ts';
import { rawExchange, startEchoBackend, startPlane, table, upstream, type Backend, type TestPlane } from './test-harness.ts';

const CLIENT = { sourceAddress: '203.0.113.7', sourcePort: 51000, destinationAddress: '198.51.100.1', destinationPort: 443 };
const GET = (host: string, extra = ''): string => `GET /p HTTP/1.1\r\nhost: ${host}\r\n${extra}\r\n`;

/** Writes each chunk in its own write (a tick apart) and collects everything until the server closes. */
function exchange(port: number, chunks: readonly (string | Buffer)[], timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const received: Buffer[] = [];
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error('exchange timed out')));
    socket.on('data', (c: Buffer) => received.push(c));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(received).toString('latin1')));
    let i = 0;
    const next = (): void => {
      const chunk = chunks[i++];
      if (chunk === undefined) return;
      socket.write(chunk, () => setImmediate(next));
    };
    socket.once('connect', next);
  });
}

/** Headers the echo backend saw, from a raw HTTP/1.1 response (one response, connection closed). */
function echoed(raw: string): Record<string, string> {
  const body = raw.slice(raw.indexOf('{'), raw.lastIndexOf('}') + 1); // inside a chunked body
  return (JSON.parse(body) as { headers: Record<string, string> }).headers;
}

describe('PROXY protocol (ENABLE_PROXY_PROTOCOL)', () => {
  let a: Backend;
  let plane: TestPlane;
  let port: number;

  before(async () => {
    a = await startEchoBackend('a');
    plane = await startPlane(table({ 'app.test': [upstream(a.port, 'a')] }), { enableProxyProtocol: true, clientHeaderTimeoutMs: 500 });
    port = plane.port ?? 0;
  });
  after(async () => {
    await plane.stop(1000);
    await a.close();
  });

  it('takes the client address from a v1 header', async () => {
    const raw = await rawExchange(port, proxyHeaderV1(CLIENT).toString('latin1') + GET('app.test', 'connection: close\r\n'));
    assert.match(raw, /^HTTP\/1\.1 200 /);
    const h = echoed(raw);
    assert.equal(h['x-real-ip'], '203.0.113.7');
    assert.equal(h['x-forwarded-for'], '203.0.113.7');
  });

  it('takes the client address from a v2 header, also when it arrives a few bytes at a time', async () => {
    const header = proxyHeaderV2({ ...CLIENT, sourceAddress: '2001:db8::7', destinationAddress: '2001:db8::1' });
    const request = Buffer.from(GET('app.test', 'connection: close\r\n'), 'latin1');
    const chunks = [header.subarray(0, 5), header.subarray(5, 20), Buffer.concat([header.subarray(20), request.subarray(0, 3)]), request.subarray(3)];
    const raw = await exchange(port, chunks);
    assert.match(raw, /^HTTP\/1\.1 200 /);
    assert.equal(echoed(raw)['x-real-ip'], '2001:db8::7');
  });

  it('keeps the header addresses for every request of a keep-alive connection', async () => {
    const raw = await rawExchange(port, proxyHeaderV1(CLIENT).toString('latin1') + GET('app.test') + GET('app.test', 'connection: close\r\n'));
    assert.equal(raw.match(/HTTP\/1\.1 200 /g)?.length, 2);
    assert.equal(raw.match(/"x-real-ip":"203\.0\.113\.7"/g)?.length, 2);
  });

  it('keeps the connection own address for PROXY UNKNOWN and v2 LOCAL', async () => {
    for (const header of [proxyHeaderV1(undefined), proxyHeaderV2(undefined)]) {
      const raw = await rawExchange(port, header.toString('latin1') + GET('app.test', 'connection: close\r\n'));
      assert.equal(echoed(raw)['x-real-ip'], '127.0.0.1');
    }
  });

  it('closes a connection without a valid header, without a response', async () => {
    assert.equal(await rawExchange(port, GET('app.test')), '');
    assert.equal(await rawExchange(port, 'PROXY TCP4 1.2.3.4 5.6.7.8 1 99999\r\n' + GET('app.test')), '');
  });

  it('closes a connection whose header does not come in time', async () => {
    const started = Date.now();
    assert.equal(await exchange(port, ['PROXY TCP4 ']), '');
    assert.ok(Date.now() - started >= 400, 'waited for the header timeout');
  });
});

describe('without ENABLE_PROXY_PROTOCOL', () => {
  it('answers a PROXY header with 400, as an HTTP parser does', async () => {
    const a = await startEchoBackend('a');
    const plane = await startPlane(table({ 'app.test': [upstream(a.port, 'a')] }));
    try {
      const raw = await rawExchange(plane.port ?? 0, proxyHeaderV1(CLIENT).toString('latin1') + GET('app.test'));
      assert.match(raw, /^HTTP\/1\.1 400 /);
    } finally {
      await plane.stop(1000);
      await a.close();
    }
  });
});

describe('HTTP/1 next to h2c sniffing', () => {
  it('serves requests whose first bytes look like the HTTP/2 preface, and requests sent byte by byte', async () => {
    const a = await startEchoBackend('a');
    const plane = await startPlane(table({ 'app.test': [upstream(a.port, 'a')] }));
    try {
      const put = await rawExchange(plane.port ?? 0, 'PUT /p HTTP/1.1\r\nhost: app.test\r\ncontent-length: 2\r\nconnection: close\r\n\r\nhi');
      assert.match(put, /^HTTP\/1\.1 200 /);
      assert.match(put, /"method":"PUT"/);
      const request = GET('app.test', 'connection: close\r\n');
      const slow = await exchange(plane.port ?? 0, [...request.slice(0, 30), request.slice(30)]);
      assert.match(slow, /^HTTP\/1\.1 200 /);
    } finally {
      await plane.stop(1000);
      await a.close();
    }
  });

  it('closes a connection that sends nothing within the header timeout, without a response', async () => {
    const plane = await startPlane(table({}), { clientHeaderTimeoutMs: 300 });
    try {
      const started = Date.now();
      assert.equal(await rawExchange(plane.port ?? 0, ''), '');
      assert.ok(Date.now() - started >= 250, 'waited for the timeout');
    } finally {
      await plane.stop(1000);
    }
  });

  it('closes an idle HTTP/2 session after the keep-alive timeout (GOAWAY)', async () => {
    const plane = await startPlane(table({}), { clientKeepAliveTimeoutMs: 300 });
    const client = h2connect(`http://127.0.0.1:${plane.port ?? 0}`);
    client.on('error', () => undefined);
    try {
      const status = await new Promise<unknown>((resolve) => {
        const stream = client.request({ ':path': '/', ':authority': 'nope.test' });
        stream.on('response', (h) => resolve(h[':status']));
        stream.resume();
        stream.end();
      });
      assert.equal(status, 503);
      let goaway = false;
      client.once('goaway', () => (goaway = true));
      await new Promise<void>((resolve) => client.once('close', () => resolve()));
      assert.ok(goaway, 'berth sent GOAWAY before closing');
    } finally {
      client.destroy();
      await plane.stop(1000);
    }
  });
});
