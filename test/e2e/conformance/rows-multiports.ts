import assert from 'node:assert/strict';
import { answers, get, names, routed } from './clients.ts';
import { BOTH, refused, issueLogged } from './row-helpers.ts';
import type { Row } from './types.ts';

/** Section 1.1 VIRTUAL_HOST_MULTIPORTS: YAML and JSON, merged with plain containers, invalid values. */
export const MULTIPORTS_ROWS: readonly Row[] = [
  {
    id: 'multiports-yaml',
    section: '1.1',
    setting: 'VIRTUAL_HOST_MULTIPORTS (YAML)',
    nginxProxy: 'host -> { path -> { port, proto, dest } }; an empty host is `/` on the port rule; an empty path entry takes the port rule',
    planes: BOTH,
    scenario: (n) => ({
      containers: [
        {
          key: 'app',
          env: {
            PORTS: '8080,9000',
            NAME: 'multi',
            VIRTUAL_HOST_MULTIPORTS: [
              `${n.host('api')}:`,
              '  "/":',
              '    port: 8080',
              '  "/admin/":',
              '    port: 9000',
              '    dest: "/"',
              `${n.host('www')}:`,
              `${n.host('docs')}:`,
              '  "/docs/":',
            ].join('\n'),
          },
          expose: [8080, 9000],
        },
      ],
      requests: [
        { host: n.host('api'), path: '/x', expect: { status: 200, echo: { name: 'multi', port: 8080, url: '/x' } } },
        { host: n.host('api'), path: '/admin/users', expect: { status: 200, echo: { port: 9000, url: '/users' } } },
        { host: n.host('www'), expect: { status: 200, echo: { port: 80 } } },
        { host: n.host('docs'), path: '/docs/a', expect: { status: 200, echo: { port: 80, url: '/docs/a' } } },
        { host: n.host('docs'), path: '/', expect: { status: 404 } },
      ],
    }),
  },
  {
    id: 'multiports-json',
    section: '1.1',
    setting: 'VIRTUAL_HOST_MULTIPORTS (JSON)',
    nginxProxy: 'The same map written as JSON (YAML is a superset)',
    planes: BOTH,
    scenario: (n) => ({
      containers: [
        {
          key: 'app',
          image: 'bare',
          env: { PORT: '8080', PORTS: '9000', VIRTUAL_HOST_MULTIPORTS: JSON.stringify({ [n.domain]: { '/': { port: 8080 }, '/b/': { port: 9000, dest: '/' } } }) },
          expose: [8080, 9000],
        },
      ],
      requests: [
        { host: n.domain, path: '/a', expect: { status: 200, echo: { port: 8080 } } },
        { host: n.domain, path: '/b/c', expect: { status: 200, echo: { port: 9000, url: '/c' } } },
      ],
    }),
  },
  {
    id: 'multiports-merged-with-plain',
    section: '1.1',
    setting: 'VIRTUAL_HOST_MULTIPORTS merged with plain VIRTUAL_HOST containers',
    nginxProxy: 'A multiports entry and a plain container with the same host and path share one upstream',
    planes: BOTH,
    scenario: (n) => ({
      containers: [
        { key: 'multi', env: { NAME: 'multi', PORTS: '8080', VIRTUAL_HOST_MULTIPORTS: `${n.domain}:\n  "/":\n    port: 8080\n` }, expose: [8080] },
        { key: 'plain', env: { NAME: 'plain', VIRTUAL_HOST: n.domain } },
      ],
      check: async (ctx) => {
        await routed(ctx, n.domain);
        const seen = await names(ctx, n.domain, 10);
        assert.deepEqual([...new Set(seen)].sort(), ['multi', 'plain'], `both containers serve the host: ${seen.join(',')}`);
      },
    }),
  },
  {
    id: 'multiports-overrides-plain-settings',
    section: '1.1',
    setting: 'VIRTUAL_HOST_MULTIPORTS with VIRTUAL_HOST on the same container',
    nginxProxy: 'Multiports completely overrides VIRTUAL_HOST/PORT/PROTO/PATH/DEST on that container',
    planes: BOTH,
    scenario: (n) => ({
      containers: [{ key: 'app', env: { VIRTUAL_HOST: n.host('plain'), VIRTUAL_PATH: '/p/', VIRTUAL_HOST_MULTIPORTS: `${n.host('multi')}: {}` } }],
      requests: [
        { host: n.host('multi'), expect: { status: 200, echo: { url: '/' } } },
        { host: n.host('plain'), path: '/p/x', expect: { status: 503 } },
      ],
    }),
  },
  {
    id: 'multiports-external-http-port',
    section: '1.1',
    setting: 'VIRTUAL_HOST_MULTIPORTS `external_http_port`',
    nginxProxy: 'The host listens on that port instead of HTTP_PORT; it wins over the EXTERNAL_HTTP_PORT env var',
    planes: BOTH,
    scenario: (n) => ({
      containers: [
        {
          key: 'app',
          env: {
            EXTERNAL_HTTP_PORT: String(n.port('ignored')),
            VIRTUAL_HOST_MULTIPORTS: `${n.domain}:\n  external_http_port: ${n.port('external')}\n  "/": {}\n`,
          },
        },
      ],
      check: async (ctx) => {
        await routed(ctx, n.domain, '/', { port: n.port('external') });
        assert.equal((await get(ctx, n.domain)).status, 503, 'not served on HTTP_PORT');
      },
    }),
  },
  {
    id: 'multiports-invalid-yaml',
    section: '1.1',
    setting: 'VIRTUAL_HOST_MULTIPORTS (invalid YAML, duplicate keys)',
    nginxProxy: 'The container is skipped and a warning naming it is written to the config',
    planes: refused('ERR_MULTIPORTS_INVALID names the container, with the parser\'s message'),
    scenario: (n) => ({
      containers: [
        { key: 'app', env: { VIRTUAL_HOST_MULTIPORTS: `${n.domain}:\n  "/": {}\n${n.domain}:\n  "/x/": {}\n` } },
        { key: 'neighbour', env: { VIRTUAL_HOST: n.host('neighbour') } },
      ],
      check: async (ctx) => {
        await routed(ctx, n.host('neighbour'));
        await issueLogged(ctx, 'app', 'ERR_MULTIPORTS_INVALID', 'VIRTUAL_HOST_MULTIPORTS');
        await answers(ctx, n.domain, 503);
      },
    }),
  },
];
