import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RoutingTable } from '../routing-table.ts';
import { buildRoutingTable, type BuildOptions } from './build-routing-table.ts';
import type { ContainerInfo } from './container-info.ts';

let nextIp = 2;
function container(name: string, env: Record<string, string>, labels: Record<string, string> = {}, created?: number): ContainerInfo {
  return {
    id: `id-${name}`, name, env, labels, exposedPorts: [80],
    networks: [{ name: 'web', ipAddress: `10.0.0.${nextIp++}`, ipv6Address: '', gateway: '' }],
    networkMode: 'default', health: 'none', stopping: false,
    ...(created === undefined ? {} : { created }),
  };
}

const build = (containers: ContainerInfo[], options: BuildOptions = {}): RoutingTable => buildRoutingTable(containers, null, options);
const host = (t: RoutingTable, name = 'a.example') => t.hosts.find((h) => h.hostname === name);
const route = (t: RoutingTable, path = '/', name = 'a.example') => host(t, name)?.routes.find((r) => r.path === path);
const codes = (t: RoutingTable) => t.issues.map((i) => `${i.containerName} ${i.code} ${i.setting}`);

describe('buildRoutingTable: per-path settings', () => {
  it('VIRTUAL_PATH forms become routes, sorted: non-regex by path, then regexes by text', () => {
    const paths = ['~ ^/z', '/b', '= /a', '^~/c', '', '~* ^/a'];
    const t = build(paths.map((p, i) => container(`c${i}`, { VIRTUAL_HOST: 'a.example', VIRTUAL_PATH: p })));
    assert.deepEqual(host(t)?.routes.map((r) => r.path), ['/', '= /a', '/b', '^~ /c', '~ ^/z', '~* ^/a']);
    assert.deepEqual(route(t, '^~ /c')?.match, { kind: 'prefix-no-regex', value: '/c' });
    assert.deepEqual(route(t, '~* ^/a')?.match, { kind: 'regex', value: '^/a', caseInsensitive: true });
    assert.deepEqual(t.issues, []);
  });
  it('containers with the same host and path share one route', () => {
    const t = build([container('a1', { VIRTUAL_HOST: 'a.example', VIRTUAL_PATH: '/api' }), container('a2', { VIRTUAL_HOST: 'A.example', VIRTUAL_PATH: ' /api ' })]);
    assert.deepEqual(host(t)?.routes.map((r) => [r.path, r.upstreams.map((u) => u.containerName)]), [['/api', ['a1', 'a2']]]);
  });
  it('`/x` and `^~ /x` are one location (nginx refuses both): the earliest container decides, the other is warned', () => {
    const t = build([container('late', { VIRTUAL_HOST: 'a.example', VIRTUAL_PATH: '^~ /x' }, {}, 2000), container('early', { VIRTUAL_HOST: 'a.example', VIRTUAL_PATH: '/x' }, {}, 1000)]);
    assert.deepEqual(host(t)?.routes.map((r) => [r.path, r.upstreams.length]), [['/x', 2]]);
    assert.deepEqual(codes(t), ['late WARN_SETTING_CONFLICT VIRTUAL_PATH']);
  });
  it('VIRTUAL_DEST, VIRTUAL_PROTO, NETWORK_ACCESS, loadbalance and keepalive labels', () => {
    const t = build([container('app', { VIRTUAL_HOST: 'a.example', VIRTUAL_PATH: '/app1/', VIRTUAL_DEST: '/', VIRTUAL_PROTO: 'HTTPS', NETWORK_ACCESS: 'internal' }, {
      'com.github.nginx-proxy.nginx-proxy.loadbalance': 'hash $remote_addr consistent;',
      'com.github.nginx-proxy.nginx-proxy.keepalive': '32',
    })]);
    const r = route(t, '/app1/');
    assert.deepEqual([r?.dest, r?.proto, r?.networkAccess, r?.loadBalance, r?.keepalive], ['/', 'https', 'internal', { kind: 'hash', key: '$remote_addr', consistent: true }, 32]);
  });
  it('defaults: http, no dest, external, round robin, keepalive auto', () => {
    const r = route(build([container('app', { VIRTUAL_HOST: 'a.example' })]));
    assert.deepEqual([r?.dest, r?.proto, r?.networkAccess, r?.loadBalance, r?.keepalive], ['', 'http', 'external', { kind: 'round-robin' }, 'auto']);
  });
});

