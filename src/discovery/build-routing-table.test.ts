import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildRoutingTable } from './build-routing-table.ts';
import type { ContainerInfo, ProxyPlacement } from './container-info.ts';
import { toContainerInfo } from './container-info.ts';

function container(name: string, over: Partial<ContainerInfo> = {}): ContainerInfo {
  return {
    id: `id-${name}`,
    name,
    env: {},
    labels: {},
    exposedPorts: [80],
    networks: [{ name: 'bridge', ipAddress: `172.17.0.${name.length + 1}`, ipv6Address: '', gateway: '172.17.0.1' }],
    networkMode: 'default',
    health: 'none',
    stopping: false,
    ...over,
  };
}

const onHost: ProxyPlacement | null = null;

describe('buildRoutingTable: VIRTUAL_HOST', () => {
  const cases: Array<[string, string | undefined, string[]]> = [
    ['unset', undefined, []],
    ['blank', '  ', []],
    ['only commas', ' , ,', []],
    ['single', 'echo.127.0.0.1.nip.io', ['echo.127.0.0.1.nip.io']],
    ['comma list trimmed, blanks dropped', ' a.example , b.example,, ', ['a.example', 'b.example']],
    ['upper case folded, duplicates merged', 'A.Example,a.example', ['a.example']],
    ['trailing dot dropped', 'a.example.', ['a.example']],
    ['raw IPv4', '172.20.0.1', ['172.20.0.1']],
    ['bracketed IPv6', '[fd00::1]', ['[fd00::1]']],
    ['wildcards and regexes, regex kept as written', '~^App\\d+\\.x$, *.Example.com, www.example.*, .b.example', ['*.example.com', '.b.example', 'www.example.*', '~^App\\d+\\.x$']],
  ];
  for (const [label, value, expected] of cases) {
    it(label, () => {
      const env: Record<string, string> = value === undefined ? {} : { VIRTUAL_HOST: value };
      const table = buildRoutingTable([container('app', { env })], onHost);
      assert.deepEqual(table.hosts.map((h) => h.hostname), expected);
      assert.deepEqual(table.issues, []);
    });
  }

  const invalid: Array<[string, string]> = [
    ['hostile', 'a;b{'],
    ['space inside', 'a b.example'],
    ['quote', 'a"b'],
    ['port in host', 'a.example:8080'],
    ['newline', 'a.example\nb'],
    ['one bad item rejects the container', 'good.example,bad}'],
    ['wildcard in the middle', 'www.*.example.com'],
    ['regex nginx has and JavaScript lacks', '~^(?P<sub>.+)\\.example'],
  ];
  for (const [label, value] of invalid) {
    it(`skips ${label} with an issue naming the container and the setting`, () => {
      const table = buildRoutingTable(
        [container('bad', { env: { VIRTUAL_HOST: value } }), container('ok', { env: { VIRTUAL_HOST: 'ok.example' } })],
        onHost,
      );
      assert.deepEqual(table.hosts.map((h) => h.hostname), ['ok.example']);
      assert.equal(table.issues.length, 1);
      const [i] = table.issues;
      assert.equal(i?.code, 'ERR_VIRTUAL_HOST_INVALID');
      assert.equal(i?.containerName, 'bad');
      assert.equal(i?.setting, 'VIRTUAL_HOST');
      assert.match(i?.message ?? '', /container bad: VIRTUAL_HOST/);
    });
  }
});

describe('buildRoutingTable: port', () => {
  const cases: Array<[string, readonly number[], string | undefined, number | 'issue']> = [
    ['one exposed port', [8080], undefined, 8080],
    ['no exposed port -> 80', [], undefined, 80],
    ['two exposed ports -> 80', [80, 8080], undefined, 80],
    ['two exposed ports without 80 -> 80', [3000, 8080], undefined, 80],
    ['VIRTUAL_PORT wins', [80, 8080], '8080', 8080],
    ['VIRTUAL_PORT trimmed', [80], ' 9000 ', 9000],
    ['VIRTUAL_PORT blank -> rule', [8080], '', 8080],
    ['VIRTUAL_PORT not a number', [80], 'http', 'issue'],
    ['VIRTUAL_PORT out of range', [80], '70000', 'issue'],
  ];
  for (const [label, exposedPorts, virtualPort, expected] of cases) {
    it(label, () => {
      const env: Record<string, string> = { VIRTUAL_HOST: 'a.example' };
      if (virtualPort !== undefined) env['VIRTUAL_PORT'] = virtualPort;
      const table = buildRoutingTable([container('app', { env, exposedPorts })], onHost);
      if (expected === 'issue') {
        assert.deepEqual(table.hosts, []);
        assert.equal(table.issues[0]?.code, 'ERR_VIRTUAL_PORT_INVALID');
        assert.equal(table.issues[0]?.setting, 'VIRTUAL_PORT');
      } else {
        assert.equal(table.hosts[0]?.routes[0]?.upstreams[0]?.port, expected);
      }
    });
  }
});

