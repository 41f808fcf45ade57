import assert from 'node:assert/strict';
import { answers, get, names, once, routed } from './clients.ts';
import { BOTH, refused, issueLogged, NGINX_PROXY_LABEL, tlsRow } from './row-helpers.ts';
import type { ContainerSpec, Names, Row, RowContext } from './types.ts';

/** Section 1.2: nginx-proxy's labels on proxied containers. */

const LB = `${NGINX_PROXY_LABEL}.loadbalance`;
const KEEPALIVE = `${NGINX_PROXY_LABEL}.keepalive`;

/** `count` replicas of one host, named r1..rN, with the same labels. */
function replicas(n: Names, count: number, labels: Record<string, string> = {}, env: Record<string, string> = {}): ContainerSpec[] {
  return Array.from({ length: count }, (_, i) => ({ key: `r${i + 1}`, labels, env: { VIRTUAL_HOST: n.domain, NAME: `r${i + 1}`, ...env } }));
}

const distinct = (values: readonly string[]): string[] => [...new Set(values)].sort();

/** Backend connection reuse as the backend sees it: its peer's port per request. */
async function peerPorts(ctx: RowContext, host: string, count: number): Promise<{ ports: number[]; connection: (string | undefined)[] }> {
  const ports: number[] = [];
  const connection: (string | undefined)[] = [];
  for (let i = 0; i < count; i += 1) {
    const reply = await once(ctx, host);
    ports.push(reply.remotePort);
    connection.push(reply.headers['connection']);
  }
  return { ports, connection };
}

/**
 * least_conn: r1 answers after 3 s, r2 at once. Twelve requests started 50 ms apart: with least_conn, r1 never
 * gets a new request while it has one in flight (at most one per nginx worker), round robin would give it half.
 */
