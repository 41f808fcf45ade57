import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { route } from '../../test/fixtures/nginx/scenario-helpers.ts';
import {
  baselineTracker,
  captureLogger,
  echoBackend,
  freePort,
  requestTo,
  until,
  up,
  type Echo,
  type LogRecord,
  NGINX,
  nginxPlaneEnv,
} from '../../test/fixtures/nginx/plane-helpers.ts';
import { fastcgiBackend, grpcBackend, h2cRequest, httpsBackend, uwsgiBackend, type Listening } from '../../test/fixtures/nginx/proto-backends.ts';
import { loadConfig } from '../config.ts';
import type { DataPlane } from '../data-plane.ts';
import { newVirtualHost as vh, type RoutingTable } from '../routing-table.ts';
import { createNginxDataPlane } from './nginx-data-plane.ts';

/**
 * nginx-proxy's container contract (issue #4) through berth's nginx data plane: real nginx, real backends on
 * 127.0.0.1 (HTTP, HTTPS, FastCGI, uwsgi, h2c), asserting what a client sees. No Docker needed.
 */


describe('nginx data plane: the nginx-proxy contract', { skip: !existsSync(NGINX) }, () => {
  const logs: LogRecord[] = [];
  const closers: (() => void)[] = [];
  let dir = '';
  let plane: DataPlane;
  const ports = { main: 0, second: 0, grpc: 0 };
  const echo: Record<string, number> = {};
  const get = (host: string, path = '/', more: { port?: number; address?: string; headers?: Record<string, string> } = {}) =>
    requestTo({ port: more.port ?? ports.main, host, path, ...(more.address ? { address: more.address } : {}), ...(more.headers ? { headers: more.headers } : {}) });
  const echoOf = async (host: string, path = '/', more: Parameters<typeof get>[2] = {}): Promise<Echo> => {
    const r = await get(host, path, more);
    assert.equal(r.status, 200, `${host}${path}: ${r.status} ${r.body}`);
    return JSON.parse(r.body) as Echo;
  };

  function contractTable(b: { fcgi: Listening; uwsgi: Listening; grpc: Listening; tls: Listening }): RoutingTable {
    const e = (name: string) => up(name, echo[name] ?? 0);
    const hosts = [
      vh({
        hostname: 'paths.test',
        routes: [
          route('/app1/', [e('app1')], { dest: '/' }),
          route('/internal/', [e('app1')], { networkAccess: 'internal' }),
          route('= /exact', [e('exact')]),
          route('^~ /static/', [e('static')]),
          route('~ \\.png$', [e('png')]),
        ],
      }),
      vh({
        hostname: 'lb.test',
        routes: [
          route('/', [e('lb-a'), e('lb-b')], { keepalive: 'disabled' }),
          route('/hash/', [e('lb-a'), e('lb-b')], { loadBalance: { kind: 'hash', key: '$arg_user', consistent: true } }),
          route('/ip/', [e('lb-a'), e('lb-b')], { loadBalance: { kind: 'ip_hash' } }),
          route('/keep/', [e('lb-a')], { keepalive: 8 }),
        ],
      }),
      vh({ hostname: '*.wild.test', routes: [route('/', [e('wild')])] }),
      vh({ hostname: '~^re(\\d+)\\.test$', routes: [route('/', [e('regex')])] }),
      vh({ hostname: '10.9.8.7', routes: [route('/', [e('ip4')])] }),
      vh({ hostname: '[fd00::1]', routes: [route('/', [e('ip6')])] }),
      vh({ hostname: 'debug.test', debugEndpoint: true, serverTokens: 'off', routes: [route('/', [e('app1')])] }),
      vh({ hostname: 'dflt.test', httpPort: ports.second, routes: [route('/', [e('dflt')])] }),
      vh({ hostname: 'php.test', root: '/srv/www', routes: [route('/', [up('php', b.fcgi.port)], { proto: 'fastcgi' })] }),
      vh({ hostname: 'uwsgi.test', routes: [route('/', [up('uwsgi', b.uwsgi.port)], { proto: 'uwsgi' })] }),
      vh({ hostname: 'https.test', routes: [route('/', [up('tls', b.tls.port)], { proto: 'https', dest: '/base/' })] }),
      vh({ hostname: 'grpc.test', httpPort: ports.grpc, routes: [route('/', [up('grpc', b.grpc.port)], { proto: 'grpc' })] }),
      vh({ hostname: 'mixedgrpc.test', routes: [route('/', [up('mixed-grpc', b.grpc.port)], { proto: 'grpc' })] }),
    ];
    return { hosts: hosts.sort((x, y) => (x.hostname < y.hostname ? -1 : 1)), issues: [] };
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-contract-'));
    [ports.main, ports.second, ports.grpc] = await Promise.all([freePort(), freePort(), freePort()]);
    for (const name of ['app1', 'exact', 'static', 'png', 'lb-a', 'lb-b', 'wild', 'regex', 'ip4', 'ip6', 'dflt']) {
      const b = await echoBackend(name);
      echo[name] = b.port;
      closers.push(() => (b.server as http.Server).close());
    }
    const backends = { fcgi: await fastcgiBackend(), uwsgi: await uwsgiBackend(), grpc: await grpcBackend(), tls: await httpsBackend(dir) };
    closers.push(...Object.values(backends).map((b) => () => b.close()));
    const config = loadConfig({
      HTTP_PORT: String(ports.main),
      BERTH_LISTEN_ADDRESS: '127.0.0.1',
      ENABLE_IPV6: 'true',
      DEFAULT_HOST: 'dflt.test',
      DEFAULT_ROOT: '301 http://$host/web1$request_uri',
      LOG_FORMAT: 'berth $host "$request_uri" $status',
      ...nginxPlaneEnv(dir),
    });
    const logger = captureLogger(logs);
    plane = createNginxDataPlane({ config, logger, readiness: baselineTracker(logger), nginxStdout: 'ignore', accessLog: join(dir, 'access.log') });
    await plane.apply(contractTable(backends));
    await plane.start();
  });

  after(async () => {
    await plane.stop(1000).catch(() => undefined);
    for (const close of closers) close();
    await rm(dir, { recursive: true, force: true });
  });

  it('VIRTUAL_PATH forms select locations as nginx does; VIRTUAL_DEST replaces the matched prefix', async () => {
    assert.deepEqual([(await echoOf('paths.test', '/app1/foo?x=1')).name, (await echoOf('paths.test', '/app1/foo?x=1')).url], ['app1', '/foo?x=1']);
    assert.equal((await echoOf('paths.test', '/exact')).name, 'exact');
    assert.equal((await echoOf('paths.test', '/static/a.png')).name, 'static', '^~ stops the regex search');
    assert.equal((await echoOf('paths.test', '/img/a.png')).name, 'png');
    assert.equal((await echoOf('paths.test', '/internal/x')).name, 'app1', 'loopback is an internal client');
  });

  it('DEFAULT_ROOT answers / (and unmatched paths) with its return, variables expanded', async () => {
    const root = await get('paths.test', '/');
    assert.equal(root.status, 301);
    assert.equal(root.headers.location, 'http://paths.test/web1/');
    const other = await get('paths.test', '/exact/more?q=1');
    assert.equal(other.headers.location, 'http://paths.test/web1/exact/more?q=1');
  });

  it('host forms: wildcard, regex, IPv4 and IPv6 names; unknown host 503', async () => {
    assert.equal((await echoOf('a.wild.test')).name, 'wild');
    assert.equal((await echoOf('re42.test')).name, 'regex');
    assert.equal((await get('re.test')).status, 503);
    assert.equal((await echoOf('10.9.8.7')).name, 'ip4');
    assert.equal((await echoOf('[fd00::1]')).name, 'ip6');
    assert.equal((await get('nobody.test')).status, 503);
  });

  it('ENABLE_IPV6 listens on the IPv6 twin too', async () => {
    assert.equal((await echoOf('a.wild.test', '/', { address: '::1' })).name, 'wild');
  });

  it('EXTERNAL_HTTP_PORT: the host is served only on its port; DEFAULT_HOST is the default there', async () => {
    assert.equal((await echoOf('dflt.test', '/', { port: ports.second })).name, 'dflt');
    assert.equal((await echoOf('unknown.test', '/', { port: ports.second })).name, 'dflt');
    assert.equal((await get('dflt.test')).status, 503, 'not on HTTP_PORT');
    assert.equal((await get('a.wild.test', '/', { port: ports.second })).status, 200, 'DEFAULT_HOST answers unknown hosts on its port');
  });

  it('keepalive label: disabled sends Connection: close upstream, a number keeps connections (no Connection header)', async () => {
    assert.equal((await echoOf('lb.test', '/')).headers.connection, 'close');
    assert.equal((await echoOf('lb.test', '/keep/')).headers.connection, undefined);
  });

  it('loadbalance label: round robin alternates, ip_hash and hash keep a client/key on one backend', async () => {
    const rr = new Set<string>();
    for (let i = 0; i < 4; i++) rr.add((await echoOf('lb.test', '/')).name);
    assert.deepEqual([...rr].sort(), ['lb-a', 'lb-b']);
    const ip = new Set<string>();
    for (let i = 0; i < 6; i++) ip.add((await echoOf('lb.test', '/ip/')).name);
    assert.equal(ip.size, 1);
    for (const user of ['alice', 'bob', 'carol']) {
      const seen = new Set<string>();
      for (let i = 0; i < 4; i++) seen.add((await echoOf('lb.test', `/hash/?user=${user}`)).name);
      assert.equal(seen.size, 1, user);
    }
  });

  it('SERVER_TOKENS=off hides the version on that host only', async () => {
    assert.equal((await get('debug.test')).headers.server, 'nginx');
    assert.match(String((await get('a.wild.test')).headers.server), /^nginx\/\d/);
  });

  it('the debug endpoint answers JSON with `$` kept literal and the request host filled in', async () => {
    const r = await get('debug.test', '/nginx-proxy-debug');
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-type']), /application\/json/);
    const json = JSON.parse(r.body) as { global: Record<string, unknown>; request: Record<string, unknown>; vhost: Record<string, unknown> };
    assert.equal(json.global['log_format'], 'berth $host "$request_uri" $status');
    assert.equal(json.global['default_root_response'], '301 http://$host/web1$request_uri');
    assert.equal(json.request['host'], 'debug.test');
    assert.equal(json.vhost['hostname'], 'debug.test');
    assert.equal((await get('paths.test', '/nginx-proxy-debug')).status, 301, 'only where enabled');
  });

  it('VIRTUAL_PROTO=fastcgi: fastcgi.conf params with VIRTUAL_ROOT, keep-alive on', async () => {
    const r = await get('php.test', '/index.php?x=1');
    assert.equal(r.status, 200, r.body);
    const body = JSON.parse(r.body) as { params: Record<string, string>; keepConn: boolean };
    assert.equal(body.params['SCRIPT_FILENAME'], '/srv/www/index.php');
    assert.equal(body.params['QUERY_STRING'], 'x=1');
    assert.equal(body.params['HTTP_HOST'], 'php.test');
    assert.equal(body.keepConn, true);
  });

  it('VIRTUAL_PROTO=uwsgi: uwsgi_params inline', async () => {
    const r = await get('uwsgi.test', '/app/x?y=2');
    assert.equal(r.status, 200, r.body);
    const { vars } = JSON.parse(r.body) as { vars: Record<string, string> };
    assert.equal(vars['REQUEST_URI'], '/app/x?y=2');
    assert.equal(vars['PATH_INFO'], '/app/x');
    assert.equal(vars['REQUEST_METHOD'], 'GET');
  });

  it('VIRTUAL_PROTO=https: TLS to the backend (certificate not verified), VIRTUAL_DEST applied', async () => {
    const r = await get('https.test', '/x');
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(JSON.parse(r.body), { url: '/base/x', tls: true, host: `https.test:${ports.main}` });
  });

  it('VIRTUAL_PROTO=grpc on its own port: h2c with prior knowledge, X-Real-IP set', async () => {
    const r = await h2cRequest(ports.grpc, 'grpc.test', '/pkg.Svc/Call');
    assert.equal(r.status, 200);
    const headers = JSON.parse(r.body) as Record<string, string>;
    assert.equal(headers[':path'], '/pkg.Svc/Call');
    assert.equal(headers['x-real-ip'], '127.0.0.1');
    assert.equal(headers['x-forwarded-for'], '127.0.0.1');
  });

  it('a grpc route on a port shared with HTTP/1 hosts is left out and reported at the container', async () => {
    assert.equal((await get('mixedgrpc.test')).status, 503);
    const report = logs.find((l) => l.code === 'ERR_SETTING_UNSUPPORTED' && l['container'] === 'mixed-grpc');
    assert.ok(report, 'the grpc container is reported');
    assert.equal(report['setting'], 'VIRTUAL_PROTO');
    assert.match(report.msg, /EXTERNAL_HTTP_PORT/);
  });

  it('LOG_FORMAT shapes the access log lines', async () => {
    await get('paths.test', '/app1/logged');
    const line = await until('the access log line', async () => {
      const text = await readFile(join(dir, 'access.log'), 'utf8').catch(() => '');
      return text.split('\n').find((l) => l.includes('/app1/logged'));
    });
    assert.equal(line, 'berth paths.test "/app1/logged" 200');
  });
});
