import assert from 'node:assert/strict';
import { answers, get, once, routed } from './clients.ts';
import { BOTH, refused, escapeRegex, issueLogged, warningsAbout } from './row-helpers.ts';
import type { Row } from './types.ts';

/** Section 1.1: VIRTUAL_HOST in every form, and the upstream port (VIRTUAL_PORT and the port rule). */
export const HOST_ROWS: readonly Row[] = [
  {
    id: 'virtual-host-exact',
    section: '1.1',
    setting: 'VIRTUAL_HOST (exact name)',
    nginxProxy: '`server_name <name>`: that Host (any case, any port) reaches the container; an unknown Host gets the 503 fallback',
    planes: BOTH,
    scenario: (n) => ({
      containers: [{ key: 'app', env: { VIRTUAL_HOST: n.host(), NAME: 'exact' } }],
      requests: [
        { host: n.host(), path: '/a?b=1', expect: { status: 200, echo: { name: 'exact', url: '/a?b=1' }, echoHeaders: { 'x-forwarded-host': n.host() } } },
        { host: n.host().toUpperCase(), expect: { status: 200, echo: { name: 'exact' } } },
        { host: `${n.host()}:8080`, expect: { status: 200, echo: { name: 'exact' } } },
        { host: n.host('unknown'), expect: { status: 503, body: /503/ } },
      ],
    }),
  },
  {
    id: 'virtual-host-list',
    section: '1.1',
    setting: 'VIRTUAL_HOST (comma-separated list, blank items)',
    nginxProxy: 'Each trimmed item is a server name; blank items are dropped; a container whose whole value is blank is ignored',
    planes: BOTH,
    scenario: (n) => ({
      containers: [
        { key: 'app', env: { VIRTUAL_HOST: `${n.host('a')}, ${n.host('b')} ,, `, NAME: 'list' } },
        { key: 'blank', env: { VIRTUAL_HOST: ' , ', NAME: 'blank' } },
      ],
      requests: [
        { host: n.host('a'), expect: { status: 200, echo: { name: 'list' } } },
        { host: n.host('b'), expect: { status: 200, echo: { name: 'list' } } },
      ],
      check: async (ctx) => {
        assert.deepEqual(await warningsAbout(ctx, 'blank'), [], 'a blank VIRTUAL_HOST is ignored silently, as nginx-proxy does');
      },
    }),
  },
  {
    id: 'virtual-host-leading-wildcard',
    section: '1.1',
    setting: 'VIRTUAL_HOST (leading wildcard `*.example.com`)',
    nginxProxy: 'nginx wildcard server name: any subdomain, at any depth; not the bare domain',
    planes: BOTH,
    scenario: (n) => ({
      containers: [{ key: 'app', env: { VIRTUAL_HOST: `*.${n.domain}`, NAME: 'wild' } }],
      requests: [
        { host: n.host('x'), expect: { status: 200, echo: { name: 'wild' }, echoHeaders: { host: new RegExp(`^x\\.${escapeRegex(n.domain)}`) } } },
        { host: n.host('y.z'), expect: { status: 200, echo: { name: 'wild' } } },
        { host: n.domain, expect: { status: 503 } },
      ],
    }),
  },
  {
    id: 'virtual-host-leading-dot',
    section: '1.1',
    setting: 'VIRTUAL_HOST (`.example.com`)',
    nginxProxy: 'nginx special wildcard: the domain itself and every subdomain',
    planes: BOTH,
    scenario: (n) => ({
      containers: [{ key: 'app', env: { VIRTUAL_HOST: `.${n.domain}`, NAME: 'dot' } }],
      requests: [
        { host: n.domain, expect: { status: 200, echo: { name: 'dot' } } },
        { host: n.host('www'), expect: { status: 200, echo: { name: 'dot' } } },
      ],
    }),
  },
  {
    id: 'virtual-host-trailing-wildcard',
    section: '1.1',
    setting: 'VIRTUAL_HOST (trailing wildcard `www.example.*`)',
    nginxProxy: 'nginx wildcard server name: any last label(s)',
    planes: BOTH,
    scenario: (n) => {
      const stem = `www.${n.rowId}-${n.run}`;
      return {
        containers: [{ key: 'app', env: { VIRTUAL_HOST: `${stem}.*`, NAME: 'trail' } }],
        requests: [
          { host: `${stem}.example`, expect: { status: 200, echo: { name: 'trail' } } },
          { host: `${stem}.co.uk`, expect: { status: 200, echo: { name: 'trail' } } },
          { host: `api.${n.rowId}-${n.run}.example`, expect: { status: 503 } },
        ],
      };
    },
  },
  {
    id: 'virtual-host-regex',
    section: '1.1',
    setting: 'VIRTUAL_HOST (regular expression `~^...`)',
    nginxProxy: 'nginx regex server name, written as given; nginx matches server name regexes case-insensitively',
    planes: BOTH,
    scenario: (n) => ({
      containers: [{ key: 'app', env: { VIRTUAL_HOST: `~^API-\\d+\\.${escapeRegex(n.domain)}$`, NAME: 'regex' } }],
      requests: [
        { host: n.host('api-42'), expect: { status: 200, echo: { name: 'regex' } } },
        { host: n.host('API-7'), expect: { status: 200, echo: { name: 'regex' } } },
        { host: n.host('api-x'), expect: { status: 503 } },
      ],
    }),
  },
  {
    id: 'virtual-host-precedence',
    section: '1.1',
    setting: 'VIRTUAL_HOST (precedence of forms)',
    nginxProxy: 'nginx server_name order: exact, then the longest leading wildcard, then the longest trailing wildcard, then the first matching regex',
    planes: BOTH,
    scenario: (n) => {
      const other = `${n.rowId}-${n.run}`;
      return {
        containers: [
          { key: 'exact', env: { VIRTUAL_HOST: n.host('a'), NAME: 'exact' } },
          { key: 'lead-short', env: { VIRTUAL_HOST: `*.${n.domain}`, NAME: 'lead-short' } },
          { key: 'lead-long', env: { VIRTUAL_HOST: `*.b.${n.domain}`, NAME: 'lead-long' } },
          { key: 'trail', env: { VIRTUAL_HOST: `t.${other}.*`, NAME: 'trail' } },
          { key: 'regex', env: { VIRTUAL_HOST: `~^(t|q)\\.${escapeRegex(other)}\\.,~^.+\\.${escapeRegex(n.domain)}$`, NAME: 'regex' } },
        ],
        requests: [
          { host: n.host('a'), expect: { status: 200, echo: { name: 'exact' } } },
          { host: n.host('x.b'), expect: { status: 200, echo: { name: 'lead-long' } } },
          { host: n.host('x'), expect: { status: 200, echo: { name: 'lead-short' } } },
          { host: `t.${other}.example`, expect: { status: 200, echo: { name: 'trail' } } },
          { host: `q.${other}.example`, expect: { status: 200, echo: { name: 'regex' } } },
        ],
      };
    },
  },
  {
    id: 'virtual-host-ipv4',
    section: '1.1',
    setting: 'VIRTUAL_HOST (raw IPv4 address)',
    nginxProxy: '`server_name 172.20.0.1`: requests whose Host is that address',
    planes: BOTH,
    scenario: () => ({
      containers: [{ key: 'app', env: { VIRTUAL_HOST: '198.18.0.44', NAME: 'ipv4' } }],
      requests: [
        { host: '198.18.0.44', expect: { status: 200, echo: { name: 'ipv4' } } },
        { host: '198.18.0.44:8080', expect: { status: 200, echo: { name: 'ipv4' } } },
        { host: '198.18.0.45', expect: { status: 503 } },
      ],
    }),
  },
  {
    id: 'virtual-host-ipv6',
    section: '1.1',
    setting: 'VIRTUAL_HOST (raw IPv6 address `[fd00::1]`)',
    nginxProxy: '`server_name [fd00::1]`: requests whose Host is that bracketed address',
    planes: BOTH,
    scenario: () => ({
      containers: [{ key: 'app', env: { VIRTUAL_HOST: '[fd00::44]', NAME: 'ipv6' } }],
      requests: [
        { host: '[fd00::44]', expect: { status: 200, echo: { name: 'ipv6' } } },
        { host: '[fd00::44]:8080', expect: { status: 200, echo: { name: 'ipv6' } } },
        { host: '[fd00::45]', expect: { status: 503 } },
      ],
    }),
  },
  {
    id: 'virtual-host-port-refused',
    section: '1.1',
    setting: 'VIRTUAL_HOST (with a port `host:8080`)',
    nginxProxy: 'Not supported (README): use VIRTUAL_PORT',
    planes: refused('ERR_VIRTUAL_HOST_INVALID names the container and the item'),
    scenario: (n) => ({
      containers: [{ key: 'app', env: { VIRTUAL_HOST: `${n.domain}:8080` } }],
      check: async (ctx) => {
        await issueLogged(ctx, 'app', 'ERR_VIRTUAL_HOST_INVALID', 'VIRTUAL_HOST');
        await answers(ctx, n.domain, 503);
      },
    }),
  },
  {
    id: 'virtual-port',
    section: '1.1',
    setting: 'VIRTUAL_PORT',
    nginxProxy: 'The container port traffic goes to, whatever it exposes',
    planes: BOTH,
    scenario: (n) => ({
      containers: [{ key: 'app', env: { VIRTUAL_HOST: n.domain, PORTS: '8080', VIRTUAL_PORT: '8080' }, expose: [8080] }],
      requests: [{ host: n.domain, expect: { status: 200, echo: { port: 8080 } } }],
    }),
  },
  {
    id: 'virtual-port-not-listening',
    section: '1.1',
    setting: 'VIRTUAL_PORT on which nothing listens',
    nginxProxy: 'Not validated against exposed ports: the upstream points at a closed port and clients get 502',
    planes: {
      node: { supported: 'a deliberate difference: the port never passes the readiness probe, so 503 with Retry-After (BERTH_ADMISSION=start routes at start, as nginx-proxy)' },
      nginx: { supported: 'a deliberate difference: the port never passes the readiness probe, so 503 with Retry-After (BERTH_ADMISSION=start routes at start, as nginx-proxy)' },
    },
    scenario: (n) => ({
      containers: [{ key: 'app', env: { VIRTUAL_HOST: n.domain, VIRTUAL_PORT: '81' } }],
      requests: [{ host: n.domain, expect: { status: 503, headers: { 'retry-after': /^\d+$/ } } }],
    }),
  },
  {
    id: 'port-rule-one-exposed',
    section: '1.1',
    setting: 'Port rule: exactly one exposed port',
    nginxProxy: 'Without VIRTUAL_PORT, a container exposing exactly one port is reached on it',
    planes: BOTH,
    scenario: (n) => ({
      containers: [{ key: 'app', image: 'bare', env: { VIRTUAL_HOST: n.domain, PORT: '8080' }, expose: [8080] }],
      requests: [{ host: n.domain, expect: { status: 200, echo: { port: 8080 } } }],
    }),
  },
  {
    id: 'port-rule-none-exposed',
    section: '1.1',
    setting: 'Port rule: no exposed port',
    nginxProxy: 'Without VIRTUAL_PORT and with no exposed port: port 80',
    planes: BOTH,
    scenario: (n) => ({
      containers: [{ key: 'app', image: 'bare', env: { VIRTUAL_HOST: n.domain, PORT: '80' } }],
      requests: [{ host: n.domain, expect: { status: 200, echo: { port: 80 } } }],
    }),
  },
  {
    id: 'port-rule-two-exposed',
    section: '1.1',
    setting: 'Port rule: two or more exposed ports',
    nginxProxy: 'Without VIRTUAL_PORT and with several exposed ports: port 80',
    planes: BOTH,
    scenario: (n) => ({
      containers: [{ key: 'app', image: 'bare', env: { VIRTUAL_HOST: n.domain, PORT: '80', PORTS: '8080' }, expose: [8080, 9090] }],
      requests: [{ host: n.domain, expect: { status: 200, echo: { port: 80 } } }],
    }),
  },
  {
    id: 'http-port-in-host-header',
    section: '1.3',
    setting: 'HTTP_PORT (non-standard port kept upstream)',
    nginxProxy: 'nginx listens on HTTP_PORT; the upstream Host is `$host:<port>` when the port is not 80/443, X-Forwarded-Port is the port',
    planes: BOTH,
    scenario: (n) => ({
      containers: [{ key: 'app', env: { VIRTUAL_HOST: n.domain } }],
      check: async (ctx) => {
        const seen = await routed(ctx, n.domain);
        assert.equal(seen.headers['host'], `${n.domain}:${ctx.proxy.port}`);
        assert.equal(seen.headers['x-forwarded-port'], String(ctx.proxy.port));
        const again = await once(ctx, n.domain, '/', { headers: { 'x-forwarded-port': '' } });
        assert.equal(again.headers['x-forwarded-port'], String(ctx.proxy.port), 'an empty incoming X-Forwarded-Port is replaced');
        assert.equal((await get(ctx, n.host('nobody'))).status, 503);
      },
    }),
  },
];