describe('buildRoutingTable: per-host settings', () => {
  it('EXTERNAL_HTTP_PORT, SERVER_TOKENS, VIRTUAL_ROOT and the debug-endpoint label', () => {
    const t = build([container('app', { VIRTUAL_HOST: 'a.example', EXTERNAL_HTTP_PORT: '8080', SERVER_TOKENS: 'Off', VIRTUAL_ROOT: '/app/public' }, {
      'com.github.nginx-proxy.nginx-proxy.debug-endpoint': 'true',
    })]);
    const h = host(t);
    assert.deepEqual([h?.httpPort, h?.serverTokens, h?.root, h?.debugEndpoint, h?.kind], [8080, 'off', '/app/public', true, 'exact']);
  });
  it('defaults: global port, no server_tokens, /var/www/public, global debug endpoint', () => {
    const h = host(build([container('app', { VIRTUAL_HOST: 'a.example' })]));
    assert.deepEqual([h?.httpPort, h?.serverTokens, h?.root, h?.debugEndpoint], [undefined, undefined, '/var/www/public', undefined]);
  });
  it('host kinds', () => {
    const t = build([container('app', { VIRTUAL_HOST: '*.a.example,b.example.*,~^c\\d\\.example$,10.0.0.1,[fd00::1]' })]);
    assert.deepEqual(t.hosts.map((h) => [h.hostname, h.kind]), [
      ['*.a.example', 'leading-wildcard'], ['10.0.0.1', 'ipv4'], ['[fd00::1]', 'ipv6'], ['b.example.*', 'trailing-wildcard'], ['~^c\\d\\.example$', 'regex'],
    ]);
  });
});

describe('buildRoutingTable: invalid settings skip the container, naming it and the setting', () => {
  const cases: Array<[string, Record<string, string>, Record<string, string>, string, string]> = [
    ['VIRTUAL_PATH', { VIRTUAL_PATH: 'api' }, {}, 'ERR_VIRTUAL_PATH_INVALID', 'VIRTUAL_PATH'],
    ['VIRTUAL_PATH regex', { VIRTUAL_PATH: '~ ^/(?P<x>a)' }, {}, 'ERR_VIRTUAL_PATH_INVALID', 'VIRTUAL_PATH'],
    ['VIRTUAL_DEST', { VIRTUAL_DEST: 'x' }, {}, 'ERR_VIRTUAL_DEST_INVALID', 'VIRTUAL_DEST'],
    ['VIRTUAL_DEST with a regex path', { VIRTUAL_PATH: '~ ^/a', VIRTUAL_DEST: '/' }, {}, 'ERR_VIRTUAL_DEST_INVALID', 'VIRTUAL_DEST'],
    ['VIRTUAL_PROTO', { VIRTUAL_PROTO: 'ftp' }, {}, 'ERR_VIRTUAL_PROTO_INVALID', 'VIRTUAL_PROTO'],
    ['VIRTUAL_ROOT', { VIRTUAL_ROOT: 'www' }, {}, 'ERR_SETTING_INVALID', 'VIRTUAL_ROOT'],
    ['SERVER_TOKENS', { SERVER_TOKENS: 'berth' }, {}, 'ERR_SETTING_INVALID', 'SERVER_TOKENS'],
    ['EXTERNAL_HTTP_PORT', { EXTERNAL_HTTP_PORT: '99999' }, {}, 'ERR_SETTING_INVALID', 'EXTERNAL_HTTP_PORT'],
    ['NETWORK_ACCESS', { NETWORK_ACCESS: 'private' }, {}, 'ERR_SETTING_INVALID', 'NETWORK_ACCESS'],
    ['loadbalance', {}, { 'com.github.nginx-proxy.nginx-proxy.loadbalance': 'sticky;' }, 'ERR_SETTING_INVALID', 'com.github.nginx-proxy.nginx-proxy.loadbalance'],
    ['keepalive', {}, { 'com.github.nginx-proxy.nginx-proxy.keepalive': 'lots' }, 'ERR_SETTING_INVALID', 'com.github.nginx-proxy.nginx-proxy.keepalive'],
    ['debug-endpoint', {}, { 'com.github.nginx-proxy.nginx-proxy.debug-endpoint': 'yes' }, 'ERR_SETTING_INVALID', 'com.github.nginx-proxy.nginx-proxy.debug-endpoint'],
    ['berth.path', {}, { 'berth.path': 'api' }, 'ERR_VIRTUAL_PATH_INVALID', 'berth.path'],
    ['berth.port', {}, { 'berth.port': 'eighty' }, 'ERR_VIRTUAL_PORT_INVALID', 'berth.port'],
    ['berth.host', {}, { 'berth.host': 'a.example:80' }, 'ERR_VIRTUAL_HOST_INVALID', 'berth.host'],
    ['berth.keepalive', {}, { 'berth.keepalive': '0' }, 'ERR_SETTING_INVALID', 'berth.keepalive'],
    ['VIRTUAL_HOST_MULTIPORTS', { VIRTUAL_HOST_MULTIPORTS: 'a.example: [1' }, {}, 'ERR_MULTIPORTS_INVALID', 'VIRTUAL_HOST_MULTIPORTS'],
    ['berth.multiports', {}, { 'berth.multiports': 'a.example: {/: {prot: grpc}}' }, 'ERR_MULTIPORTS_INVALID', 'berth.multiports'],
  ];
  for (const [label, env, labels, code, setting] of cases) {
    it(label, () => {
      const base: Record<string, string> = labels['berth.host'] === undefined ? { VIRTUAL_HOST: 'a.example' } : {};
      const t = build([container('bad', { ...base, ...env }, labels), container('ok', { VIRTUAL_HOST: 'ok.example' })]);
      assert.deepEqual(t.hosts.map((h) => h.hostname), ['ok.example']);
      assert.deepEqual(codes(t), [`bad ${code} ${setting}`]);
      assert.match(t.issues[0]?.message ?? '', new RegExp(`^container bad: ${setting.replace(/\./g, '\\.')} is invalid: .*; container skipped$`));
    });
  }
  it('reports every invalid setting of a container at once', () => {
    const t = build([container('bad', { VIRTUAL_HOST: 'a.example', VIRTUAL_PROTO: 'ftp', NETWORK_ACCESS: 'x' })]);
    assert.deepEqual(codes(t), ['bad ERR_SETTING_INVALID NETWORK_ACCESS', 'bad ERR_VIRTUAL_PROTO_INVALID VIRTUAL_PROTO']);
  });
  it('quotes the parser message for invalid YAML', () => {
    const t = build([container('bad', { VIRTUAL_HOST_MULTIPORTS: 'a.example:\n  /: {}\n  /: {}' })]);
    assert.match(t.issues[0]?.message ?? '', /VIRTUAL_HOST_MULTIPORTS is invalid: is not valid YAML: Map keys must be unique at line 3/);
  });
});

