import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Route, RoutingTable } from '../routing-table.ts';
import { newRoute, newVirtualHost } from '../routing-table.ts';
import { RoundRobin } from './round-robin.ts';
import { buildRouteIndex, routeKey } from './route-index.ts';
import { upstream } from './test-harness.ts';

function route(path: string, port = 1000): Route {
  return newRoute({ path, upstreams: [upstream(port)] });
}

const TABLE: RoutingTable = {
  hosts: [
    newVirtualHost({ hostname: '*.wild.test', routes: [route('/', 1)] }),
    newVirtualHost({ hostname: '*.x.wild.test', routes: [route('/', 2)] }),
    newVirtualHost({ hostname: '.dot.test', routes: [route('/', 3)] }),
    newVirtualHost({ hostname: 'app.test', routes: [route('/', 4), route('/api/', 5), route('/api/v2/', 6)] }),
    newVirtualHost({ hostname: 'only-api.test', routes: [route('/api/', 7)] }),
    newVirtualHost({ hostname: 'www.*', routes: [route('/', 8)] }),
    newVirtualHost({ hostname: '~^re-[0-9]+\\.test$', routes: [route('/', 9)] }),
    newVirtualHost({ hostname: '~(invalid', routes: [route('/', 10)] }),
  ],
  issues: [],
};

function portFor(host: string, path = '/', defaultHost?: string): number | string {
  const found = buildRouteIndex(TABLE, defaultHost).lookup(host, path);
  return found.kind === 'route' ? (found.route.upstreams[0]?.port ?? -1) : found.kind;
}

describe('buildRouteIndex', () => {
  const cases: [host: string, path: string, want: number | string][] = [
    ['app.test', '/', 4],
    ['app.test', '/api', 'redirect'], // nginx auto_redirect: /api -> /api/
    ['app.test', '/api/x', 5],
    ['app.test', '/api/v2/x', 6],
    ['only-api.test', '/', 'no-location'],
    ['only-api.test', '/api/1', 7],
    ['a.wild.test', '/', 1],
    ['a.x.wild.test', '/', 2],
    ['wild.test', '/', 'no-host'],
    ['dot.test', '/', 3],
    ['a.dot.test', '/', 3],
    ['www.anything.example', '/', 8],
    ['re-12.test', '/', 9],
    ['re-x.test', '/', 'no-host'],
    ['unknown.test', '/', 'no-host'],
    ['', '/', 'no-host'],
  ];
  for (const [host, path, want] of cases) {
    it(`${host}${path} -> ${want}`, () => assert.equal(portFor(host, path), want));
  }
  it('falls back to DEFAULT_HOST only when it is a known host', () => {
    assert.equal(portFor('unknown.test', '/', 'app.test'), 4);
    assert.equal(portFor('', '/', 'app.test'), 4);
    assert.equal(portFor('unknown.test', '/', 'missing.test'), 'no-host');
  });
  it('lists route keys', () => {
    const index = buildRouteIndex(TABLE);
    assert.ok(index.routeKeys.has(routeKey('app.test', '/api/v2/')));
    assert.equal(index.routeKeys.size, 10);
  });
  it('is empty for an empty table', () => {
    assert.equal(buildRouteIndex({ hosts: [], issues: [] }).lookup('a', '/').kind, 'no-host');
  });
});

describe('RoundRobin', () => {
  it('rotates per key and keeps its place across calls', () => {
    const rr = new RoundRobin();
    const items = ['a', 'b', 'c'];
    assert.deepEqual([1, 2, 3, 4].map(() => rr.pick('k', items)), ['a', 'b', 'c', 'a']);
    assert.equal(rr.pick('other', items), 'a');
    assert.equal(rr.pick('k', items), 'b');
  });
  it('copes with shrinking lists and empty lists', () => {
    const rr = new RoundRobin();
    rr.pick('k', ['a', 'b', 'c']);
    rr.pick('k', ['a', 'b', 'c']);
    assert.equal(rr.pick('k', ['a']), 'a');
    assert.equal(rr.pick('k', []), undefined);
  });
  it('forgets keys that left the table', () => {
    const rr = new RoundRobin();
    rr.pick('k', ['a', 'b']);
    rr.retain(new Set());
    assert.equal(rr.pick('k', ['a', 'b']), 'a');
  });
});