async function leastConn(ctx: RowContext, host: string): Promise<void> {
  await routed(ctx, host);
  const pending: Promise<string>[] = [];
  for (let i = 0; i < 12; i += 1) {
    pending.push(once(ctx, host).then((r) => r.name));
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const seen = await Promise.all(pending);
  const slow = seen.filter((s) => s === 'r1').length;
  assert.ok(slow <= 2, `the slow replica got ${slow} of 12 requests (${seen.join(',')}); least_conn sends it at most one at a time per worker`);
}

export const LABEL_ROWS: readonly Row[] = [
  {
    id: 'loadbalance-round-robin',
    section: '1.2',
    setting: 'Replicas (same host and path), no loadbalance label',
    nginxProxy: 'One `server` line per container in a shared upstream: round robin',
    planes: BOTH,
    scenario: (n) => ({
      containers: replicas(n, 2),
      check: async (ctx) => {
        await routed(ctx, n.domain);
        const seen = await names(ctx, n.domain, 10);
        assert.deepEqual(distinct(seen), ['r1', 'r2'], `round robin reaches both: ${seen.join(',')}`);
      },
    }),
  },
  {
    id: 'loadbalance-least-conn',
    section: '1.2',
    setting: '`loadbalance` label: `least_conn;`',
    nginxProxy: 'Raw directive in the upstream block: the server with the fewest active connections',
    planes: BOTH,
    scenario: (n) => ({
      containers: [
        { key: 'r1', labels: { [LB]: 'least_conn;' }, env: { VIRTUAL_HOST: n.domain, NAME: 'r1', RESPONSE_DELAY: '3000' } },
        { key: 'r2', labels: { [LB]: 'least_conn;' }, env: { VIRTUAL_HOST: n.domain, NAME: 'r2' } },
      ],
      check: (ctx) => leastConn(ctx, n.domain),
    }),
  },
  {
    id: 'loadbalance-ip-hash',
    section: '1.2',
    setting: '`loadbalance` label: `ip_hash;`',
    nginxProxy: 'One client address, one backend',
    planes: BOTH,
    scenario: (n) => ({
      containers: replicas(n, 2, { [LB]: 'ip_hash;' }),
      check: async (ctx) => {
        await routed(ctx, n.domain);
        const seen = await names(ctx, n.domain, 10);
        assert.equal(distinct(seen).length, 1, `one client, one backend: ${seen.join(',')}`);
      },
    }),
  },
  {
    id: 'loadbalance-hash-remote-addr',
    section: '1.2',
    setting: '`loadbalance` label: `hash $remote_addr;`',
    nginxProxy: 'The README\'s example: sticky by client address',
    planes: BOTH,
    scenario: (n) => ({
      containers: replicas(n, 2, { [LB]: 'hash $remote_addr;' }),
      check: async (ctx) => {
        await routed(ctx, n.domain);
        const seen = await names(ctx, n.domain, 10);
        assert.equal(distinct(seen).length, 1, `one client, one backend: ${seen.join(',')}`);
      },
    }),
  },
  {
    id: 'loadbalance-hash-consistent',
    section: '1.2',
    setting: '`loadbalance` label: `hash $request_uri consistent;`',
    nginxProxy: 'Same key, same backend; keys spread over the backends (ketama ring)',
    planes: BOTH,
    scenario: (n) => ({
      containers: replicas(n, 3, { [LB]: 'hash $request_uri consistent;' }),
      check: async (ctx) => {
        await routed(ctx, n.domain);
        const byUri = new Map<string, string>();
        for (let i = 0; i < 24; i += 1) byUri.set(`/k${i}`, (await once(ctx, n.domain, `/k${i}`)).name);
        for (const [uri, name] of [...byUri].slice(0, 8)) assert.equal((await once(ctx, n.domain, uri)).name, name, `${uri} moved`);
        assert.ok(distinct([...byUri.values()]).length >= 2, `24 keys all on one backend: ${[...byUri.values()].join(',')}`);
      },
    }),
  },
  {
    id: 'loadbalance-random-two',
    section: '1.2',
    setting: '`loadbalance` label: `random two least_conn;`',
    nginxProxy: 'Two random servers, the one with fewer connections',
    planes: BOTH,
    scenario: (n) => ({
      containers: replicas(n, 2, { [LB]: 'random two least_conn;' }),
      check: async (ctx) => {
        await routed(ctx, n.domain);
        const seen = await names(ctx, n.domain, 20);
        assert.deepEqual(distinct(seen), ['r1', 'r2'], `random reaches both: ${seen.join(',')}`);
      },
    }),
  },
  {
    id: 'loadbalance-invalid',
    section: '1.2',
    setting: '`loadbalance` label with a value that is not a balancing directive',
    nginxProxy: 'Inserted raw: a bad value breaks the nginx config reload. berth: the container is skipped, an error names it',
    planes: refused('ERR_SETTING_INVALID names the container and the label; the container is not routed'),
    scenario: (n) => ({
      containers: [
        { key: 'app', labels: { [LB]: 'proxy_pass http://evil;' }, env: { VIRTUAL_HOST: n.domain } },
        { key: 'neighbour', env: { VIRTUAL_HOST: n.host('neighbour') } },
      ],
      check: async (ctx) => {
        await routed(ctx, n.host('neighbour'));
        await issueLogged(ctx, 'app', 'ERR_SETTING_INVALID', LB);
        await answers(ctx, n.domain, 503);
      },
    }),
  },
  {
    id: 'keepalive-auto',
    section: '1.2',
    setting: '`keepalive` label: `auto` (default)',
    nginxProxy: '`keepalive <2 x servers>`: connections to the backend are reused; the backend sees no Connection header',
    planes: {
      node: { supported: 'connections are reused; the backend sees `Connection: keep-alive` (the HTTP client berth uses always sends it), never `close`' },
      nginx: 'supported',
    },
    scenario: (n) => ({
      containers: [{ key: 'app', env: { VIRTUAL_HOST: n.domain } }],
      check: async (ctx) => {
        await routed(ctx, n.domain);
        const { ports, connection } = await peerPorts(ctx, n.domain, 6);
        assert.ok(distinct(ports.map(String)).length < 6, `no connection to the backend was reused: ports ${ports.join(',')}`);
        const allowed = ctx.plane === 'node' ? [undefined, 'keep-alive'] : [undefined];
        assert.ok(connection.every((c) => allowed.includes(c)), `the backend saw Connection headers: ${connection.join(',')}`);
      },
    }),
  },
  {
    id: 'keepalive-number',
    section: '1.2',
    setting: '`keepalive` label: a number',
    nginxProxy: '`keepalive N`: up to N idle connections per worker are kept',
    planes: BOTH,
    scenario: (n) => ({
      containers: [{ key: 'app', labels: { [KEEPALIVE]: '4' }, env: { VIRTUAL_HOST: n.domain } }],
      check: async (ctx) => {
        await routed(ctx, n.domain);
        const { ports } = await peerPorts(ctx, n.domain, 6);
        assert.ok(distinct(ports.map(String)).length < 6, `no connection to the backend was reused: ports ${ports.join(',')}`);
      },
    }),
  },
  {
    id: 'keepalive-disabled',
    section: '1.2',
    setting: '`keepalive` label: `disabled`',
    nginxProxy: 'No keepalive: `Connection: close` upstream, a new connection per request',
    planes: BOTH,
    scenario: (n) => ({
      containers: [{ key: 'app', labels: { [KEEPALIVE]: 'disabled' }, env: { VIRTUAL_HOST: n.domain } }],
      check: async (ctx) => {
        await routed(ctx, n.domain);
        const { ports, connection } = await peerPorts(ctx, n.domain, 4);
        assert.deepEqual(connection, ['close', 'close', 'close', 'close']);
        assert.equal(distinct(ports.map(String)).length, 4, `connections were reused: ports ${ports.join(',')}`);
      },
    }),
  },
  {
    id: 'debug-endpoint-label',
    section: '1.2',
    setting: '`debug-endpoint` label',
    nginxProxy: '`location /nginx-proxy-debug` answers 200 JSON (global, request, vhost) on that host only',
    planes: BOTH,
    scenario: (n) => ({
      containers: [
        { key: 'app', labels: { [`${NGINX_PROXY_LABEL}.debug-endpoint`]: 'true' }, env: { VIRTUAL_HOST: n.domain } },
        { key: 'other', env: { VIRTUAL_HOST: n.host('other') } },
      ],
      check: async (ctx) => {
        await routed(ctx, n.domain);
        const res = await get(ctx, n.domain, '/nginx-proxy-debug');
        assert.equal(res.status, 200, res.body.slice(0, 300));
        assert.match(String(res.headers['content-type']), /application\/json/);
        const json = JSON.parse(res.body) as { global?: unknown; request?: { host?: string }; vhost?: { hostname?: string } };
        assert.equal(json.vhost?.hostname, n.domain);
        assert.equal(typeof json.global, 'object');
        assert.equal(json.request?.host, n.domain);
        const other = await routed(ctx, n.host('other'), '/nginx-proxy-debug');
        assert.equal(other.url, '/nginx-proxy-debug', 'a host without the label passes the path to its backend');
      },
    }),
  },
  {
    id: 'nginx-label',
    section: '1.2',
    setting: '`nginx` label on the nginx container (separate-containers mode)',
    nginxProxy: 'Marks the nginx container: its networks decide reachability, and docker-gen signals it to reload',
    planes: {
      node: {
        unsupported: 'separate-containers mode exists only for the nginx data plane (BERTH_NGINX_EXTERNAL); the Node data plane is the proxy itself',
        expect: { kind: 'ignored', host: '' },
      },
      nginx: { coveredBy: 'test/e2e/separate-containers.test.ts' },
    },
    scenario: (n) => ({
      networks: [{ key: 'elsewhere' }],
      containers: [
        { key: 'nginx', labels: { [`${NGINX_PROXY_LABEL}.nginx`]: 'true' }, networks: ['elsewhere'] },
        { key: 'app', env: { VIRTUAL_HOST: n.domain } },
      ],
    }),
  },
  tlsRow('http2-enable-label', '1.2', '`http2.enable` label', 'Adds `http2 on;` to the host\'s (TLS) server blocks'),
  tlsRow('http3-enable-label', '1.2', '`http3.enable` label', 'HTTP/3 (QUIC) on the host\'s HTTPS port'),
  tlsRow('non-get-redirect-label', '1.2', '`non-get-redirect` label', 'Status (307/308) of the HTTP->HTTPS redirect for non-GET methods'),
  tlsRow('ssl-verify-client-label', '1.2', '`ssl_verify_client` label', 'Client certificate verification mode when a CA file exists'),
  tlsRow('trust-default-cert-label', '1.2', '`trust-default-cert` label', 'Whether default.crt may serve this host'),
];
