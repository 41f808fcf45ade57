import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RoutingTable, Upstream } from './routing-table.ts';
import { newRoute, newVirtualHost } from './routing-table.ts';
import { hostChanges, newIssues, withPlaneIssues } from './table-changes.ts';

const u = (over: Partial<Upstream> = {}): Upstream => ({
  containerId: 'id', containerName: 'echo', address: '172.17.0.2', port: 80, network: 'bridge', health: 'none',
  draining: false, probe: { kind: 'tcp', intervalMs: 2000, timeoutMs: 1000 }, ...over,
});
const table = (upstreams: Upstream[] | null, issues: RoutingTable['issues'] = []): RoutingTable => ({
  hosts: upstreams === null ? [] : [newVirtualHost({ hostname: 'a.example', routes: [newRoute({ path: '/', upstreams })] })],
  issues,
});

describe('hostChanges', () => {
  it('says added, updated (with the state that changed) and removed', () => {
    assert.deepEqual(hostChanges(table(null), table([u()])), [{ host: 'a.example', change: 'added', backends: ['echo@172.17.0.2:80'] }]);
    assert.deepEqual(hostChanges(table([u({ health: 'starting' })]), table([u({ health: 'healthy' })]))[0]?.backends, ['echo@172.17.0.2:80 [healthy]']);
    assert.deepEqual(hostChanges(table([u()]), table([u({ draining: true })]))[0]?.backends, ['echo@172.17.0.2:80 [draining]']);
    assert.deepEqual(hostChanges(table([u({ address: 'fd00::2' })]), table(null)), [{ host: 'a.example', change: 'removed', backends: [] }]);
    assert.deepEqual(hostChanges(table([u()]), table([u()])), []);
  });
  it('brackets IPv6 addresses', () => {
    assert.deepEqual(hostChanges(table(null), table([u({ address: 'fd00::2' })]))[0]?.backends, ['echo@[fd00::2]:80']);
  });
});

describe('newIssues', () => {
  it('reports an issue once, not at every relist', () => {
    const issue = { code: 'ERR_VIRTUAL_HOST_INVALID' as const, containerId: 'x', containerName: 'bad', setting: 'VIRTUAL_HOST', value: 'a;b{', message: 'm' };
    assert.deepEqual(newIssues(table(null), table(null, [issue])), [issue]);
    assert.deepEqual(newIssues(table(null, [issue]), table(null, [issue])), []);
  });
});

describe('withPlaneIssues', () => {
  it('removes what the plane could not serve from that host only and adds the finding to the issues', () => {
    const t: RoutingTable = {
      hosts: [
        newVirtualHost({ hostname: 'a.example', routes: [newRoute({ upstreams: [u(), u({ containerId: 'other', containerName: 'other' })] })] }),
        newVirtualHost({ hostname: 'b.example', routes: [newRoute({ upstreams: [u()] })] }),
      ],
      issues: [],
    };
    const issue = { code: 'ERR_SETTING_UNSUPPORTED' as const, containerId: 'id', containerName: 'echo', host: 'a.example', setting: 'VIRTUAL_PROTO', value: 'grpc', message: 'm' };
    const served = withPlaneIssues(t, [issue]);
    assert.deepEqual(served.hosts[0]?.routes[0]?.upstreams.map((x) => x.containerName), ['other']);
    assert.deepEqual(served.hosts[1]?.routes[0]?.upstreams.map((x) => x.containerName), ['echo']);
    assert.deepEqual(served.issues, [{ code: 'ERR_SETTING_UNSUPPORTED', containerId: 'id', containerName: 'echo', setting: 'VIRTUAL_PROTO', value: 'grpc', message: 'm' }]);
    assert.equal(withPlaneIssues(t, []), t);
  });
});