describe('buildRoutingTable: the Node data plane', () => {
  it('refuses uwsgi and fastcgi at the container, and routes them for nginx', () => {
    const cs = [container('php', { VIRTUAL_HOST: 'a.example', VIRTUAL_PROTO: 'fastcgi' }), container('py', { VIRTUAL_HOST: 'b.example' }, { 'berth.proto': 'uwsgi' })];
    const node = build(cs, { plane: 'node' });
    assert.deepEqual(node.hosts, []);
    assert.deepEqual(codes(node), ['php ERR_SETTING_UNSUPPORTED VIRTUAL_PROTO', 'py ERR_SETTING_UNSUPPORTED berth.proto']);
    assert.match(node.issues[0]?.message ?? '', /^container php: VIRTUAL_PROTO is not supported: the Node data plane does not speak fastcgi; use BERTH_MODE=nginx/);
    const nginx = build(cs, { plane: 'nginx' });
    assert.deepEqual(nginx.hosts.map((h) => h.routes[0]?.proto), ['fastcgi', 'uwsgi']);
    assert.deepEqual(nginx.issues, []);
  });
  it('refuses a hash key it cannot evaluate, and accepts the ones it can', () => {
    const lb = 'com.github.nginx-proxy.nginx-proxy.loadbalance';
    const cs = [container('a', { VIRTUAL_HOST: 'a.example' }, { [lb]: 'hash $scheme;' }), container('b', { VIRTUAL_HOST: 'b.example' }, { [lb]: 'hash $http_x_user$remote_addr;' })];
    const node = build(cs, { plane: 'node' });
    assert.deepEqual(node.hosts.map((h) => h.hostname), ['b.example']);
    assert.deepEqual(codes(node), [`a ERR_SETTING_UNSUPPORTED ${lb}`]);
    assert.match(node.issues[0]?.message ?? '', /cannot evaluate \$scheme.*BERTH_MODE=nginx; container skipped/);
    assert.equal(build(cs, { plane: 'nginx' }).hosts.length, 2);
  });
  it('drops only the uwsgi path of a multiports container', () => {
    const t = build([container('mp', { VIRTUAL_HOST_MULTIPORTS: 'a.example: {/: {}, /py: {proto: uwsgi, port: 3031}}' })], { plane: 'node' });
    assert.deepEqual(host(t)?.routes.map((r) => r.path), ['/']);
    assert.deepEqual(codes(t), ['mp ERR_SETTING_UNSUPPORTED VIRTUAL_HOST_MULTIPORTS']);
    assert.match(t.issues[0]?.message ?? '', /asks for proto uwsgi for host a.example, path \/py, which is not supported/);
  });
});
