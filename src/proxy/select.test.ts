import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newRoute, newVirtualHost, type Route, type RoutingTable } from '../routing-table.ts';
import { Balancers } from './balancers.ts';
import { parseReturn } from './default-root.ts';
import type { Selection } from './delivery.ts';
import { buildRouteIndex } from './route-index.ts';
import { Router, routedRequest, type RoutedRequest } from './select.ts';
import { rawExchange, readinessFor, startEchoBackend, startPlane, testConfig, upstream } from './test-harness.ts';
import { Tombstones } from './tombstones.ts';

async function router(t: RoutingTable, defaultRoot?: string): Promise<Router> {
  const config = await testConfig({ admission: 'start' });
  const readiness = readinessFor(config);
  readiness.update(t);
  const index = buildRouteIndex(t, { httpPort: 80, defaultRoot: defaultRoot !== undefined });
  return new Router({ index: () => index, readiness, tombstones: new Tombstones(0), balancers: new Balancers(), settings: { defaultRoot: parseReturn(defaultRoot), debug: config, version: 'v' } });
}

function req(path: string, over: Partial<RoutedRequest> = {}): RoutedRequest {
  const r = routedRequest({ host: 'a.test', requestUri: path, listenerPort: 80, clientAddress: '203.0.113.9', rawHeaders: [], http2: false });
  assert.ok(r);
  return { ...r, ...over };
}

const describeError = (s: Selection): string => (s.kind === 'error' ? `${s.error.status} ${s.error.code} ${s.error.body.trim()}` : s.kind);

describe('Router.select', () => {
  const U = [upstream(1000)];
  const routes: Route[] = [
    newRoute({ path: '/', upstreams: U }),
    newRoute({ path: '/in/', networkAccess: 'internal', upstreams: U }),
    newRoute({ path: '/g/', proto: 'grpc', upstreams: U }),
    newRoute({ path: '/u/', proto: 'uwsgi', upstreams: U }),
    newRoute({ path: '/none/', upstreams: [] }),
    newRoute({ path: '/d/', dest: '/x/', upstreams: U }),
  ];
  const t: RoutingTable = { hosts: [newVirtualHost({ hostname: 'a.test', routes })], issues: [] };

  it('answers 403 to clients outside the private ranges on an internal route', async () => {
    const r = await router(t);
    assert.match(describeError(r.select(req('/in/x'), new Set())), /^403 FORBIDDEN .*NETWORK_ACCESS=internal/);
    assert.equal(r.select(req('/in/x', { clientAddress: '10.1.1.1' }), new Set()).kind, 'upstream');
    assert.equal(r.select(req('/x'), new Set()).kind, 'upstream');
  });

  it('answers 502 for gRPC over HTTP/1 and for protocols the Node plane does not speak', async () => {
    const r = await router(t);
    assert.match(describeError(r.select(req('/g/x'), new Set())), /^502 PROTO_UNSUPPORTED .*speaks gRPC: use HTTP\/2/);
    assert.equal(r.select(req('/g/x', { http2: true }), new Set()).kind, 'upstream');
    assert.match(describeError(r.select(req('/u/x'), new Set())), /^502 PROTO_UNSUPPORTED .*speaks uwsgi/);
  });

  it('answers 502 for a route without backends, carries route and dest target with an upstream', async () => {
    const r = await router(t);
    assert.match(describeError(r.select(req('/none/'), new Set())), /^502 NO_BACKEND/);
    const s = r.select(req('/d/a%20b?q=1'), new Set());
    assert.equal(s.kind === 'upstream' ? `${s.route?.path} ${s.target}` : s.kind, '/d/ /x/a%20b?q=1');
  });

  it('skips tried backends and waits when none is left', async () => {
    const r = await router(t);
    assert.equal(r.select(req('/x'), new Set(['127.0.0.1:1000'])).kind, 'wait');
  });

  it('answers DEFAULT_ROOT and the auto-redirect with the request\'s values', async () => {
    const only: RoutingTable = { hosts: [newVirtualHost({ hostname: 'a.test', routes: [newRoute({ path: '/api/', upstreams: U })] })], issues: [] };
    const r = await router(only, '418 no root for $host');
    const s = r.select(req('/x'), new Set());
    assert.equal(s.kind === 'error' ? `${s.error.status} ${s.error.body}` : s.kind, '418 no root for a.test');
    const redirect = r.select(req('/api?x=1'), new Set());
    assert.equal(redirect.kind === 'error' ? `${redirect.error.status} ${redirect.error.location}` : redirect.kind, '301 http://a.test/api/?x=1');
  });
});

describe('NETWORK_ACCESS through the plane with a PROXY protocol client address', () => {
  it('answers 403 to an external source and routes a private one', async () => {
    const backend = await startEchoBackend('in');
    const plane = await startPlane(
      { hosts: [newVirtualHost({ hostname: 'in.test', routes: [newRoute({ path: '/', networkAccess: 'internal', upstreams: [upstream(backend.port)] })] })], issues: [] },
      { enableProxyProtocol: true },
    );
    try {
      const port = plane.port ?? 0;
      const get = 'GET / HTTP/1.1\r\nHost: in.test\r\nConnection: close\r\n\r\n';
      const outside = await rawExchange(port, `PROXY TCP4 203.0.113.7 127.0.0.1 51000 ${port}\r\n${get}`);
      assert.match(outside, /^HTTP\/1\.1 403 /);
      assert.match(outside, /x-berth-error: FORBIDDEN/i);
      const inside = await rawExchange(port, `PROXY TCP4 192.168.3.4 127.0.0.1 51000 ${port}\r\n${get}`);
      assert.match(inside, /^HTTP\/1\.1 200 /);
      assert.match(inside, /"x-real-ip":"192.168.3.4"/);
    } finally {
      await plane.stop(1000);
      await backend.close();
    }
  });
});

describe('routedRequest: hosts nginx answers with 400', () => {
  const at = (host: string) => routedRequest({ host, requestUri: '/', listenerPort: 80, clientAddress: '127.0.0.1', rawHeaders: [], http2: false });
  it('refuses `/`, `\\`, NUL and `..` in the host (ngx_http_validate_host), accepts ordinary names', () => {
    for (const bad of ['a/x', 'a\\b', 'a\0b', 'a..b', 'a.example.']) assert.equal(at(bad), undefined, JSON.stringify(bad));
    for (const good of ['a.example', '[::1]', 'user@a.example', '']) assert.ok(at(good), JSON.stringify(good));
  });
});