describe('buildRouteIndex: host kinds and ports', () => {
  const t: RoutingTable = {
    hosts: [
      newVirtualHost({ hostname: '10.0.0.5', routes: [route('/', 11)] }),
      newVirtualHost({ hostname: '[fd00::1]', routes: [route('/', 12)] }),
      newVirtualHost({ hostname: 'alt.test', httpPort: 8080, routes: [route('/', 13)] }),
      newVirtualHost({ hostname: 'main.test', routes: [route('/', 14)] }),
      newVirtualHost({ hostname: 'same.test', httpPort: 80, routes: [route('/', 15)] }),
      newVirtualHost({ hostname: '~^Case\\.test$', routes: [route('/', 16)] }),
    ],
    issues: [],
  };
  const at = (host: string, port: number | undefined, defaultHost?: string): number | string => {
    const found = buildRouteIndex(t, { httpPort: 80, defaultHost }).lookup(host, '/', port);
    return found.kind === 'route' ? (found.route.upstreams[0]?.port ?? -1) : found.kind;
  };
  it('matches raw IPv4 and bracketed IPv6 hosts', () => {
    assert.equal(at('10.0.0.5', 80), 11);
    assert.equal(at('[fd00::1]', 80), 12); // parseRequestTarget turns `[fd00::1]:80` into `[fd00::1]`
  });
  it('serves a host with httpPort only on that port, the others only on HTTP_PORT', () => {
    assert.equal(at('alt.test', 8080), 13);
    assert.equal(at('alt.test', 80), 'no-host');
    assert.equal(at('main.test', 8080), 'no-host');
    assert.equal(at('main.test', 80), 14);
    assert.equal(at('main.test', undefined), 14);
    assert.equal(at('same.test', 80), 15);
    assert.equal(at('main.test', 9999), 'no-host');
  });
  it('applies DEFAULT_HOST only on the port it is served on', () => {
    assert.equal(at('unknown.test', 8080, 'alt.test'), 13);
    assert.equal(at('unknown.test', 80, 'alt.test'), 'no-host');
    assert.equal(at('unknown.test', 80, 'main.test'), 14);
    assert.equal(at('unknown.test', 8080, 'main.test'), 'no-host');
  });
  it('matches regex host names caseless, as nginx compiles server_name regexes (NGX_REGEX_CASELESS)', () => {
    assert.equal(at('case.test', 80), 16);
  });
  it('ignores ports when built without HTTP_PORT (is-this-host-known lookups)', () => {
    assert.equal(buildRouteIndex(t).lookup('alt.test', '/').kind, 'route');
  });
});

describe('buildRouteIndex: generated locations', () => {
  const t: RoutingTable = {
    hosts: [
      newVirtualHost({ hostname: 'api-only.test', routes: [route('/api/', 21)] }),
      newVirtualHost({ hostname: 'regex-only.test', routes: [newRoute({ path: '~ ^/x', match: { kind: 'regex', value: '^/x', caseInsensitive: false }, upstreams: [upstream(22)] })] }),
      newVirtualHost({ hostname: 'debug.test', debugEndpoint: true, routes: [route('/', 23)] }),
      newVirtualHost({ hostname: 'nodebug.test', debugEndpoint: false, routes: [route('/', 24)] }),
    ],
    issues: [],
  };
  const kind = (host: string, path: string, o: { defaultRoot?: boolean; debugEndpoint?: boolean } = {}): string => {
    const found = buildRouteIndex(t, { httpPort: 80, ...o }).lookup(host, path, 80);
    return found.kind === 'route' ? `route:${found.route.upstreams[0]?.port}` : found.kind;
  };
  it('adds DEFAULT_ROOT\'s `/` to hosts without a `/` route', () => {
    assert.equal(kind('api-only.test', '/', { defaultRoot: true }), 'default-root');
    assert.equal(kind('api-only.test', '/other', { defaultRoot: true }), 'default-root');
    assert.equal(kind('api-only.test', '/api/x', { defaultRoot: true }), 'route:21');
    assert.equal(kind('api-only.test', '/', { defaultRoot: false }), 'no-location');
  });
  it('lets a regex route beat DEFAULT_ROOT\'s `/`, as nginx does', () => {
    assert.equal(kind('regex-only.test', '/x/1', { defaultRoot: true }), 'route:22');
    assert.equal(kind('regex-only.test', '/y', { defaultRoot: true }), 'default-root');
  });
  it('serves /nginx-proxy-debug per host label, else per DEBUG_ENDPOINT', () => {
    assert.equal(kind('debug.test', '/nginx-proxy-debug'), 'debug');
    assert.equal(kind('nodebug.test', '/nginx-proxy-debug', { debugEndpoint: true }), 'route:24');
    assert.equal(kind('api-only.test', '/nginx-proxy-debug', { debugEndpoint: true, defaultRoot: true }), 'debug');
    assert.equal(kind('api-only.test', '/nginx-proxy-debug', { debugEndpoint: false, defaultRoot: true }), 'default-root');
  });
});
