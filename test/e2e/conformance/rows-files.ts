import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BOTH } from './row-helpers.ts';
import type { Row, Scenario } from './types.ts';

/**
 * Section 1.4, mounted path conventions: Basic auth from the htpasswd directory (BERTH_HTPASSWD_DIR, nginx-proxy's
 * /etc/nginx/htpasswd), and vhost.d's `_location_override`. The files are written before berth starts, readable by
 * nginx's worker user.
 */

const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const sha1 = (text: string): string => createHash('sha1').update(text).digest('hex');

// `openssl passwd -apr1 -salt saltsalt secret` (htpasswd's default format) and `{SHA}` of "secret".
const APR1 = '$apr1$saltsalt$LrttParrLPdxvgutaSXWJ0';
const SHA = '{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=';

/** A directory with `files` for berth's `setting` (its env var), removed with the row's group. */
function withFiles(setting: string, files: Readonly<Record<string, string>>): Pick<Scenario, 'proxyEnv' | 'service'> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-cf-files-'));
  chmodSync(dir, 0o755);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text, { mode: 0o644 });
  const stop = async (): Promise<void> => rmSync(dir, { recursive: true, force: true });
  return { proxyEnv: { [setting]: dir }, service: async () => ({ stop }) };
}

export const FILE_ROWS: readonly Row[] = [
  {
    id: 'htpasswd-host',
    section: '1.4',
    setting: '`/etc/nginx/htpasswd/<VHOST>` (Basic auth)',
    nginxProxy: '`auth_basic "Restricted <host>"` + `auth_basic_user_file` in every location of the host',
    planes: BOTH,
    scenario: (n) => ({
      ...withFiles('BERTH_HTPASSWD_DIR', { [n.domain]: `alice:${APR1}\nbob:${SHA}\n` }),
      containers: [{ key: 'app', env: { VIRTUAL_HOST: n.domain } }],
      requests: [
        { host: n.domain, expect: { status: 401, headers: { 'www-authenticate': `Basic realm="Restricted ${n.domain}"` } } },
        { host: n.domain, headers: { authorization: basic('alice', 'wrong') }, expect: { status: 401 } },
        { host: n.domain, headers: { authorization: basic('alice', 'secret') }, expect: { status: 200, echoHeaders: { authorization: basic('alice', 'secret') } } },
        { host: n.domain, headers: { authorization: basic('bob', 'secret') }, expect: { status: 200 } },
      ],
    }),
  },
  {
    id: 'htpasswd-path',
    section: '1.4',
    setting: '`/etc/nginx/htpasswd/<VHOST>_<PATH_HASH>` (Basic auth on one path)',
    nginxProxy: '`auth_basic "Restricted <host><path>"` in that location only; the hashed file wins over `<VHOST>`',
    planes: BOTH,
    scenario: (n) => ({
      ...withFiles('BERTH_HTPASSWD_DIR', { [`${n.domain}_${sha1('/admin/')}`]: `root:${SHA}\n` }),
      containers: [
        { key: 'site', env: { VIRTUAL_HOST: n.domain, VIRTUAL_PATH: '/' } },
        { key: 'admin', env: { VIRTUAL_HOST: n.domain, VIRTUAL_PATH: '/admin/' } },
      ],
      requests: [
        { host: n.domain, path: '/', expect: { status: 200 } },
        { host: n.domain, path: '/admin/', expect: { status: 401, headers: { 'www-authenticate': `Basic realm="Restricted ${n.domain}/admin/"` } } },
        { host: n.domain, path: '/admin/', headers: { authorization: basic('root', 'secret') }, expect: { status: 200 } },
      ],
    }),
  },
  {
    id: 'vhost-location-override',
    section: '1.4',
    setting: '`/etc/nginx/vhost.d/<VHOST>_<PATH_HASH>_location_override`, for `/` also `<VHOST>_location_override`',
    nginxProxy: 'Replaces the generated location block entirely (the file has its own `location {}`); the hashed name wins',
    planes: {
      node: {
        unsupported: 'nginx snippets apply in the nginx data plane only (BERTH_MODE=nginx): the Node data plane names the file at start (WARN_SETTING_IGNORED) and serves the route as generated',
        expect: { kind: 'ignored', host: '' },
      },
      nginx: 'supported',
    },
    scenario: (n) => ({
      ...withFiles('BERTH_VHOST_DIR', {
        [`${n.domain}_location_override`]: 'location / {\n  add_header X-Override root always;\n  return 200 "overridden\\n";\n}\n',
        [`${n.domain}_${sha1('/api/')}_location_override`]: 'location /api/ {\n  return 200 "api overridden\\n";\n}\n',
      }),
      containers: [
        { key: 'app', env: { VIRTUAL_HOST: n.domain } },
        { key: 'api', env: { VIRTUAL_HOST: n.domain, VIRTUAL_PATH: '/api/' } },
        { key: 'other', env: { VIRTUAL_HOST: n.host('other') } },
      ],
      requests: [
        { host: n.domain, expect: { status: 200, headers: { 'x-override': 'root' }, body: /^overridden$/m } },
        { host: n.domain, path: '/api/x', expect: { status: 200, body: /^api overridden$/m } },
        { host: n.host('other'), expect: { status: 200, echo: { url: '/' } } },
      ],
    }),
  },
];
