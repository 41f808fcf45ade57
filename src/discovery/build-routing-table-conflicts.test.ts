import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RoutingTable } from '../routing-table.ts';
import { buildRoutingTable } from './build-routing-table.ts';
import type { ContainerInfo } from './container-info.ts';

let nextIp = 2;
function container(name: string, env: Record<string, string>, labels: Record<string, string> = {}, created?: number): ContainerInfo {
  return {
    id: `id-${name}`, name, env, labels, exposedPorts: [80],
    networks: [{ name: 'web', ipAddress: `10.1.0.${nextIp++}`, ipv6Address: '', gateway: '' }],
    networkMode: 'default', health: 'none', stopping: false,
    ...(created === undefined ? {} : { created }),
  };
}

const build = (containers: ContainerInfo[]): RoutingTable => buildRoutingTable(containers, null);
const host = (t: RoutingTable, name = 'a.example') => t.hosts.find((h) => h.hostname === name);
const route = (t: RoutingTable, path = '/', name = 'a.example') => host(t, name)?.routes.find((r) => r.path === path);
const codes = (t: RoutingTable) => t.issues.map((i) => `${i.containerName} ${i.code} ${i.setting}`);

describe('berth.* labels', () => {
  const cases: Array<[string, string, string, (t: RoutingTable) => unknown, unknown]> = [
    ['berth.host', 'VIRTUAL_HOST', 'a.example', (t) => t.hosts.map((h) => h.hostname), ['a.example']],
    ['berth.port', 'VIRTUAL_PORT', '8080', (t) => route(t)?.upstreams[0]?.port, 8080],
    ['berth.path', 'VIRTUAL_PATH', '/api', (t) => host(t)?.routes[0]?.path, '/api'],
    ['berth.dest', 'VIRTUAL_DEST', '/v1', (t) => route(t)?.dest, '/v1'],
    ['berth.proto', 'VIRTUAL_PROTO', 'grpc', (t) => route(t)?.proto, 'grpc'],
    ['berth.root', 'VIRTUAL_ROOT', '/srv', (t) => host(t)?.root, '/srv'],
    ['berth.network-access', 'NETWORK_ACCESS', 'internal', (t) => route(t)?.networkAccess, 'internal'],
    ['berth.external-http-port', 'EXTERNAL_HTTP_PORT', '81', (t) => host(t)?.httpPort, 81],
    ['berth.server-tokens', 'SERVER_TOKENS', 'off', (t) => host(t)?.serverTokens, 'off'],
    ['berth.loadbalance', 'com.github.nginx-proxy.nginx-proxy.loadbalance', 'least_conn;', (t) => route(t)?.loadBalance, { kind: 'least_conn' }],
    ['berth.keepalive', 'com.github.nginx-proxy.nginx-proxy.keepalive', 'disabled', (t) => route(t)?.keepalive, 'disabled'],
    ['berth.debug-endpoint', 'com.github.nginx-proxy.nginx-proxy.debug-endpoint', 'false', (t) => host(t)?.debugEndpoint, false],
    ['berth.multiports', 'VIRTUAL_HOST_MULTIPORTS', 'a.example: {/m: {port: 81}}', (t) => host(t)?.routes.map((r) => [r.path, r.upstreams[0]?.port]), [['/m', 81]]],
  ];
  for (const [label, other, value, read, expected] of cases) {
    it(`${label} works alone`, () => {
      const base: Record<string, string> = label === 'berth.host' || label === 'berth.multiports' ? {} : { 'berth.host': 'a.example' };
      const t = build([container('app', {}, { ...base, [label]: value })]);
      assert.deepEqual(read(t), expected);
      assert.deepEqual(t.issues, []);
    });
    it(`${label} wins over ${other}; differing values are a WARN_SETTING_CONFLICT naming both`, () => {
      const otherValue = label === 'berth.multiports' ? 'a.example: {/other: {}}' : label === 'berth.host' ? 'b.example' : 'x';
      const fromEnv = other.startsWith('com.') ? {} : { [other]: otherValue };
      const fromLabel = other.startsWith('com.') ? { [other]: otherValue } : {};
      const base: Record<string, string> = label === 'berth.host' || label === 'berth.multiports' ? {} : { 'berth.host': 'a.example' };
      const t = build([container('app', fromEnv, { ...base, ...fromLabel, [label]: value })]);
      assert.deepEqual(read(t), expected);
      const conflict = t.issues.find((i) => i.code === 'WARN_SETTING_CONFLICT');
      assert.equal(conflict?.setting, other);
      assert.match(conflict?.message ?? '', new RegExp(`^container app: ${other.replace(/\./g, '\\.')}=.* is not applied: ${label.replace(/\./g, '\\.')}=.* is also set`));
    });
  }
  it('the same value in both places is no conflict', () => {
    const t = build([container('app', { VIRTUAL_HOST: 'a.example' }, { 'berth.host': 'a.example' })]);
    assert.deepEqual(t.issues, []);
  });
  it('a blank label does not hide the env variable', () => {
    const t = build([container('app', { VIRTUAL_HOST: 'a.example' }, { 'berth.host': ' ' })]);
    assert.deepEqual(t.hosts.map((h) => h.hostname), ['a.example']);
  });
});

