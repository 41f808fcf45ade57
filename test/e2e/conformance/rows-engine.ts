import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { docker, REPO_ROOT } from '../docker-cli.ts';
import { eventually } from '../http-client.ts';
import { get, once, ROUTE_WAIT, routed } from './clients.ts';
import { BOTH, issueLogged, refused } from './row-helpers.ts';
import type { Row } from './types.ts';

/** Section 1.3, the proxy process and its Docker engine: separate mode's label, logs' colours, version, DOCKER_*. */

const VERSION = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** A TCP listener that pipes every connection to the local Docker socket: DOCKER_HOST=tcp:// without dockerd flags. */
function dockerSocketForwarder(port: number): () => Promise<{ stop(): Promise<void> }> {
  return async () => {
    const server = createServer((client) => {
      const engine = connect('/var/run/docker.sock');
      client.on('error', () => engine.destroy());
      engine.on('error', () => client.destroy());
      client.pipe(engine).pipe(client);
    });
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', () => resolve()));
    return { stop: () => new Promise<void>((resolve) => server.close(() => resolve())) };
  };
}

export const ENGINE_ROWS: readonly Row[] = [
  {
    id: 'nginx-container-label',
    section: '1.3',
    setting: 'NGINX_CONTAINER_LABEL (separate-containers mode)',
    nginxProxy: 'The label that marks the nginx container: its networks decide reachability; it is the container signalled to reload',
    planes: {
      node: {
        unsupported: 'separate-containers mode exists only for the nginx data plane (BERTH_NGINX_EXTERNAL); the Node data plane is the proxy itself',
        expect: { kind: 'ignored', host: 'on' },
      },
      nginx: { supported: 'with BERTH_NGINX_EXTERNAL=true and BERTH_NGINX_OUTPUT (see test/e2e/separate-containers.test.ts for a real nginx container)' },
    },
    scenario: (n) => {
      const output = `/tmp/berth-conformance-${n.run}-external.conf`;
      return {
        proxyEnv: { BERTH_NGINX_EXTERNAL: 'true', BERTH_NGINX_OUTPUT: output, NGINX_CONTAINER_LABEL: `conformance.nginx-${n.run}` },
        service: async () => ({ stop: async () => rmSync(output, { force: true }) }),
        networks: [{ key: 'front' }],
        containers: [
          // Stands in for the nginx container: berth takes its networks as the reachable ones and SIGHUPs it.
          { key: 'nginx', labels: { [`conformance.nginx-${n.run}`]: 'true' }, networks: ['front'], init: true },
          { key: 'on', env: { VIRTUAL_HOST: n.host('on') }, networks: ['front'] },
          { key: 'off', env: { VIRTUAL_HOST: n.host('off') } },
        ],
        check: async (ctx) => {
          await issueLogged(ctx, 'off', 'ERR_NO_REACHABLE_NETWORK', 'network');
          const written = await eventually(() => readFileSync(output, 'utf8'), ROUTE_WAIT);
          assert.match(written, new RegExp(n.host('on').replace(/\./g, '\\.')), 'the output file serves the host on the labelled container\'s network');
          // The echo server has no SIGHUP handler: the signal ends it, which shows it was the one signalled.
          await eventually(async () => assert.equal(await docker(['inspect', '-f', '{{.State.Status}}', ctx.container('nginx').id]), 'exited'), ROUTE_WAIT);
        },
      };
    },
  },
  {
    id: 'no-color',
    section: '1.3',
    setting: 'NO_COLOR',
    nginxProxy: 'Disables the coloured log prefixes',
    planes: BOTH,
    scenario: (n) => ({
      proxyEnv: { BERTH_LOG_FORMAT: 'pretty', NO_COLOR: '1' },
      containers: [{ key: 'app', env: { VIRTUAL_HOST: n.domain } }],
      check: async (ctx) => {
        await routed(ctx, n.domain);
        const out = await ctx.proxy.output();
        assert.match(out, /berth ready/);
        assert.ok(!out.includes('\u001b['), 'no ANSI colour escapes in the pretty log');
      },
    }),
  },
  {
    id: 'nginx-proxy-version',
    section: '1.3',
    setting: 'NGINX_PROXY_VERSION',
    nginxProxy: 'Build argument printed at start and as the first config line. berth: its own version in the ready log line and `berth --version`',
    planes: BOTH,
    scenario: (n) => ({
      containers: [{ key: 'app', env: { VIRTUAL_HOST: n.domain } }],
      check: async (ctx) => {
        const ready = await ctx.proxy.waitForLine((l) => l.msg === 'berth ready');
        assert.equal(ready['version'], VERSION);
        const cli = await ctx.proxy.cli(['--version']);
        assert.equal(cli.stdout.trim(), VERSION);
      },
    }),
  },
  {
    id: 'docker-host-tcp',
    section: '1.3',
    setting: 'DOCKER_HOST=tcp://host:port',
    nginxProxy: 'The Docker endpoint: `unix://`, `tcp://host:port`',
    planes: BOTH,
    scenario: (n) => ({
      proxyEnv: { DOCKER_HOST: `tcp://127.0.0.1:${n.port('docker')}` },
      service: dockerSocketForwarder(n.port('docker')),
      containers: [{ key: 'app', env: { VIRTUAL_HOST: n.domain, NAME: 'over-tcp' } }],
      requests: [{ host: n.domain, expect: { status: 200, echo: { name: 'over-tcp' } } }],
    }),
  },
  {
    id: 'docker-host-missing-socket',
    section: '1.3',
    setting: 'DOCKER_HOST=unix:// with no socket there',
    nginxProxy: 'The entrypoint refuses to start (exit 1) and says to mount the socket',
    planes: refused('berth exits 1 with ERR_DOCKER_SOCKET_MISSING and the -v option to add'),
    scenario: () => ({
      proxyEnv: { DOCKER_HOST: 'unix:///nonexistent/docker.sock' },
      containers: [],
      refusesStart: /ERR_DOCKER_SOCKET_MISSING[\s\S]*\/nonexistent\/docker\.sock[\s\S]*-v \/var\/run\/docker\.sock:\/tmp\/docker\.sock:ro/,
    }),
  },
  {
    id: 'docker-container-filters',
    section: '1.3',
    setting: 'DOCKER_CONTAINER_FILTERS',
    nginxProxy: 'docker ps filters (`label=...`, `network=...`) limit the containers considered',
    planes: BOTH,
    scenario: (n) => ({
      proxyEnv: { DOCKER_CONTAINER_FILTERS: `label=conformance.filter=${n.run}` },
      containers: [
        { key: 'in', labels: { 'conformance.filter': n.run }, env: { VIRTUAL_HOST: n.host('in') } },
        { key: 'out', env: { VIRTUAL_HOST: n.host('out') } },
      ],
      check: async (ctx) => {
        await routed(ctx, n.host('in'));
        assert.equal((await get(ctx, n.host('out'))).status, 503, 'a container the filter excludes is not routed');
        await once(ctx, n.host('in'));
      },
    }),
  },
];
