import assert from 'node:assert/strict';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { cleanupAll, containerAddress, docker, ensureImages, runContainer } from './docker-cli.ts';
import { eventually, getFrom } from './http-client.ts';
import { grpcCall } from './conformance/clients.ts';

/**
 * The conformance table's test backends without berth (docker/echo: HTTPS_PORT, GRPC_PORT, GRPCS_PORT, UWSGI_PORT,
 * FASTCGI_PORT, RESPONSE_DELAY, remoteAddress, client.mjs): a backend must behave before a data plane is blamed.
 * Clients here speak each protocol by hand, straight to the container's address.
 */

let ip = '';
let name = '';

before(async () => {
  await ensureImages();
  await cleanupAll();
  const c = await runContainer({
    env: { NAME: 'backends', HTTPS_PORT: '443', GRPC_PORT: '50051', GRPCS_PORT: '50052', UWSGI_PORT: '3031', FASTCGI_PORT: '9000', PORTS: '8080', RESPONSE_DELAY: '0' },
  });
  name = c.name;
  ip = await containerAddress(c.id);
  await eventually(() => getFrom(ip, 80, 'x'));
});
after(() => cleanupAll());

/** Sends bytes, collects everything until the server closes or `until` says the answer is complete. */
function exchange(port: number, payload: Buffer, until: (data: Buffer) => boolean = () => false): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, ip);
    let data = Buffer.alloc(0);
    const timer = setTimeout(() => (socket.destroy(), reject(new Error(`no complete answer on ${port}: ${data.toString('latin1')}`))), 5000);
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(data);
    };
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      if (until(data)) done();
    });
    socket.on('end', done);
    socket.write(payload);
  });
}

function u16le(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b;
}

function uwsgiPacket(vars: Record<string, string>): Buffer {
  const block = Buffer.concat(Object.entries(vars).flatMap(([k, v]) => [u16le(k.length), Buffer.from(k), u16le(v.length), Buffer.from(v)]));
  return Buffer.concat([Buffer.from([0]), u16le(block.length), Buffer.from([0]), block]);
}

function fcgiRecord(type: number, id: number, content: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt8(1, 0);
  head.writeUInt8(type, 1);
  head.writeUInt16BE(id, 2);
  head.writeUInt16BE(content.length, 4);
  return Buffer.concat([head, content]);
}

function fcgiRequest(id: number, params: Record<string, string>): Buffer {
  const pairs = Buffer.concat(Object.entries(params).map(([k, v]) => Buffer.concat([Buffer.from([k.length, v.length]), Buffer.from(k), Buffer.from(v)])));
  const begin = Buffer.from([0, 1, 1, 0, 0, 0, 0, 0]); // role RESPONDER, flags KEEP_CONN
  return Buffer.concat([fcgiRecord(1, id, begin), fcgiRecord(4, id, pairs), fcgiRecord(4, id, Buffer.alloc(0)), fcgiRecord(5, id, Buffer.alloc(0))]);
}

/** The JSON bodies of every FCGI_STDOUT stream in `data`, per END_REQUEST. */
function fcgiAnswers(data: Buffer): Record<string, unknown>[] {
  const answers: Record<string, unknown>[] = [];
  let out = '';
  for (let at = 0; at + 8 <= data.length; ) {
    const type = data.readUInt8(at + 1);
    const length = data.readUInt16BE(at + 4);
    const content = data.subarray(at + 8, at + 8 + length);
    if (type === 6) out += content.toString('utf8');
    if (type === 3) {
      answers.push(JSON.parse(out.slice(out.indexOf('\r\n\r\n') + 4)) as Record<string, unknown>);
      out = '';
    }
    at += 8 + length + data.readUInt8(at + 6);
  }
  return answers;
}