describe('the conflict rule: earliest-created container wins', () => {
  it('per host: EXTERNAL_HTTP_PORT, SERVER_TOKENS, VIRTUAL_ROOT, debug-endpoint', () => {
    const t = build([
      container('new', { VIRTUAL_HOST: 'a.example', EXTERNAL_HTTP_PORT: '82', SERVER_TOKENS: 'on', VIRTUAL_ROOT: '/new' }, { 'com.github.nginx-proxy.nginx-proxy.debug-endpoint': 'true' }, 3000),
      container('old', { VIRTUAL_HOST: 'a.example', EXTERNAL_HTTP_PORT: '81', SERVER_TOKENS: 'off', VIRTUAL_ROOT: '/old' }, { 'berth.debug-endpoint': 'false' }, 1000),
      container('quiet', { VIRTUAL_HOST: 'a.example' }, {}, 500),
    ]);
    const h = host(t);
    assert.deepEqual([h?.httpPort, h?.serverTokens, h?.root, h?.debugEndpoint], [81, 'off', '/old', false]);
    assert.deepEqual(codes(t), [
      'new WARN_SETTING_CONFLICT EXTERNAL_HTTP_PORT', 'new WARN_SETTING_CONFLICT SERVER_TOKENS', 'new WARN_SETTING_CONFLICT VIRTUAL_ROOT',
      'new WARN_SETTING_CONFLICT com.github.nginx-proxy.nginx-proxy.debug-endpoint',
    ]);
    assert.equal(
      t.issues[0]?.message,
      'container new: EXTERNAL_HTTP_PORT="82" for host a.example is not applied: container old sets EXTERNAL_HTTP_PORT="81", which wins because container old was created first',
    );
  });
  it('per path: VIRTUAL_PROTO, VIRTUAL_DEST, NETWORK_ACCESS, loadbalance, keepalive', () => {
    const lb = 'com.github.nginx-proxy.nginx-proxy.loadbalance';
    const t = build([
      container('b', { VIRTUAL_HOST: 'a.example', VIRTUAL_PATH: '/p/', VIRTUAL_PROTO: 'https', VIRTUAL_DEST: '/b/', NETWORK_ACCESS: 'external' }, { [lb]: 'ip_hash;', 'berth.keepalive': '4' }, 2000),
      container('a', { VIRTUAL_HOST: 'a.example', VIRTUAL_PATH: '/p/', VIRTUAL_PROTO: 'http', VIRTUAL_DEST: '/', NETWORK_ACCESS: 'internal' }, { [lb]: 'least_conn', 'berth.keepalive': 'auto' }, 1000),
    ]);
    const r = route(t, '/p/');
    assert.deepEqual([r?.proto, r?.dest, r?.networkAccess, r?.loadBalance, r?.keepalive, r?.upstreams.length], ['http', '/', 'internal', { kind: 'least_conn' }, 'auto', 2]);
    assert.equal(t.issues.length, 5);
    assert.ok(t.issues.every((i) => i.containerName === 'b' && i.message.includes('for host a.example, path /p/ is not applied: container a sets')), JSON.stringify(t.issues));
  });
  it('same creation time: the first by name wins, and the message says so', () => {
    const t = build([container('zz', { VIRTUAL_HOST: 'a.example', SERVER_TOKENS: 'on' }, {}, 1), container('aa', { VIRTUAL_HOST: 'a.example', SERVER_TOKENS: 'off' }, {}, 1)]);
    assert.equal(host(t)?.serverTokens, 'off');
    assert.match(t.issues[0]?.message ?? '', /container zz: .* both were created at the same time and aa comes first by name/);
  });
  it('values that parse the same are no conflict', () => {
    const lb = 'com.github.nginx-proxy.nginx-proxy.loadbalance';
    const t = build([
      container('a', { VIRTUAL_HOST: 'a.example', VIRTUAL_PROTO: 'HTTP' }, { [lb]: 'least_conn;' }, 1),
      container('b', { VIRTUAL_HOST: 'a.example', VIRTUAL_PROTO: 'http' }, { [lb]: 'least_conn' }, 2),
    ]);
    assert.deepEqual(t.issues, []);
  });
  it('a container that does not set a setting does not count, whenever it was created', () => {
    const t = build([container('first', { VIRTUAL_HOST: 'a.example' }, {}, 1), container('second', { VIRTUAL_HOST: 'a.example', VIRTUAL_PROTO: 'https' }, {}, 2)]);
    assert.equal(route(t)?.proto, 'https');
    assert.deepEqual(t.issues, []);
  });
  it('is independent of the input order', () => {
    const cs = [
      container('x', { VIRTUAL_HOST: 'a.example', SERVER_TOKENS: 'on' }, {}, 5),
      container('y', { VIRTUAL_HOST: 'a.example', SERVER_TOKENS: 'off' }, {}, 4),
      container('z', { VIRTUAL_HOST: 'a.example', SERVER_TOKENS: 'build' }),
    ];
    assert.deepEqual(build(cs), build([...cs].reverse()));
    assert.equal(host(build(cs))?.serverTokens, 'off');
  });
});

