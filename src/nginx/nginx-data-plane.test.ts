import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../config.ts';
import type { DataPlane } from '../data-plane.ts';
import {
  baselineTracker,
  backend,
  captureLogger,
  freePort,
  isAlive,
  request,
  table,
  until,
  up,
  type LogRecord,
  type Reply,
  NGINX,
} from '../../test/fixtures/nginx/plane-helpers.ts';
import { checkNginxConfig } from './nginx-check.ts';
import { createNginxDataPlane } from './nginx-data-plane.ts';

/** Real nginx (/usr/sbin/nginx) in a temp state dir, real node:http backends on 127.0.0.1. No Docker needed. */


describe('nginx data plane against real nginx', { skip: !existsSync(NGINX) }, () => {
  const logs: LogRecord[] = [];
  let dir = '';
  let port = 0;
  let plane: DataPlane;
  let a: { server: http.Server; port: number };
  let b: { server: http.Server; port: number };
  let deadPort = 0;
  const dirs = { state: '', vhost: '', conf: '', templates: '' };
  const get = (host: string, path = '/'): Promise<Reply> => request(port, host, path);
  const readPid = async (): Promise<number> => Number((await readFile(join(dirs.state, 'nginx.pid'), 'utf8')).trim());
  const errorsSince = (n: number, code: string): LogRecord[] => logs.slice(n).filter((l) => l.code === code && l.level >= 50);
  const appliedSince = (n: number): boolean => logs.slice(n).some((l) => l.msg === 'nginx config applied');

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-nginx-'));
    Object.assign(dirs, { state: join(dir, 'state'), vhost: join(dir, 'vhost.d'), conf: join(dir, 'conf.d'), templates: join(dir, 'templates') });
    await Promise.all([mkdir(dirs.vhost), mkdir(dirs.conf), mkdir(dirs.templates)]);
    [a, b, port, deadPort] = await Promise.all([backend('A'), backend('B'), freePort(), freePort()]);
    const config = loadConfig({
      HTTP_PORT: String(port),
      BERTH_LISTEN_ADDRESS: '127.0.0.1',
      BERTH_NGINX_BINARY: NGINX,
      BERTH_STATE_DIR: dirs.state,
      BERTH_VHOST_DIR: dirs.vhost,
      BERTH_CONF_DIR: dirs.conf,
      BERTH_PROXY_CONF: join(dir, 'proxy.conf'),
      BERTH_TEMPLATE_DIR: dirs.templates,
    });
    const logger = captureLogger(logs);
    // The baseline tracker (admit at start, never drain): these tests are about nginx-proxy's behaviour.
    plane = createNginxDataPlane({ config, logger, readiness: baselineTracker(logger), nginxStdout: 'ignore', watchPollMs: 100 });
    await plane.apply(table({ 'a.test': [up('app-a', a.port)], 'empty.test': [] }));
    await plane.start();
  });

  after(async () => {
    await plane.stop(1000).catch(() => undefined);
    a.server.close();
    b.server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('routes by Host: 200 from the backend, 503 for an unknown host, 502 for a host without backend', async () => {
    const ok = await get('a.test', '/hello');
    assert.equal(ok.status, 200);
    assert.equal(ok.body, `A a.test:${port} /hello`);
    assert.equal((await get('unknown.test')).status, 503);
    assert.equal((await get('empty.test')).status, 502);
  });

  it('apply() of a new table reloads nginx (same master) and the new route answers', async () => {
    const pid = await readPid();
    await plane.apply(table({ 'a.test': [up('app-a', a.port)], 'b.test': [up('app-b', b.port)], 'empty.test': [] }));
    const reply = await until('b.test to answer', async () => {
      const r = await get('b.test');
      return r.status === 200 ? r : undefined;
    });
    assert.equal(reply.body, `B b.test:${port} /`);
    assert.equal(await readPid(), pid);
  });

  it('a host nginx -t rejects (a regex PCRE refuses) is left out and reported; every other host is applied', async () => {
    const n = logs.length;
    const withBad = table({ 'a.test': [up('app-a', a.port)], 'b.test': [up('app-b', b.port)], 'c.test': [up('app-c', b.port)], 'empty.test': [], '~^(unclosed': [up('bad-1', b.port)] });
    await plane.apply(withBad);
    await until('c.test to answer', async () => ((await get('c.test')).status === 200 ? true : undefined));
    const left = logs.slice(n).find((l) => l.msg.startsWith('nginx rejected host ~^(unclosed'));
    assert.ok(left, 'the rejected host is named');
    assert.match(String(left['nginxError']), /pcre/i);
    assert.ok(logs.slice(n).some((l) => l['container'] === 'bad-1' && /nginx -t rejected/.test(l.msg)), 'its container is reported');
    // The same host again: left out at once, without another failing nginx -t.
    const m = logs.length;
    await plane.apply(table({ 'a.test': [up('app-a', a.port)], 'b.test': [up('app-b', b.port)], 'empty.test': [], '~^(unclosed': [up('bad-1', b.port)] }));
    await until('c.test gone', async () => ((await get('c.test')).status === 503 ? true : undefined));
    assert.equal(logs.slice(m).filter((l) => l.msg.startsWith('nginx rejected')).length, 0);
    assert.ok(logs.slice(m).some((l) => l['container'] === 'bad-1'));
  });

  it('hides a dead replica: every request succeeds on the live one', async () => {
    await plane.apply(table({ 'a.test': [up('app-a', a.port)], 'b.test': [up('app-b', b.port), up('app-dead', deadPort)], 'empty.test': [] }));
    await until('config with the dead replica', async () => ((await readFile(join(dirs.state, 'berth.conf'), 'utf8')).includes(`:${deadPort} `) ? true : undefined));
    await until('reload', async () => ((await get('b.test')).status === 200 ? true : undefined));
    for (let i = 0; i < 8; i++) assert.equal((await get('b.test')).status, 200);
  });

  it('re-renders when a snippet appears, and applies it', async () => {
    const n = logs.length;
    await writeFile(join(dirs.vhost, 'a.test'), 'add_header X-Snippet yes;\n');
    await until('snippet header', async () => ((await get('a.test')).headers['x-snippet'] === 'yes' ? true : undefined));
    // The log line follows the reload, which returns once the old workers stopped accepting: after the new ones answer.
    await until('the apply logged', () => (appliedSince(n) ? true : undefined));
    await unlink(join(dirs.vhost, 'a.test'));
    await until('snippet gone', async () => ((await get('a.test')).headers['x-snippet'] === undefined ? true : undefined));
  });

  it('a snippet edited into a syntax error: previous config stays live and valid on disk, error names the file', async () => {
    const snippet = join(dirs.vhost, 'default');
    await writeFile(snippet, 'add_header X-Default-Snippet yes;\n');
    await until('default snippet live', async () => ((await get('a.test')).headers['x-default-snippet'] === 'yes' ? true : undefined));
    const live = await readFile(join(dirs.state, 'berth.conf'), 'utf8');
    const n = logs.length;
    await writeFile(snippet, 'this is { not nginx\n');
    const [error] = await until('ERR_NGINX_CONFIG_INVALID', () => {
      const found = errorsSince(n, 'ERR_NGINX_CONFIG_INVALID');
      return found.length > 0 ? found : undefined;
    });
    assert.equal(error?.file, snippet);
    assert.match(String(error?.nginxError), new RegExp(`\\[emerg\\].*${snippet.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.match(error?.msg ?? '', /snippet/);
    assert.equal(existsSync(join(dirs.state, 'candidate')), false);
    assert.equal(await readFile(join(dirs.state, 'berth.conf'), 'utf8'), live);
    // The live config includes berth's validated copy of the snippet, so it still passes nginx -t on disk.
    const check = await checkNginxConfig(NGINX, dirs.state, join(dirs.state, 'nginx.conf'));
    assert.ok(check.ok, check.output);
    const reply = await get('a.test');
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['x-default-snippet'], 'yes');
    await unlink(snippet);
    await until('snippet removed', async () => ((await get('a.test')).headers['x-default-snippet'] === undefined ? true : undefined));
  });

  it('a broken custom template: previous config stays live, error logged, no candidate on disk', async () => {
    const live = await readFile(join(dirs.state, 'berth.conf'), 'utf8');
    const template = join(dirs.templates, 'location.eta');
    let n = logs.length;
    await writeFile(template, '  location <%= it.path %> {\n    proxy_pass http://<%= it.upstream %>;\n    no_such_directive on;\n  }\n');
    const [invalid] = await until('nginx -t failure', () => {
      const found = errorsSince(n, 'ERR_NGINX_CONFIG_INVALID');
      return found.length > 0 ? found : undefined;
    });
    assert.deepEqual(invalid?.customTemplates, [template]);
    assert.ok(Array.isArray(invalid?.hosts) && invalid.hosts.length === 1, JSON.stringify(invalid));
    assert.equal(existsSync(join(dirs.state, 'candidate')), false);
    assert.equal(await readFile(join(dirs.state, 'berth.conf'), 'utf8'), live);
    assert.equal((await get('a.test')).status, 200);
    n = logs.length;
    await writeFile(template, '  location <% if ( %>\n');
    const [etaError] = await until('template error', () => {
      const found = errorsSince(n, 'ERR_TEMPLATE_INVALID');
      return found.length > 0 ? found : undefined;
    });
    assert.match(String(etaError?.err), /location\.eta/);
    assert.equal(await readFile(join(dirs.state, 'berth.conf'), 'utf8'), live);
    n = logs.length;
    await unlink(template);
    await until('recovery apply', () => (appliedSince(n) ? true : undefined));
    assert.equal((await get('a.test')).status, 200);
  });

  it('nginx killed with SIGKILL comes back by itself', async () => {
    const pid = await readPid();
    process.kill(pid, 'SIGKILL');
    await until('a new nginx master', async () => {
      const now = await readPid().catch(() => pid);
      return now !== pid && isAlive(now) ? now : undefined;
    });
    await until('routing again', async () => ((await get('a.test')).status === 200 ? true : undefined));
    assert.ok(logs.some((l) => l.msg === 'nginx died; restarting it'));
  });

  it('stop() ends nginx cleanly and closes the port', async () => {
    const pid = await readPid();
    await plane.stop(2000);
    assert.equal(isAlive(pid), false);
    await assert.rejects(get('a.test'));
  });
});

describe('nginx data plane, separate-containers mode', { skip: !existsSync(NGINX) }, () => {
  it('validates, writes the output file atomically and notifies; an invalid config is neither written nor notified', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-ext-'));
    try {
      const output = join(dir, 'conf.d', 'default.conf');
      const proxyConf = join(dir, 'proxy.conf');
      const config = loadConfig({
        HTTP_PORT: '80',
        BERTH_NGINX_BINARY: NGINX,
        BERTH_NGINX_EXTERNAL: 'true',
        BERTH_NGINX_OUTPUT: output,
        BERTH_STATE_DIR: join(dir, 'state'),
        BERTH_VHOST_DIR: join(dir, 'vhost.d'),
        BERTH_CONF_DIR: join(dir, 'conf.d'),
        BERTH_PROXY_CONF: proxyConf,
      });
      let notified = 0;
      const logs: LogRecord[] = [];
      const logger = captureLogger(logs);
      const plane = createNginxDataPlane({ config, logger, readiness: baselineTracker(logger), notifyExternal: async () => void notified++, watchPollMs: 100 });
      await plane.apply(table({ 'a.test': [up('app-a', 8080, '172.17.0.2')] }));
      await plane.start();
      assert.equal(notified, 1);
      const written = await readFile(output, 'utf8');
      assert.match(written, /server 172\.17\.0\.2:8080 /);
      await writeFile(proxyConf, 'proxy_set_header {\n');
      await until('validation failure', () => (logs.some((l) => l.code === 'ERR_NGINX_CONFIG_INVALID') ? true : undefined));
      await plane.apply(table({ 'b.test': [up('app-b', 8080, '172.17.0.3')] }));
      assert.equal(await readFile(output, 'utf8'), written);
      assert.equal(notified, 1);
      await plane.stop(100);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('nginx data plane without a usable nginx', () => {
  it('apply() does not throw; start() rejects with ERR_NGINX_FAILED', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-nonginx-'));
    try {
      const config = loadConfig({ HTTP_PORT: '80', BERTH_NGINX_BINARY: join(dir, 'no-such-nginx'), BERTH_STATE_DIR: join(dir, 'state') });
      const logs: LogRecord[] = [];
      const logger = captureLogger(logs);
      const plane = createNginxDataPlane({ config, logger, readiness: baselineTracker(logger), nginxStdout: 'ignore' });
      await plane.apply(table({ 'a.test': [up('app-a', 8080)] }));
      await assert.rejects(plane.start(), { code: 'ERR_NGINX_FAILED', message: /no-such-nginx/ });
      assert.ok(logs.some((l) => l.code === 'ERR_NGINX_FAILED'));
      await plane.stop(100);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