describe('conformance backends (docker/echo)', () => {
  it('answers plain HTTP with the peer address, and no TLS', async () => {
    const reply = (await getFrom(ip, 8080, 'x', '/p')).json<Record<string, unknown>>();
    const gateway = await docker(['inspect', '-f', '{{.NetworkSettings.Gateway}}', name]);
    assert.deepEqual([reply['port'], reply['tls'], reply['servername'], reply['remoteAddress']], [8080, false, null, gateway], 'the host reaches the container from its gateway');
    assert.ok(Number(reply['remotePort']) > 0);
  });

  it('answers HTTPS on HTTPS_PORT and reports the SNI name it got', async () => {
    const get = (servername: string | undefined): Promise<Record<string, unknown>> =>
      new Promise((resolve, reject) => {
        const req = httpsRequest({ host: ip, port: 443, path: '/s', rejectUnauthorized: false, ...(servername ? { servername } : {}) }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve(JSON.parse(body) as Record<string, unknown>));
        });
        req.on('error', reject);
        req.end();
      });
    const withSni = await get('echo.test');
    assert.deepEqual([withSni['tls'], withSni['servername'], withSni['port'], withSni['url']], [true, 'echo.test', 443, '/s']);
    assert.equal((await get(undefined))['servername'], null, 'no SNI for an IP address');
  });

  it('speaks gRPC over h2c on GRPC_PORT and over TLS on GRPCS_PORT, trailers included', async () => {
    const plain = await grpcCall(50051, 'grpc.test', '/echo.Echo/Say', 'hi', { 'x-meta': 'm' }, 5000, `http://${ip}:50051`);
    assert.deepEqual([plain.status, plain.grpcStatus, plain.reply?.['message'], plain.reply?.['tls'], plain.reply?.['path']], [200, '0', 'hi', false, '/echo.Echo/Say']);
    assert.equal((plain.reply?.['metadata'] as Record<string, string>)['x-meta'], 'm');
    const secure = await grpcCall(50052, 'grpc.test', '/echo.Echo/Say', 'hi', {}, 5000, `https://${ip}:50052`);
    assert.deepEqual([secure.grpcStatus, secure.reply?.['tls']], ['0', true]);
    const failed = await grpcCall(50051, 'grpc.test', '/echo.Echo/Fail', 'x', {}, 5000, `http://${ip}:50051`);
    assert.deepEqual([failed.status, failed.grpcStatus, failed.grpcMessage, failed.reply], [200, '13', 'echo: failing on purpose', undefined]);
  });

  it('answers a uwsgi packet with a raw HTTP response listing the vars', async () => {
    const data = await exchange(3031, Buffer.concat([uwsgiPacket({ REQUEST_METHOD: 'POST', REQUEST_URI: '/u?x=1', CONTENT_LENGTH: '4' }), Buffer.from('body')]));
    const text = data.toString('utf8');
    assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
    const reply = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as { vars: Record<string, string>; body: string; proto: string };
    assert.deepEqual([reply.proto, reply.vars['REQUEST_URI'], reply.body], ['uwsgi', '/u?x=1', 'body']);
  });

  it('answers FastCGI requests with their params, keeping the connection with FCGI_KEEP_CONN', async () => {
    const params = { SCRIPT_FILENAME: '/var/www/public/index.php', DOCUMENT_ROOT: '/var/www/public' };
    const data = await exchange(9000, Buffer.concat([fcgiRequest(1, params), fcgiRequest(1, params)]), (d) => fcgiAnswers(d).length === 2);
    const [first, second] = fcgiAnswers(data);
    assert.deepEqual((first?.['params'] as Record<string, string>)['SCRIPT_FILENAME'], '/var/www/public/index.php');
    assert.deepEqual([first?.['keepConn'], first?.['requestOnConnection'], second?.['requestOnConnection']], [true, 1, 2]);
  });

  it('runs a client inside the container (client.mjs)', async () => {
    const out = JSON.parse(await docker(['exec', name, 'node', '/app/client.mjs', 'http://127.0.0.1:8080/in', 'h.test'])) as { status: number; body: string };
    assert.equal(out.status, 200);
    assert.equal((JSON.parse(out.body) as { headers: Record<string, string> }).headers['host'], 'h.test');
  });

  it('delays every answer by RESPONSE_DELAY', async () => {
    const c = await runContainer({ env: { RESPONSE_DELAY: '400' } });
    const slowIp = await containerAddress(c.id);
    await eventually(() => getFrom(slowIp, 80, 'x', '/healthz'));
    const t0 = Date.now();
    assert.equal((await getFrom(slowIp, 80, 'x')).status, 200);
    assert.ok(Date.now() - t0 >= 350, `answered after ${Date.now() - t0} ms`);
  });
});