describe('VIRTUAL_HOST_MULTIPORTS', () => {
  const yaml = 'a.example:\n  /:\n  /api:\n    port: 9000\n    dest: /v1\nb.example:\n  /grpc: {port: 50051, proto: grpc}\n';
  it('routes every host and path of the container, with the default port rule for empty entries', () => {
    const t = build([container('mp', { VIRTUAL_HOST_MULTIPORTS: yaml })]);
    assert.deepEqual(t.hosts.map((h) => [h.hostname, h.routes.map((r) => [r.path, r.proto, r.dest, r.upstreams[0]?.port])]), [
      ['a.example', [['/', 'http', '', 80], ['/api', 'http', '/v1', 9000]]],
      ['b.example', [['/grpc', 'grpc', '', 50051]]],
    ]);
  });
  it('is merged with plain containers of the same host and path', () => {
    const t = build([container('mp', { VIRTUAL_HOST_MULTIPORTS: yaml }), container('plain', { VIRTUAL_HOST: 'a.example', VIRTUAL_PATH: '/api', VIRTUAL_PORT: '8000' })]);
    assert.deepEqual(route(t, '/api')?.upstreams.map((u) => [u.containerName, u.port]), [['mp', 9000], ['plain', 8000]]);
  });
  it('replaces VIRTUAL_HOST/PORT/PATH/DEST/PROTO on its container, and says so', () => {
    const t = build([container('mp', { VIRTUAL_HOST_MULTIPORTS: 'a.example:', VIRTUAL_HOST: 'other.example', VIRTUAL_PORT: '81', VIRTUAL_PROTO: 'https' })]);
    assert.deepEqual(t.hosts.map((h) => h.hostname), ['a.example']);
    assert.equal(route(t)?.proto, 'http');
    assert.deepEqual(codes(t), ['mp WARN_SETTING_IGNORED VIRTUAL_HOST', 'mp WARN_SETTING_IGNORED VIRTUAL_PORT', 'mp WARN_SETTING_IGNORED VIRTUAL_PROTO']);
    assert.match(t.issues[0]?.message ?? '', /container mp: VIRTUAL_HOST is not applied: VIRTUAL_HOST_MULTIPORTS is set/);
  });
  it('its external_http_port wins over EXTERNAL_HTTP_PORT, even of an older container', () => {
    const t = build([
      container('mp', { VIRTUAL_HOST_MULTIPORTS: 'a.example: {external_http_port: 8081}' }, {}, 2000),
      container('plain', { VIRTUAL_HOST: 'a.example', EXTERNAL_HTTP_PORT: '8080' }, {}, 1000),
    ]);
    assert.equal(host(t)?.httpPort, 8081);
    assert.deepEqual(codes(t), ['plain WARN_SETTING_CONFLICT EXTERNAL_HTTP_PORT']);
    assert.match(t.issues[0]?.message ?? '', /container mp sets EXTERNAL_HTTP_PORT="8081" \(in VIRTUAL_HOST_MULTIPORTS\), which wins because a multiports external_http_port takes precedence/);
  });
  it('EXTERNAL_HTTP_PORT still applies to its hosts without external_http_port', () => {
    const t = build([container('mp', { VIRTUAL_HOST_MULTIPORTS: 'a.example:\nb.example: {external_http_port: 82}', EXTERNAL_HTTP_PORT: '81' })]);
    assert.deepEqual(t.hosts.map((h) => [h.hostname, h.httpPort]), [['a.example', 81], ['b.example', 82]]);
    assert.deepEqual(codes(t), ['mp WARN_SETTING_CONFLICT EXTERNAL_HTTP_PORT']);
    assert.match(t.issues[0]?.message ?? '', /for host b.example is not applied: the same container sets/);
  });
  it('accepts external_https_port with a warning that HTTPS is not served yet', () => {
    const t = build([container('mp', { VIRTUAL_HOST_MULTIPORTS: 'a.example: {external_https_port: 8443}' })]);
    assert.equal(t.hosts.length, 1);
    assert.deepEqual(codes(t), ['mp WARN_SETTING_IGNORED VIRTUAL_HOST_MULTIPORTS']);
    assert.match(t.issues[0]?.message ?? '', /external_https_port 8443 for host a.example, which is not applied: berth does not serve HTTPS yet/);
  });
  it('invalid YAML skips only that container', () => {
    const t = build([container('bad', { VIRTUAL_HOST_MULTIPORTS: '{a.example: ' }), container('ok', { VIRTUAL_HOST: 'a.example' })]);
    assert.deepEqual(route(t)?.upstreams.map((u) => u.containerName), ['ok']);
    assert.deepEqual(codes(t), ['bad ERR_MULTIPORTS_INVALID VIRTUAL_HOST_MULTIPORTS']);
  });
});

describe('the path form', () => {
  it('a container without VIRTUAL_PATH does not decide between `/` and `^~ /`', () => {
    const t = build([container('plain', { VIRTUAL_HOST: 'a.example' }, {}, 1), container('stop-regex', { VIRTUAL_HOST: 'a.example', VIRTUAL_PATH: '^~ /' }, {}, 2)]);
    assert.deepEqual(host(t)?.routes.map((r) => [r.path, r.upstreams.length]), [['^~ /', 2]]);
    assert.deepEqual(t.issues, []);
  });
});