describe('buildRoutingTable: networks', () => {
  const net = (name: string, ip: string, gateway = '') => ({ name, ipAddress: ip, ipv6Address: '', gateway });
  const placed = (...names: string[]): ProxyPlacement => ({
    hostNetwork: false,
    networks: names.map((n, i) => net(n, `10.0.${i}.2`, `10.0.${i}.1`)),
  });
  const cases: Array<[string, ContainerInfo['networks'], string, ProxyPlacement | null, string | null]> = [
    ['berth on the host reaches the first network by name', [net('zeta', '10.9.0.2'), net('alpha', '10.1.0.2')], 'default', null, '10.1.0.2'],
    ['ingress is skipped', [net('ingress', '10.255.0.2'), net('web', '10.2.0.2')], 'default', null, '10.2.0.2'],
    ['berth in a container: only a shared network', [net('alpha', '10.1.0.2'), net('nginx-network', '10.3.0.5')], 'default', placed('nginx-network'), '10.3.0.5'],
    ['berth in a container: no shared network -> unreachable', [net('other', '10.1.0.2')], 'default', placed('nginx-network'), null],
    ['berth in host network mode reaches everything', [net('other', '10.1.0.2')], 'default', { hostNetwork: true, networks: [] }, '10.1.0.2'],
    ['host-network backend from the host', [], 'host', null, '127.0.0.1'],
    ['host-network backend from a container: gateway', [], 'host', placed('nginx-network'), '10.0.0.1'],
    ['network without an address is not used', [net('a', ''), net('b', '10.2.0.9')], 'default', null, '10.2.0.9'],
    ['IPv6-only network: its IPv6 address', [{ name: 'v6', ipAddress: '', ipv6Address: 'fd00::5', gateway: '' }], 'default', null, 'fd00::5'],
    ['dual-stack network: IPv4 unless PREFER_IPV6_NETWORK', [{ name: 'dual', ipAddress: '10.5.0.5', ipv6Address: 'fd00::5', gateway: '' }], 'default', null, '10.5.0.5'],
    ['host-network backend from a container: not through an internal network', [], 'host',
      { hostNetwork: false, networks: [{ ...net('a-internal', '10.7.0.2', '10.7.0.1'), internal: true }, net('b-web', '10.8.0.2', '10.8.0.1')] }, '10.8.0.1'],
  ];
  for (const [label, networks, networkMode, placement, expected] of cases) {
    it(label, () => {
      const sorted = [...networks].sort((a, b) => a.name.localeCompare(b.name));
      const table = buildRoutingTable([container('app', { env: { VIRTUAL_HOST: 'a.example' }, networks: sorted, networkMode })], placement);
      const upstreams = table.hosts[0]?.routes[0]?.upstreams ?? [];
      if (expected === null) {
        assert.equal(table.hosts[0]?.hostname, 'a.example', 'the host stays known (502, not 503)');
        assert.deepEqual(upstreams, []);
        assert.equal(table.issues[0]?.code, 'ERR_NO_REACHABLE_NETWORK');
        assert.match(table.issues[0]?.message ?? '', /shares no network with berth/);
      } else {
        assert.equal(upstreams.length, 1, 'one address per container even on several networks');
        assert.equal(upstreams[0]?.address, expected);
      }
    });
  }
});

