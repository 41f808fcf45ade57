import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseAuthorization, parseHtpasswd } from './htpasswd.ts';
import { verifyPassword } from './password-hash.ts';
import { LATIN1_BCRYPT, UNSUPPORTED, VECTORS } from './test-vectors.ts';

/**
 * The real thing: nginx's auth_basic (with Debian's libxcrypt behind crypt()) and berth's parser + verifier must
 * agree, for every supported scheme, on right and wrong passwords: nginx 200 <=> berth true.
 */

const NGINX = '/usr/sbin/nginx';

const basic = (credentials: string): string => `Basic ${Buffer.from(credentials, 'latin1').toString('base64')}`;

/** One user per vector, plus file-format cases, plus hashes berth refuses on purpose. */
const HTPASSWD_LINES = [
  '# comment:{PLAIN}x',
  ...VECTORS.map((v, i) => `v${i}:${v.hash}`),
  'dup:{PLAIN}first',
  'dup:{PLAIN}second',
  'crlf:{PLAIN}pw\r',
  'cmt:{PLAIN}pw:a comment',
  '',
  'empty:',
  'rounds:$5$rounds=10$roundstoolow$yfvwcWrQ8l/K0DAWyuPMDNHpIVlTQebY9l/gL972bIC',
  'l1b:' + LATIN1_BCRYPT.hash,
  ...UNSUPPORTED.map((v, i) => `unsup${i}:${v.hash}`),
  'p:{PLAIN}secret',
];

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  assert.ok(address !== null && typeof address === 'object');
  return address.port;
}

async function waitForPort(port: number, deadline: number): Promise<void> {
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nginx did not listen on ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function status(port: number, authorization: string | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = authorization === undefined ? {} : { authorization };
    const req = request({ host: '127.0.0.1', port, path: '/ok.txt', headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

const users = parseHtpasswd(HTPASSWD_LINES.join('\n')).users;

async function berthAccepts(authorization: string | undefined): Promise<boolean> {
  const credentials = parseAuthorization(authorization);
  if (credentials === undefined) return false;
  const hash = users.get(credentials.user);
  return hash !== undefined && (await verifyPassword(credentials.password, hash));
}

describe('Basic auth: nginx and berth agree', { skip: existsSync(NGINX) ? false : `${NGINX} is missing` }, () => {
  let dir = '';
  let port = 0;
  let nginx: ChildProcess | undefined;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-htpasswd-'));
    await mkdir(join(dir, 'www'));
    await writeFile(join(dir, 'www', 'ok.txt'), 'ok\n');
    await writeFile(join(dir, 'htpasswd'), HTPASSWD_LINES.join('\n'), 'latin1');
    port = await freePort();
    // `return 200` would answer before the access phase: serve a file so auth_basic runs.
    const conf = `master_process off; pid ${dir}/nginx.pid; error_log ${dir}/error.log;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${dir}/client; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port};
    location / { root ${dir}/www; auth_basic "t"; auth_basic_user_file ${dir}/htpasswd; }
  }
}
`;
    await writeFile(join(dir, 'nginx.conf'), conf);
    const args = ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log'), '-g', 'daemon off;'];
    nginx = spawn(NGINX, args, { stdio: 'ignore' });
    await waitForPort(port, Date.now() + 3000);
  });

  after(async () => {
    if (nginx !== undefined && nginx.exitCode === null) {
      const exited = new Promise((resolve) => nginx?.once('exit', resolve));
      nginx.kill('SIGTERM');
      await exited;
    }
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  it('right and wrong passwords for every supported scheme', async () => {
    for (const [i, v] of VECTORS.entries()) {
      for (const password of [v.password, `${v.password}x`, 'wrong']) {
        const header = basic(`v${i}:${password}`);
        const nginxOk = (await status(port, header)) === 200;
        assert.equal(await berthAccepts(header), nginxOk, `${v.hash} with ${JSON.stringify(password)}`);
        if (password === v.password) assert.equal(nginxOk, true, `nginx refuses the vector ${v.hash}`);
      }
    }
  });

  it('the htpasswd file format: comments, first duplicate, CRLF, comment field, invalid rounds', async () => {
    const cases = ['#comment:x', 'dup:first', 'dup:second', 'crlf:pw', 'cmt:pw', 'cmt:pw:a comment'];
    const rounds = 'rounds:the minimum number is still observed';
    const others = ['empty:', 'empty:x', 'p:secret\0junk', 'p:secret', 'P:secret', 'nobody:secret'];
    for (const credentials of [...cases, rounds, ...others]) {
      const header = basic(credentials);
      const nginxOk = (await status(port, header)) === 200;
      assert.equal(await berthAccepts(header), nginxOk, JSON.stringify(credentials));
    }
  });

  it('Authorization header forms', async () => {
    const token = Buffer.from('p:secret').toString('base64');
    assert.ok(token.endsWith('='));
    const forms = [
      undefined,
      `Basic ${token}`,
      `basic ${token}`,
      `BASIC   ${token}`,
      `Basic ${token.replace(/=+$/, '')}`,
      `Basic\t${token}`,
      `Bearer ${token}`,
      `Basic ${token.slice(0, -2)}`,
      `Basic ${token.slice(0, 4)}!${token.slice(4)}`,
      basic(':secret'),
      basic('psecret'),
    ];
    for (const form of forms) {
      const nginxOk = (await status(port, form)) === 200;
      assert.equal(await berthAccepts(form), nginxOk, String(form));
    }
  });

  it('documented differences: berth refuses what nginx would accept', async () => {
    const token = Buffer.from('p:secret').toString('base64');
    const refused = [
      // ngx_decode_base64 stops at the first =: whatever follows, too much or too little padding
      `Basic ${token}junk`,
      `Basic ${token}==`,
      `Basic ${Buffer.from('p:secret\0j', 'latin1').toString('base64').replace('==', '=')}`,
      // bcrypt over bytes that are not UTF-8 (bcryptjs hashes a string's UTF-8 encoding)
      basic(`l1b:${LATIN1_BCRYPT.password}`),
      // DES crypt and yescrypt: known to libxcrypt, unsupported in berth (fail closed)
      ...UNSUPPORTED.map((v, i) => basic(`unsup${i}:${v.password}`)),
    ];
    for (const form of refused) {
      assert.equal(await status(port, form), 200, `nginx accepts ${form}`);
      assert.equal(await berthAccepts(form), false, `berth refuses ${form}`);
    }
  });
});
