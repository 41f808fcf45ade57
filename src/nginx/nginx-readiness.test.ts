import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, mock } from 'node:test';
import {
  backend,
  baselineTracker,
  captureLogger,
  freePort,
  request,
  table,
  until,
  up,
  type LogRecord,
  NGINX,
  nginxPlaneEnv,
} from '../../test/fixtures/nginx/plane-helpers.ts';
import { loadConfig } from '../config.ts';
import type { DataPlane } from '../data-plane.ts';
import { ReadinessTracker } from '../readiness/index.ts';
import type { RoutingTable, Upstream } from '../routing-table.ts';
import { createNginxDataPlane } from './nginx-data-plane.ts';
import { renderNginxConfig } from './render-nginx-config.ts';
import { watchReadiness } from './watch-readiness.ts';

/** Zero-downtime in the nginx data plane: readiness-gated upstreams, draining through the table, 503 + Retry-After. */


const draining = (u: Upstream): Upstream => ({ ...u, draining: true });

describe('nginx data plane with readiness (real nginx, local backends)', { skip: !existsSync(NGINX) }, () => {
  const logs: LogRecord[] = [];
  const servers: http.Server[] = [];
  let dir = '';
  let port = 0;
  let plane: DataPlane;
  let tracker: ReadinessTracker;
  /** What main does: the tracker learns the table right before the plane applies it. */
  const publish = async (t: RoutingTable): Promise<void> => {
    tracker.update(t);
    await plane.apply(t);
  };
  const conf = (): Promise<string> => readFile(join(dir, 'state', 'berth.conf'), 'utf8');
  const bodyOf = async (host: string, path = '/'): Promise<string | undefined> => {
    const r = await request(port, host, path);
    return r.status === 200 ? r.body : undefined;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-nginx-ready-'));
    port = await freePort();
    const config = loadConfig({
      HTTP_PORT: String(port),
      BERTH_LISTEN_ADDRESS: '127.0.0.1',
      ...nginxPlaneEnv(dir),
    });
    const logger = captureLogger(logs);
    tracker = new ReadinessTracker({ logger, admission: config.admission, drain: config.drain, circuitOpenMs: config.circuitBreakMs });
    plane = createNginxDataPlane({ config, logger, readiness: tracker, nginxStdout: 'ignore' });
    await publish(table({}));
    await plane.start();
  });

  after(async () => {
    await plane.stop(1000).catch(() => undefined);
    tracker.stop();
    for (const s of servers) s.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a backend that is not listening yet is left out (503 + Retry-After) and routed once its probe passes, without apply()', async () => {
    const latePort = await freePort();
    await publish(table({ 'late.test': [up('late', latePort)] }));
    const early = await request(port, 'late.test');
    assert.equal(early.status, 503);
    assert.equal(early.headers['retry-after'], '1');
    assert.doesNotMatch(await conf(), new RegExp(`:${latePort} `));
    const applied = logs.filter((l) => l.msg === 'nginx config applied').length;
    const late = await backend('LATE', latePort);
    servers.push(late.server);
    assert.equal(await until('late.test routed', () => bodyOf('late.test')), `LATE late.test:${port} /`);
    assert.match(await conf(), new RegExp(`server 127\\.0\\.0\\.1:${latePort} max_fails=`));
    // The log line follows the reload, which may finish after nginx's new workers already answered.
    await until('the readiness re-render logged', () => (logs.filter((l) => l.msg === 'nginx config applied').length > applied ? true : undefined));
  });

  it('a draining backend leaves the upstream at once; its request in flight finishes; all draining -> 503 + Retry-After', async () => {
    let release: () => void = () => undefined;
    const released = new Promise<void>((r) => (release = r));
    let slowArrived: () => void = () => undefined;
    const arrived = new Promise<void>((r) => (slowArrived = r));
    const old = http.createServer((req, res) => {
      if (req.url !== '/slow') return void res.end('OLD');
      slowArrived();
      void released.then(() => res.end('OLD slow'));
    });
    await new Promise<void>((r) => old.listen(0, '127.0.0.1', r));
    const fresh = await backend('NEW');
    servers.push(old, fresh.server);
    const v1 = up('v1', (old.address() as AddressInfo).port);
    const v2 = up('v2', fresh.port);
    await publish(table({ 'app.test': [v1, v2] }));
    await until('both replicas routed', async () => ((await conf()).includes(`:${v2.port} `) && (await conf()).includes(`:${v1.port} `) ? true : undefined));
    const inFlight = until('the slow request reaches v1', async () => {
      const r = await request(port, 'app.test', '/slow');
      return r.body === 'OLD slow' ? r : undefined;
    });
    await arrived;
    // The kill event: v1 draining. apply() resolves once nginx runs the new config (no debounce on this path).
    await publish(table({ 'app.test': [draining(v1), v2] }));
    assert.doesNotMatch(await conf(), new RegExp(`:${v1.port} `));
    for (let i = 0; i < 6; i++) assert.match((await bodyOf('app.test')) ?? '', /^NEW /);
    release();
    assert.equal((await inFlight).status, 200);
    await publish(table({ 'app.test': [draining(v1), draining(v2)] }));
    const none = await request(port, 'app.test');
    assert.equal(none.status, 503);
    assert.equal(none.headers['retry-after'], '1');
  });

  it('a host with no backend at all keeps nginx-proxy\'s 502 (no Retry-After)', async () => {
    await publish(table({ 'empty.test': [] }));
    const r = await request(port, 'empty.test');
    assert.equal(r.status, 502);
    assert.equal(r.headers['retry-after'], undefined);
  });
});

describe('nginx rendering with the baseline tracker (BERTH_ADMISSION=start BERTH_DRAIN=false)', () => {
  it('renders starting, unhealthy and draining backends, as nginx-proxy does', async () => {
    const logs: LogRecord[] = [];
    const tracker = baselineTracker(captureLogger(logs));
    const t = table({ 'app.test': [draining(up('v1', 8001)), { ...up('v2', 8002), health: 'starting' }, { ...up('v3', 8003), health: 'unhealthy' }] });
    tracker.update(t);
    const config = loadConfig({ HTTP_PORT: '80' }, () => false);
    const { text } = await renderNginxConfig(t, config, { exists: () => false, isReady: (u) => tracker.isReady(u) });
    for (const p of [8001, 8002, 8003]) assert.match(text, new RegExp(`server 127\\.0\\.0\\.1:${p} max_fails=`));
    assert.doesNotMatch(text, /Retry-After|not ready/);
    tracker.stop();
  });
});

describe('watchReadiness', () => {
  it('turns a burst of tracker changes into one call after the debounce, and cancelPending drops it', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const tracker = baselineTracker(captureLogger([]));
    const onChange = mock.fn();
    const watch = watchReadiness(tracker, onChange, 50);
    for (let i = 0; i < 5; i++) tracker.update(table({}));
    t.mock.timers.tick(49);
    assert.equal(onChange.mock.callCount(), 0);
    t.mock.timers.tick(1);
    assert.equal(onChange.mock.callCount(), 1);
    tracker.update(table({}));
    watch.cancelPending();
    t.mock.timers.tick(100);
    assert.equal(onChange.mock.callCount(), 1);
    watch.close();
    tracker.update(table({}));
    t.mock.timers.tick(100);
    assert.equal(onChange.mock.callCount(), 1);
    tracker.stop();
  });
});