describe('buildRoutingTable: PREFER_IPV6_NETWORK', () => {
  const dual = [{ name: 'dual', ipAddress: '10.5.0.5', ipv6Address: 'fd00::5', gateway: '' }, { name: 'z', ipAddress: '10.6.0.5', ipv6Address: 'fd00::6', gateway: '' }];
  it('uses the IPv6 address of the chosen network, one address per container', () => {
    const t = buildRoutingTable([container('app', { env: { VIRTUAL_HOST: 'a.example' }, networks: dual })], null, { preferIpv6: true });
    assert.deepEqual(t.hosts[0]?.routes[0]?.upstreams.map((u) => [u.address, u.network]), [['fd00::5', 'dual']]);
  });
  it('keeps IPv4 on a network without IPv6', () => {
    const t = buildRoutingTable([container('app', { env: { VIRTUAL_HOST: 'a.example' } })], null, { preferIpv6: true });
    assert.match(t.hosts[0]?.routes[0]?.upstreams[0]?.address ?? '', /^172\.17\./);
  });
  it('keeps 127.0.0.1 for a host-network backend', () => {
    const t = buildRoutingTable([container('app', { env: { VIRTUAL_HOST: 'a.example' }, networks: [], networkMode: 'host' })], null, { preferIpv6: true });
    assert.equal(t.hosts[0]?.routes[0]?.upstreams[0]?.address, '127.0.0.1');
  });
});

describe('buildRoutingTable: a container without addresses', () => {
  it('drops a stopping container that lost its addresses, without a warning', () => {
    const c = container('stopping', { env: { VIRTUAL_HOST: 'a.example' }, stopping: true, networks: [{ name: 'bridge', ipAddress: '', ipv6Address: '', gateway: '' }] });
    assert.deepEqual(buildRoutingTable([c], null), { hosts: [], issues: [] });
  });
  it('says it has no address rather than blaming the networks', () => {
    const c = container('stopping', { env: { VIRTUAL_HOST: 'a.example' }, networks: [{ name: 'bridge', ipAddress: '', ipv6Address: '', gateway: '' }] });
    const t = buildRoutingTable([c], null);
    assert.deepEqual(t.hosts[0]?.routes[0]?.upstreams, []);
    assert.match(t.issues[0]?.message ?? '', /container stopping: network is unreachable: it has no address on any network/);
  });
});

describe('buildRoutingTable: determinism and replicas', () => {
  it('sorts hosts and upstreams, whatever the input order', () => {
    const a = container('web-2', { id: 'b', env: { VIRTUAL_HOST: 'x.example,a.example' } });
    const b = container('web-1', { id: 'a', env: { VIRTUAL_HOST: 'x.example' } });
    const t1 = buildRoutingTable([a, b], null);
    const t2 = buildRoutingTable([b, a], null);
    assert.deepEqual(t1, t2);
    assert.deepEqual(t1.hosts.map((h) => h.hostname), ['a.example', 'x.example']);
    assert.deepEqual(t1.hosts[1]?.routes[0]?.upstreams.map((u) => u.containerName), ['web-1', 'web-2']);
  });
  it('carries the health state for the data planes', () => {
    const t = buildRoutingTable([container('app', { env: { VIRTUAL_HOST: 'a.example' }, health: 'starting' })], null);
    assert.equal(t.hosts[0]?.routes[0]?.upstreams[0]?.health, 'starting');
  });
});

describe('toContainerInfo', () => {
  it('normalises docker inspect output', () => {
    const info = toContainerInfo({
      Id: 'abc',
      Name: '/echo',
      Created: '2024-05-01T10:00:00.123456789Z',
      Config: { Env: ['VIRTUAL_HOST=a=b.example', 'EMPTY=', 'BARE'], Labels: { x: 'y' }, ExposedPorts: { '80/tcp': {}, '53/udp': {} } },
      HostConfig: { NetworkMode: 'bridge' },
      NetworkSettings: {
        Ports: { '80/tcp': null, '8080/tcp': [{}] },
        Networks: { web: { IPAddress: '10.0.0.2', Gateway: '10.0.0.1' }, bridge: { IPAddress: '172.17.0.2' } },
      },
      State: { Health: { Status: 'healthy' } },
    });
    assert.equal(info.name, 'echo');
    assert.deepEqual(info.env, { VIRTUAL_HOST: 'a=b.example', EMPTY: '', BARE: '' });
    assert.deepEqual(info.exposedPorts, [80, 8080]);
    assert.deepEqual(info.networks.map((n) => n.name), ['bridge', 'web']);
    assert.equal(info.health, 'healthy');
    assert.equal(info.created, Date.parse('2024-05-01T10:00:00.123Z'));
  });
  it('leaves created out when inspect has none', () => {
    assert.equal('created' in toContainerInfo({ Id: 'abc', Name: '/echo' }), false);
  });
});

