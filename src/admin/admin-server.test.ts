import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { adminGet, formatExplanation, formatRoutes, startAdminServer, type AdminState, type RoutesView } from './index.ts';

const logger = pino({ level: 'silent' });
const view: RoutesView = {
  hosts: [
    { hostname: 'echo.127.0.0.1.nip.io', routes: [{ path: '/', backends: [{ container: 'echo-v1', address: '172.17.0.2', port: 80, network: 'bridge', state: 'ready', health: 'none' }] }] },
    { hostname: 'lonely.example', routes: [{ path: '/', backends: [] }] },
  ],
  issues: [
    { code: 'ERR_VIRTUAL_HOST_INVALID', containerId: 'x', containerName: 'bad', setting: 'VIRTUAL_HOST', value: 'a;b{', message: 'container bad: VIRTUAL_HOST is invalid' },
    { code: 'WARN_SETTING_CONFLICT', containerId: 'y', containerName: 'late', setting: 'VIRTUAL_DEST', value: '/v2/', message: 'container late: VIRTUAL_DEST="/v2/" is not applied' },
  ],
};
let ready = false;
const state: AdminState = {
  ready: () => ready,
  routes: () => view,
  explain: (q) => ({ query: q, container: { id: 'abcdef0123456789', name: q }, routed: true, backends: [], findings: ['a finding'] }),
};

describe('admin endpoint', () => {
  it('serves routes, explain and healthz over a unix socket, and replaces a stale socket file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-admin-'));
    const path = join(dir, 'admin.sock');
    writeFileSync(path, ''); // stale leftover: not a live socket
    const endpoint = `unix://${path}`;
    const server = await startAdminServer(endpoint, state, logger);
    assert.ok(server);
    try {
      assert.equal((await adminGet(endpoint, '/healthz')).status, 503);
      ready = true;
      assert.equal((await adminGet(endpoint, '/healthz')).status, 200);
      assert.deepEqual((await adminGet(endpoint, '/routes')).body, view);
      const explained = await adminGet(endpoint, '/explain?container=echo-v1');
      assert.equal((explained.body as { query: string }).query, 'echo-v1');
      assert.equal((await adminGet(endpoint, '/explain')).status, 400);
      // A second berth on the same endpoint does not steal it.
      assert.equal(await startAdminServer(endpoint, state, logger), undefined);
    } finally {
      await server.close();
    }
    await assert.rejects(adminGet(endpoint, '/routes'), /ERR_ADMIN_UNREACHABLE|no berth answers/);
  });

  it('formats routes and explanations for people', () => {
    const text = formatRoutes(view);
    assert.match(text, /^HOST\s+PATH\s+BACKEND\s+ADDRESS\s+STATE$/m);
    assert.match(text, /echo\.127\.0\.0\.1\.nip\.io\s+\/\s+echo-v1\s+172\.17\.0\.2:80\s+ready/);
    assert.match(text, /lonely\.example\s+\/\s+-\s+-\s+no reachable backend/);
    assert.match(text, /not routed \(1\):\n {2}bad: VIRTUAL_HOST is invalid \[ERR_VIRTUAL_HOST_INVALID\]\n/);
    assert.match(text, /routed, with warnings \(1\):\n {2}late: VIRTUAL_DEST="\/v2\/" is not applied \[WARN_SETTING_CONFLICT\]\n/);
    assert.match(formatExplanation(state.explain('app')), /^app \(abcdef012345\): routed\n {2}- a finding\n$/);
  });
});
