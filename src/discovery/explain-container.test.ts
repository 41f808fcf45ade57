import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildRoutingTable } from './build-routing-table.ts';
import type { ContainerInfo, ProxyPlacement } from './container-info.ts';
import { explainContainer, type BackendStateName } from './explain-container.ts';

function container(name: string, over: Partial<ContainerInfo> = {}): ContainerInfo {
  return {
    id: `${name}0123456789abcdef`, name, env: {}, labels: {}, exposedPorts: [80],
    networks: [{ name: 'web', ipAddress: '10.0.0.2', ipv6Address: '', gateway: '10.0.0.1' }],
    networkMode: 'default', health: 'none', stopping: false, ...over,
  };
}

function explain(c: ContainerInfo, state: BackendStateName = 'ready', placement: ProxyPlacement | null = null, query = c.name) {
  const current = { containers: [c], placement };
  return explainContainer(query, current, buildRoutingTable([c], placement), () => state);
}

describe('explainContainer', () => {
  it('a routed container', () => {
    const e = explain(container('app', { env: { VIRTUAL_HOST: 'a.example' } }));
    assert.equal(e.routed, true);
    assert.deepEqual(e.backends.map((b) => [b.host, b.address, b.port, b.state]), [['a.example', '10.0.0.2', 80, 'ready']]);
    assert.deepEqual(e.findings, []);
  });
  it('finds by id prefix', () => {
    const c = container('app', { env: { VIRTUAL_HOST: 'a.example' } });
    assert.equal(explain(c, 'ready', null, c.id.slice(0, 6)).container?.name, 'app');
  });
  const cases: Array<[string, ContainerInfo, BackendStateName, ProxyPlacement | null, RegExp]> = [
    ['no VIRTUAL_HOST', container('app'), 'ready', null, /has no VIRTUAL_HOST/],
    ['expose label without BERTH_NIP_IO', container('app', { labels: { 'berth.expose': 'true' } }), 'ready', null, /BERTH_NIP_IO is off/],
    ['bad VIRTUAL_HOST', container('app', { env: { VIRTUAL_HOST: 'a;b{' } }), 'ready', null, /VIRTUAL_HOST is invalid.*ERR_VIRTUAL_HOST_INVALID/],
    ['no shared network', container('app', { env: { VIRTUAL_HOST: 'a.example' } }), 'ready', { hostNetwork: false, networks: [{ name: 'nginx-network', ipAddress: '10.9.0.2', ipv6Address: '', gateway: '' }] }, /shares no network with berth/],
    ['port not exposed', container('app', { env: { VIRTUAL_HOST: 'a.example', VIRTUAL_PORT: '8080' } }), 'ready', null, /port 8080 is not among the ports the container exposes \(80\)/],
    ['several ports, no VIRTUAL_PORT', container('app', { env: { VIRTUAL_HOST: 'a.example' }, exposedPorts: [80, 9000] }), 'ready', null, /exposes several ports \(80, 9000\).*uses 80/],
    ['not listening yet', container('app', { env: { VIRTUAL_HOST: 'a.example' } }), 'starting', null, /gets no new requests: waiting for its readiness probe \(TCP connect to 10\.0\.0\.2:80\).*listening/],
    ['HEALTHCHECK starting', container('app', { env: { VIRTUAL_HOST: 'a.example' }, health: 'starting' }), 'starting', null, /HEALTHCHECK to report healthy/],
    ['unhealthy', container('app', { env: { VIRTUAL_HOST: 'a.example' }, health: 'unhealthy' }), 'unhealthy', null, /HEALTHCHECK reports unhealthy/],
    ['stopping', container('app', { env: { VIRTUAL_HOST: 'a.example' }, stopping: true }), 'draining', null, /stop signal was received/],
  ];
  for (const [label, c, state, placement, finding] of cases) {
    it(label, () => {
      const e = explain(c, state, placement);
      // Port findings are hints on a routed container; everything else explains why it is not routed.
      assert.equal(e.routed, label.startsWith('port') || label.startsWith('several'));
      assert.ok(e.findings.some((f) => finding.test(f)), e.findings.join(' | '));
    });
  }
  it('a multiports container or a berth.host label is not "without VIRTUAL_HOST"', () => {
    for (const c of [container('mp', { env: { VIRTUAL_HOST_MULTIPORTS: 'a.example:' } }), container('lab', { labels: { 'berth.host': 'a.example', 'berth.port': '80' }, exposedPorts: [80, 443] })]) {
      const e = explain(c);
      assert.equal(e.routed, true);
      assert.deepEqual(e.findings, [], e.findings.join(' | '));
    }
  });
  it('invalid multiports', () => {
    const e = explain(container('mp', { env: { VIRTUAL_HOST_MULTIPORTS: 'a.example: [1' } }));
    assert.match(e.findings[0] ?? '', /VIRTUAL_HOST_MULTIPORTS is invalid: is not valid YAML.*\[ERR_MULTIPORTS_INVALID\]/);
  });
  it('what the Node data plane does not support', () => {
    const c = container('php', { env: { VIRTUAL_HOST: 'a.example', VIRTUAL_PROTO: 'fastcgi' } });
    const table = buildRoutingTable([c], null, { plane: 'node' });
    const e = explainContainer('php', { containers: [c], placement: null }, table, () => 'ready');
    assert.equal(e.routed, false);
    assert.match(e.findings[0] ?? '', /does not speak fastcgi; use BERTH_MODE=nginx.*\[ERR_SETTING_UNSUPPORTED\]/);
  });
  it('a conflict, from both sides', () => {
    const old = container('old', { env: { VIRTUAL_HOST: 'a.example', SERVER_TOKENS: 'off' }, created: 1 });
    const young = container('young', { env: { VIRTUAL_HOST: 'a.example', SERVER_TOKENS: 'on' }, created: 2 });
    const current = { containers: [old, young], placement: null };
    const table = buildRoutingTable(current.containers, null);
    const loser = explainContainer('young', current, table, () => 'ready');
    assert.equal(loser.routed, true);
    assert.match(loser.findings.join(' | '), /container young: SERVER_TOKENS="on" for host a.example is not applied: container old sets SERVER_TOKENS="off".*\[WARN_SETTING_CONFLICT\]/);
    const winner = explainContainer('old', current, table, () => 'ready');
    assert.match(winner.findings.join(' | '), /its value applies over another container's: container young: SERVER_TOKENS="on"/);
  });
  it('an unknown container', () => {
    const e = explainContainer('ghost', { containers: [], placement: null }, { hosts: [], issues: [] }, () => 'ready');
    assert.equal(e.container, undefined);
    assert.match(e.findings[0] ?? '', /no running container is named "ghost"/);
  });
});