describe('buildRoutingTable: readiness labels', () => {
  const cases: Array<[string, Record<string, string>, unknown]> = [
    ['no label: TCP probe', {}, { kind: 'tcp', intervalMs: 2000, timeoutMs: 1000 }],
    ['HTTP probe with defaults', { 'berth.readiness.path': '/healthz' }, { kind: 'http', path: '/healthz', intervalMs: 2000, timeoutMs: 1000, expectStatus: [200, 399] }],
    ['HTTP probe fully declared', { 'berth.readiness.path': '/ready?x=1', 'berth.readiness.interval': '500ms', 'berth.readiness.timeout': '200ms', 'berth.readiness.status': '2xx' }, { kind: 'http', path: '/ready?x=1', intervalMs: 500, timeoutMs: 200, expectStatus: [200, 299] }],
    ['status range', { 'berth.readiness.path': '/', 'berth.readiness.status': '200-204' }, { kind: 'http', path: '/', intervalMs: 2000, timeoutMs: 1000, expectStatus: [200, 204] }],
    ['bad path', { 'berth.readiness.path': 'healthz' }, 'berth.readiness.path'],
    ['bad interval', { 'berth.readiness.interval': 'often' }, 'berth.readiness.interval'],
    ['too short interval', { 'berth.readiness.interval': '5ms' }, 'berth.readiness.interval'],
    ['bad status', { 'berth.readiness.path': '/', 'berth.readiness.status': 'ok' }, 'berth.readiness.status'],
    ['status without path', { 'berth.readiness.status': '200' }, 'berth.readiness.status'],
  ];
  for (const [label, labels, expected] of cases) {
    it(label, () => {
      const t = buildRoutingTable([container('app', { env: { VIRTUAL_HOST: 'a.example' }, labels })], null);
      if (typeof expected === 'string') {
        assert.deepEqual(t.hosts, []);
        assert.equal(t.issues[0]?.code, 'ERR_READINESS_LABEL_INVALID');
        assert.equal(t.issues[0]?.setting, expected);
        assert.match(t.issues[0]?.message ?? '', new RegExp(`container app: ${expected.replace(/\./g, '\\.')} is invalid`));
      } else {
        assert.deepEqual(t.hosts[0]?.routes[0]?.upstreams[0]?.probe, expected);
      }
    });
  }
  it('marks a stopping container as draining', () => {
    const t = buildRoutingTable([container('app', { env: { VIRTUAL_HOST: 'a.example' }, stopping: true })], null);
    assert.equal(t.hosts[0]?.routes[0]?.upstreams[0]?.draining, true);
  });
});

describe('buildRoutingTable: nip.io names by label', () => {
  const exposed = (name: string, labels: Record<string, string>, env: Record<string, string> = {}) => container(name, { labels, env });
  const cases: Array<[string, ContainerInfo, string | undefined, string[]]> = [
    ['exposed container gets <name>.<ip>.nip.io', exposed('My_App.1', { 'berth.expose': 'true' }), '192.168.1.20', ['my-app-1.192.168.1.20.nip.io']],
    ['VIRTUAL_HOST wins over the label', exposed('app', { 'berth.expose': 'true' }, { VIRTUAL_HOST: 'own.example' }), '10.0.0.1', ['own.example']],
    ['label without the setting does nothing', exposed('app', { 'berth.expose': 'true' }), undefined, []],
    ['setting without the label does nothing', exposed('app', {}), '10.0.0.1', []],
    ['label must be true', exposed('app', { 'berth.expose': 'yes please' }), '10.0.0.1', []],
  ];
  for (const [label, c, ip, expected] of cases) {
    it(label, () => {
      const t = buildRoutingTable([c], null, ip === undefined ? {} : { nipIoHostIp: ip });
      assert.deepEqual(t.hosts.map((h) => h.hostname), expected);
    });
  }
});
