import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createHash } from 'node:crypto';
import { newRoute, newVirtualHost, type RoutingTable, type Upstream } from '../routing-table.ts';
import { rawExchange, send, startEchoBackend, startPlane, upstream, waitFor, type Backend, type TestPlane } from './test-harness.ts';

/**
 * Basic auth in the Node data plane, as nginx-proxy sets it up: a user file in the htpasswd directory named after
 * the host (or `<host>_<sha1(path)>` for one path) protects it; no or wrong credentials get 401 with nginx's realm
 * and reach no backend; the files are watched. Real sockets, real files, the hash formats htpasswd and openssl write.
 */

const sha1 = (text: string): string => createHash('sha1').update(text).digest('hex');
const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`, 'latin1').toString('base64')}`;

// `openssl passwd -apr1 -salt saltsalt secret`, `printf secret | openssl sha1 -binary | base64`, bcrypt (libxcrypt) of "secret".
const APR1 = '$apr1$saltsalt$LrttParrLPdxvgutaSXWJ0';
const SHA = '{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=';
const BCRYPT = '$2y$04$abcdefghijklmnopqrstuu2r9OfJnfCsdneAXAGHnS4UpFFP8WIrW';

function routes(hostname: string, paths: readonly string[], ups: readonly Upstream[]) {
  return newVirtualHost({ hostname, routes: paths.map((path) => newRoute({ path, upstreams: ups })) });
}

describe('node data plane: Basic auth (htpasswd)', () => {
  let dir: string;
  let backend: Backend;
  let plane: TestPlane;
  let port: number;
  let seen: { url: string; authorization: string | undefined }[];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-htpasswd-'));
    writeFileSync(join(dir, 'app.test'), `# comment\nalice:${APR1}\nbob:${SHA}\ncarol:${BCRYPT}\ndave:abJnggxhB/yWI\n`);
    writeFileSync(join(dir, `paths.test_${sha1('/admin/')}`), `admin:${SHA}\r\n`);
    seen = [];
    backend = await startEchoBackend('a');
    backend.server.on('request', (req: IncomingMessage) => seen.push({ url: req.url ?? '', authorization: req.headers.authorization }));
    backend.server.on('upgrade', (_req: IncomingMessage, socket: Socket) => socket.end('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n'));
    const ups = [upstream(backend.port)];
    const first: RoutingTable = { hosts: [routes('app.test', ['/'], ups), routes('open.test', ['/'], ups), routes('paths.test', ['/', '/admin/'], ups)], issues: [] };
    plane = await startPlane(first, { htpasswdDir: dir });
    port = plane.port ?? 0;
  });

  after(async () => {
    await plane.stop(1000);
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers 401 with nginx-proxy\'s realm without credentials or with wrong ones, and no backend sees it', async () => {
    const before = seen.length;
    for (const authorization of [undefined, basic('alice', 'wrong'), basic('nobody', 'secret'), 'Bearer abc', 'Basic !!!']) {
      const r = await send(port, { headers: { host: 'app.test', ...(authorization === undefined ? {} : { authorization }) } });
      assert.equal(r.status, 401, `401 for ${String(authorization)}`);
      assert.equal(r.headers['www-authenticate'], 'Basic realm="Restricted app.test"');
      assert.equal(r.headers['x-berth-error'], 'UNAUTHORIZED');
    }
    assert.equal(seen.length, before);
  });

  it('lets the right credentials through ($apr1$, {SHA}, bcrypt), with the Authorization header passed on as nginx does', async () => {
    for (const user of ['alice', 'bob', 'carol', 'carol']) {
      const r = await send(port, { path: `/as-${user}`, headers: { host: 'app.test', authorization: basic(user, 'secret') } });
      assert.equal(r.status, 200, `200 for ${user}`);
      assert.deepEqual(seen.at(-1), { url: `/as-${user}`, authorization: basic(user, 'secret') });
    }
  });

  it('answers 20 concurrent requests of a bcrypt user (the slow check runs off the event loop, shared)', async () => {
    const answers = await Promise.all(Array.from({ length: 20 }, () => send(port, { headers: { host: 'app.test', authorization: basic('carol', 'secret') } })));
    assert.deepEqual([...new Set(answers.map((r) => r.status))], [200]);
  });

  it('refuses a user whose hash berth cannot check (DES crypt): fail closed', async () => {
    const r = await send(port, { headers: { host: 'app.test', authorization: basic('dave', 'secret') } });
    assert.equal(r.status, 401);
  });

  it('protects one path with a <host>_<sha1(path)> file and leaves the others open', async () => {
    assert.equal((await send(port, { path: '/', headers: { host: 'paths.test' } })).status, 200);
    const denied = await send(port, { path: '/admin/x', headers: { host: 'paths.test' } });
    assert.equal(denied.status, 401);
    assert.equal(denied.headers['www-authenticate'], 'Basic realm="Restricted paths.test/admin/"');
    assert.equal((await send(port, { path: '/admin/x', headers: { host: 'paths.test', authorization: basic('admin', 'secret') } })).status, 200);
    assert.equal((await send(port, { headers: { host: 'open.test' } })).status, 200);
  });

  it('applies to protocol switches (WebSocket) too', async () => {
    const head = (extra: string): string => `GET /ws HTTP/1.1\r\nHost: app.test\r\nConnection: Upgrade\r\nUpgrade: echo\r\n${extra}\r\n`;
    const denied = await rawExchange(port, head(''));
    assert.match(denied, /^HTTP\/1\.1 401 /);
    assert.match(denied, /\r\nwww-authenticate: Basic realm="Restricted app\.test"\r\n/i);
    assert.match(await rawExchange(port, head(`Authorization: ${basic('bob', 'secret')}\r\n`)), /^HTTP\/1\.1 101 /);
  });

  it('follows the files: a new file protects at once, a removed one opens, an edited one changes the passwords', async () => {
    const file = join(dir, 'open.test');
    writeFileSync(file, `eve:${SHA}\n`);
    await waitFor(async () => (await send(port, { headers: { host: 'open.test' } })).status === 401, 5000, 'the new file to protect open.test');
    assert.equal((await send(port, { headers: { host: 'open.test', authorization: basic('eve', 'secret') } })).status, 200);
    writeFileSync(file, `eve:{PLAIN}changed\n`);
    await waitFor(async () => (await send(port, { headers: { host: 'open.test', authorization: basic('eve', 'changed') } })).status === 200, 5000, 'the edited password');
    assert.equal((await send(port, { headers: { host: 'open.test', authorization: basic('eve', 'secret') } })).status, 401);
    unlinkSync(file);
    await waitFor(async () => (await send(port, { headers: { host: 'open.test' } })).status === 200, 5000, 'open.test to be open again');
  });
});
