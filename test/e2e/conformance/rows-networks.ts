import assert from 'node:assert/strict';
import { answers, routed } from './clients.ts';
import { BOTH, issueLogged } from './row-helpers.ts';
import type { Row } from './types.ts';

/**
 * Section 1.5 network reachability, with berth in a container as nginx-proxy runs (the berth:local image, on the
 * group networks `berth` and `berth2`), and host-network backends. nginx-proxy's separate-containers mode (the nginx
 * container's networks decide) is test/e2e/separate-containers.test.ts; `ingress` (Swarm) is not exercised here.
 */

interface RoutesJson {
  hosts: Array<{ hostname: string; routes: Array<{ path: string; backends: Array<{ container: string; address: string; network: string }> }> }>;
}

export const NETWORK_ROWS: readonly Row[] = [
  {
    id: 'network-shared',
    section: '1.5',
    setting: 'Backend on a network berth shares',
    nginxProxy: 'Routed on its address on the shared network',
    planes: BOTH,
    scenario: (n) => ({
      berth: 'container',
      containers: [{ key: 'app', env: { VIRTUAL_HOST: n.domain, NAME: 'shared' }, networks: ['berth'] }],
      requests: [{ host: n.domain, expect: { status: 200, echo: { name: 'shared' } } }],
    }),
  },
  {
    id: 'network-unshared',
    section: '1.5',
    setting: 'Backend on no network berth shares',
    nginxProxy: 'The host exists with a `down` placeholder upstream: 502; berth also names the container (ERR_NO_REACHABLE_NETWORK)',
    planes: BOTH,
    scenario: (n) => ({
      berth: 'container',
      networks: [{ key: 'other' }],
      containers: [{ key: 'app', env: { VIRTUAL_HOST: n.domain }, networks: ['other'] }],
      check: async (ctx) => {
        await answers(ctx, n.domain, 502);
        await issueLogged(ctx, 'app', 'ERR_NO_REACHABLE_NETWORK', 'network');
      },
    }),
  },
  {
    id: 'network-two-shared-one-address',
    section: '1.5',
    setting: 'Backend on two networks berth shares',
    nginxProxy: 'One `server` line per container (the first reachable network in name order), so weights are not inflated',
    planes: BOTH,
    scenario: (n) => ({
      berth: 'container',
      containers: [{ key: 'app', env: { VIRTUAL_HOST: n.domain }, networks: ['berth', 'berth2'] }],
      check: async (ctx) => {
        await routed(ctx, n.domain);
        const result = await ctx.proxy.cli(['routes', '--json']);
        assert.equal(result.code, 0, result.stderr);
        const host = (JSON.parse(result.stdout) as RoutesJson).hosts.find((h) => h.hostname === n.domain);
        assert.equal(host?.routes[0]?.backends.length, 1, `one backend address for the container: ${JSON.stringify(host)}`);
      },
    }),
  },
  {
    id: 'network-host-mode-backend',
    section: '1.5',
    setting: 'Backend in `network_mode: host` (berth in a container)',
    nginxProxy: 'Reached on the gateway of the proxy\'s first network with a gateway, at VIRTUAL_PORT',
    planes: BOTH,
    scenario: (n) => ({
      berth: 'container',
      containers: [{ key: 'app', hostNetwork: true, env: { VIRTUAL_HOST: n.domain, PORT: String(n.port('host')), VIRTUAL_PORT: String(n.port('host')), NAME: 'host-mode' } }],
      requests: [{ host: n.domain, expect: { status: 200, echo: { name: 'host-mode', port: n.port('host') } } }],
    }),
  },
  {
    id: 'network-host-mode-backend-host-proxy',
    section: '1.5',
    setting: 'Backend in `network_mode: host` (berth on the host)',
    nginxProxy: 'Both in host mode: reached on 127.0.0.1 at VIRTUAL_PORT',
    planes: BOTH,
    scenario: (n) => ({
      containers: [{ key: 'app', hostNetwork: true, env: { VIRTUAL_HOST: n.domain, PORT: String(n.port('host')), VIRTUAL_PORT: String(n.port('host')), NAME: 'host-mode' } }],
      requests: [{ host: n.domain, expect: { status: 200, echo: { name: 'host-mode', port: n.port('host'), remoteAddress: '127.0.0.1' } } }],
    }),
  },
];
