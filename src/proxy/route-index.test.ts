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
    ['app.test', '/api', 4],
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
