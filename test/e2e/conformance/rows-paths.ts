import assert from 'node:assert/strict';
import { get, routed } from './clients.ts';
import { BOTH, refused, issueLogged } from './row-helpers.ts';
import type { Row } from './types.ts';

/** Section 1.1 VIRTUAL_PATH and VIRTUAL_DEST, section 1.3 DEFAULT_ROOT. */
export const PATH_ROWS: readonly Row[] = [
  {
    id: 'virtual-path-prefix',
    section: '1.1',
    setting: 'VIRTUAL_PATH (prefix)',
    nginxProxy: '`location /api/`: requests under the prefix reach the container, URI unchanged',
    planes: BOTH,
    scenario: (n) => ({
      containers: [{ key: 'api', env: { VIRTUAL_HOST: n.domain, VIRTUAL_PATH: '/api/', NAME: 'api' } }],
      requests: [
        { host: n.domain, path: '/api/users?id=1', expect: { status: 200, echo: { name: 'api', url: '/api/users?id=1' } } },
        { host: n.domain, path: '/other', expect: { status: 404 } },
      ],
    }),
  },
  {
    id: 'virtual-path-longest-prefix',
    section: '1.1',
    setting: 'VIRTUAL_PATH (several prefixes of one host)',
    nginxProxy: 'One location per path; the longest matching prefix wins; each path is its own upstream; `/app` (no slash) of a `/app/` location is a 301 to `/app/`',
    planes: BOTH,
    scenario: (n) => ({
      containers: [
        { key: 'root', env: { VIRTUAL_HOST: n.domain, NAME: 'root' } },
        { key: 'app', env: { VIRTUAL_HOST: n.domain, VIRTUAL_PATH: '/app/', NAME: 'app' } },
        { key: 'v2', env: { VIRTUAL_HOST: n.domain, VIRTUAL_PATH: '/app/v2/', NAME: 'v2' } },
      ],
      requests: [
        { host: n.domain, path: '/app/v2/x', expect: { status: 200, echo: { name: 'v2', url: '/app/v2/x' } } },
        { host: n.domain, path: '/app/x', expect: { status: 200, echo: { name: 'app' } } },
        { host: n.domain, path: '/app', expect: { status: 301, headers: { location: /\/app\/$/ } } },
        { host: n.domain, path: '/application', expect: { status: 200, echo: { name: 'root' } } },
        { host: n.domain, path: '/elsewhere', expect: { status: 200, echo: { name: 'root' } } },
      ],
    }),
  },
  {
    id: 'virtual-path-regex',
    section: '1.1',
    setting: 'VIRTUAL_PATH (regex `~ ^/(a|b)/`)',
    nginxProxy: 'Written raw after `location`, so nginx regex locations work',
    planes: BOTH,
    scenario: (n) => ({
      containers: [{ key: 'app', env: { VIRTUAL_HOST: n.domain, VIRTUAL_PATH: '~ ^/(app1|alt)/', NAME: 're' } }],
      requests: [
        { host: n.domain, path: '/app1/x', expect: { status: 200, echo: { name: 're', url: '/app1/x' } } },
        { host: n.domain, path: '/alt/y?z=1', expect: { status: 200, echo: { name: 're', url: '/alt/y?z=1' } } },
        { host: n.domain, path: '/app2/x', expect: { status: 404 } },
      ],
    }),
  },
  {
    id: 'virtual-path-modifiers',
    section: '1.1',
    setting: 'VIRTUAL_PATH (`=`, `^~`, `~*` and nginx location order)',
    nginxProxy: 'nginx location selection: `=` exact first; the longest prefix; a `^~` prefix stops the regex search; else the first matching regex; else the longest prefix',
    planes: BOTH,
    scenario: (n) => ({
      containers: [
        { key: 'img', env: { VIRTUAL_HOST: n.domain, VIRTUAL_PATH: '/img/', NAME: 'img' } },
        { key: 'png', env: { VIRTUAL_HOST: n.domain, VIRTUAL_PATH: '~* \\.PNG$', NAME: 'png' } },
        { key: 'static', env: { VIRTUAL_HOST: n.domain, VIRTUAL_PATH: '^~ /static/', NAME: 'static' } },
        { key: 'css', env: { VIRTUAL_HOST: n.domain, VIRTUAL_PATH: '~ \\.css$', NAME: 'css' } },
        { key: 'exact', env: { VIRTUAL_HOST: n.domain, VIRTUAL_PATH: '= /health', NAME: 'exact' } },
      ],
      requests: [
        { host: n.domain, path: '/img/a.png', expect: { status: 200, echo: { name: 'png' } } },
        { host: n.domain, path: '/img/a.gif', expect: { status: 200, echo: { name: 'img' } } },
        { host: n.domain, path: '/static/a.css', expect: { status: 200, echo: { name: 'static' } } },
        { host: n.domain, path: '/other/a.css', expect: { status: 200, echo: { name: 'css' } } },
        { host: n.domain, path: '/health', expect: { status: 200, echo: { name: 'exact' } } },
        { host: n.domain, path: '/health/x', expect: { status: 404 } },
      ],
    }),
  },
  {
    id: 'virtual-path-normalised',
    section: '1.1',
    setting: 'VIRTUAL_PATH (matching on the normalised URI)',
    nginxProxy: 'nginx matches locations against the normalised URI (percent-decoded, `//` merged, `..` resolved) and forwards the URI as the client sent it',
    planes: BOTH,
    scenario: (n) => ({
      containers: [
        { key: 'root', env: { VIRTUAL_HOST: n.domain, NAME: 'root' } },
        { key: 'api', env: { VIRTUAL_HOST: n.domain, VIRTUAL_PATH: '/api/', NAME: 'api' } },
      ],
      requests: [
        { host: n.domain, path: '/%61pi/x', expect: { status: 200, echo: { name: 'api', url: '/%61pi/x' } } },
        { host: n.domain, path: '//api//x', expect: { status: 200, echo: { name: 'api' } } },
        { host: n.domain, path: '/x/../api/y', expect: { status: 200, echo: { name: 'api' } } },
      ],
    }),
  },
  {
    id: 'virtual-dest',
    section: '1.1',
    setting: 'VIRTUAL_DEST',
    nginxProxy: '`proxy_pass http://upstream<dest>`: the part of the URI the location matched is replaced by the dest; X-Original-URI keeps the original',
    planes: BOTH,
    scenario: (n) => ({
      containers: [{ key: 'app', env: { VIRTUAL_HOST: n.domain, VIRTUAL_PATH: '/app1/', VIRTUAL_DEST: '/', NAME: 'dest' } }],
      requests: [
        { host: n.domain, path: '/app1/foo?x=1', expect: { status: 200, echo: { name: 'dest', url: '/foo?x=1' }, echoHeaders: { 'x-original-uri': '/app1/foo?x=1' } } },
        { host: n.domain, path: '/app1/', expect: { status: 200, echo: { url: '/' } } },
      ],
    }),
  },
  {
    id: 'virtual-dest-other-prefix',
    section: '1.1',
    setting: 'VIRTUAL_DEST (a different prefix; `/foo` + `/`)',
    nginxProxy: 'nginx replacement semantics, including its quirk: path `/foo` with dest `/` sends `/foo/bar` as `//bar`',
    planes: BOTH,
    scenario: (n) => ({
      containers: [
        { key: 'moved', env: { VIRTUAL_HOST: n.domain, VIRTUAL_PATH: '/old/', VIRTUAL_DEST: '/new/', NAME: 'moved' } },
        { key: 'quirk', env: { VIRTUAL_HOST: n.domain, VIRTUAL_PATH: '/foo', VIRTUAL_DEST: '/', NAME: 'quirk' } },
      ],
      requests: [
        { host: n.domain, path: '/old/page?q=a%20b', expect: { status: 200, echo: { name: 'moved', url: '/new/page?q=a%20b' } } },
        { host: n.domain, path: '/foo/bar', expect: { status: 200, echo: { name: 'quirk', url: '//bar' } } },
      ],
    }),
  },
  {
    id: 'virtual-dest-regex-refused',
    section: '1.1',
    setting: 'VIRTUAL_DEST with a regex VIRTUAL_PATH',
    nginxProxy: 'Not compatible (nginx refuses a URI in proxy_pass inside a regex location)',
    planes: refused('ERR_VIRTUAL_DEST_INVALID names the container'),
    scenario: (n) => ({
      containers: [{ key: 'app', env: { VIRTUAL_HOST: n.domain, VIRTUAL_PATH: '~ ^/re/', VIRTUAL_DEST: '/' } }],
      check: async (ctx) => {
        await issueLogged(ctx, 'app', 'ERR_VIRTUAL_DEST_INVALID', 'VIRTUAL_DEST');
        assert.notEqual((await get(ctx, n.domain, '/re/x')).status, 200);
      },
    }),
  },
  {
    id: 'default-root-404',
    section: '1.3',
    setting: 'DEFAULT_ROOT (default `404`)',
    nginxProxy: 'A host without a `/` path answers `return 404` for paths no location matches',
    planes: BOTH,
    scenario: (n) => ({
      containers: [{ key: 'app', env: { VIRTUAL_HOST: n.domain, VIRTUAL_PATH: '/only/' } }],
      requests: [
        { host: n.domain, path: '/only/x', expect: { status: 200 } },
        { host: n.domain, path: '/', expect: { status: 404 } },
        { host: n.domain, path: '/x/y', expect: { status: 404 } },
      ],
    }),
  },
  {
    id: 'default-root-status',
    section: '1.3',
    setting: 'DEFAULT_ROOT (`418`)',
    nginxProxy: 'The `return` argument for `/` on hosts without a `/` path',
    planes: BOTH,
    scenario: (n) => ({
      proxyEnv: { DEFAULT_ROOT: '418' },
      containers: [{ key: 'app', env: { VIRTUAL_HOST: n.domain, VIRTUAL_PATH: '/only/' } }],
      requests: [
        { host: n.domain, path: '/only/x', expect: { status: 200 } },
        { host: n.domain, path: '/', expect: { status: 418 } },
      ],
    }),
  },
  {
    id: 'default-root-redirect',
    section: '1.3',
    setting: 'DEFAULT_ROOT (`301 http://$host/web1$request_uri`)',
    nginxProxy: 'nginx `return 301 <url>` with variables expanded',
    planes: BOTH,
    scenario: (n) => ({
      proxyEnv: { DEFAULT_ROOT: '301 http://$host/web1$request_uri' },
      containers: [{ key: 'app', env: { VIRTUAL_HOST: n.domain, VIRTUAL_PATH: '/web1/' } }],
      requests: [
        { host: n.domain, path: '/web1/x', expect: { status: 200 } },
        { host: n.domain, path: '/?a=1', expect: { status: 301, headers: { location: `http://${n.domain}/web1/?a=1` } } },
      ],
    }),
  },
  {
    id: 'default-root-none',
    section: '1.3',
    setting: 'DEFAULT_ROOT (`none`)',
    nginxProxy: 'No `location /` is emitted (so a vhost.d snippet can define its own): nginx answers unmatched paths itself from its default root',
    planes: {
      node: { supported: 'unmatched paths get 404' },
      nginx: { supported: 'no `location /` is rendered: nginx answers unmatched paths itself (403 from its empty default root)' },
    },
    scenario: (n) => ({
      proxyEnv: { DEFAULT_ROOT: 'none' },
      containers: [{ key: 'app', env: { VIRTUAL_HOST: n.domain, VIRTUAL_PATH: '/only/' } }],
      check: async (ctx) => {
        await routed(ctx, n.domain, '/only/x');
        const res = await get(ctx, n.domain, '/');
        assert.equal(res.status, ctx.plane === 'node' ? 404 : 403, `GET /: ${res.status} ${res.body.slice(0, 200)}`);
        assert.doesNotMatch(res.body, /"hostname"/, 'not an answer of the backend');
      },
    }),
  },
];
