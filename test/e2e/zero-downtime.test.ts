import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import {
  cleanupAll,
  containerAddress,
  docker,
  ensureImages,
  eventually,
  get,
  getFrom,
  hostFor,
  removeContainer,
  runContainer,
  e2eModes,
  startBerth,
  startLoad,
  stopContainer,
  type BerthProcess,
  type HttpResult,
  type RunOptions,
} from './harness.ts';

/**
 * Zero-downtime rules (issue 5) against real containers and a real berth, per data plane. The Node data plane is
 * the strict one (requests wait for a ready backend, are retried, never see a 502 from a starting or stopping
 * container); the nginx data plane gets what nginx allows: only ready backends in its upstreams, re-rendered at the
 * kill event and at health changes, and 503 + Retry-After at once (nginx cannot hold a request) when none is ready.
 * BERTH_E2E_MODES=node,nginx (default) selects the data planes.
 */

const modes = e2eModes();

/** The bounded wait for a ready backend in these tests (the Node data plane's 503 comes after it). */
const BACKEND_WAIT_MS = 1000;
/** A 503 that waited for BACKEND_WAIT_MS: allow for timer granularity. */
const WAITED_AT_LEAST_MS = BACKEND_WAIT_MS - 100;
/** Concurrent keep-alive clients of the load in the stop-under-load tests. */
const CLIENTS = 8;

before(async () => {
  await ensureImages();
  await cleanupAll();
});
after(() => cleanupAll());

interface Timed {
  readonly res: HttpResult;
  readonly ms: number;
}

async function timedGet(port: number, host: string, path = '/'): Promise<Timed> {
  const t0 = performance.now();
  const res = await get(port, host, path, {}, 20_000);
  return { res, ms: performance.now() - t0 };
}

const describeRes = (t: Timed): string =>
  `${t.res.status} after ${Math.round(t.ms)} ms (x-berth-error ${String(t.res.headers['x-berth-error'])}): ${t.res.body.slice(0, 200)}`;

async function healthOf(id: string): Promise<string> {
  return docker(['inspect', '-f', '{{.State.Health.Status}}', id]);
}

/** Waits until berth logged a route for `host` (discovery saw the container), whatever its readiness. */
async function routeKnown(berth: BerthProcess, host: string): Promise<void> {
  await berth.waitForLog((l) => l['module'] === 'routes' && l['host'] === host, 15_000);
}

for (const mode of modes) {
  describe(`zero-downtime through the ${mode} data plane`, () => {
    let berth: BerthProcess | undefined;
    const started: string[] = [];
    const extraBerths: BerthProcess[] = [];
    const b = (): BerthProcess => {
      assert.ok(berth, 'berth did not start');
      return berth;
    };
    const run = async (options: RunOptions) => {
      const c = await runContainer(options);
      started.push(c.id);
      return c;
    };
    const host = (scenario: string): string => hostFor(`zd-${scenario}-${mode}`);

    before(async () => {
      berth = await startBerth({ mode, env: { BERTH_BACKEND_WAIT: `${BACKEND_WAIT_MS}ms` } });
    });
    after(async () => {
      await Promise.all(started.map((id) => removeContainer(id).catch(() => undefined)));
      for (const extra of extraBerths) await extra.stop();
      if (berth) assert.equal(await berth.stop(), 0, 'berth exits 0 on SIGTERM');
    });

    it('HEALTHCHECK gating: no traffic while starting (503 + Retry-After), traffic once healthy', async () => {
      const h = host('gating');
      // Healthy only once /tmp/ready exists; the long start period keeps the state `starting` until then.
      const c = await run({
        env: { VIRTUAL_HOST: h },
        healthcheck: { cmd: ['test', '-f', '/tmp/ready'], interval: '1s', startPeriod: '120s', retries: 1 },
      });
      // The app itself answers: keeping it out of rotation is berth's doing, not a refused connection.
      const ip = await containerAddress(c.id);
      await eventually(async () => assert.equal((await getFrom(ip, 80, h)).status, 200));
      await routeKnown(b(), h);
      // Until the host's config is live (nginx reloads after the route log) the unknown-host 503 may come first.
      const statuses: number[] = [];
      const gated = await eventually(async () => {
        const t = await timedGet(b().port, h);
        statuses.push(t.res.status);
        assert.equal(t.res.status, 503, describeRes(t));
        assert.ok(t.res.headers['retry-after'] !== undefined, `Retry-After missing: ${describeRes(t)}`);
        return t;
      }, { timeoutMs: 10_000, intervalMs: 50 });
      assert.ok(!statuses.includes(200), `the starting container got traffic: ${statuses.join(',')}`);
      if (mode === 'node') assert.ok(gated.ms >= WAITED_AT_LEAST_MS, `the 503 came before the ${BACKEND_WAIT_MS} ms wait: ${describeRes(gated)}`);
      assert.equal(await healthOf(c.id), 'starting', 'the container was still starting when berth answered 503');

      await docker(['exec', c.id, 'touch', '/tmp/ready']);
      await eventually(async () => assert.equal(await healthOf(c.id), 'healthy'), { timeoutMs: 15_000, intervalMs: 200 });
      const ok = await eventually(async () => {
        const t = await timedGet(b().port, h);
        assert.equal(t.res.status, 200, describeRes(t));
        return t;
      }, { timeoutMs: 10_000, intervalMs: 100 });
      assert.equal(ok.res.json().hostname, c.id.slice(0, 12));
    });

    it('a slow starter without HEALTHCHECK is never answered 502', async () => {
      const h = host('slow');
      // The Node data plane holds requests until the probe passes: give it a wait longer than the startup delay.
      let target = b();
      if (mode === 'node') {
        target = await startBerth({ mode, env: { BERTH_BACKEND_WAIT: '10s' } });
        extraBerths.push(target);
      }
      await run({ env: { VIRTUAL_HOST: h, STARTUP_DELAY: '3000' } });
      await routeKnown(target, h);
      if (mode === 'node') {
        // Sent right after discovery saw it, long before it listens: every request waits, then gets 200.
        const replies = await Promise.all(Array.from({ length: 8 }, () => timedGet(target.port, h)));
        for (const t of replies) assert.equal(t.res.status, 200, describeRes(t));
        assert.ok(replies.some((t) => t.ms >= 1000), `no request had to wait: ${replies.map((t) => Math.round(t.ms)).join(', ')} ms`);
        return;
      }
      // nginx cannot hold a request: 503 + Retry-After until the probe passes, then 200, never 502.
      const seen: number[] = [];
      await eventually(async () => {
        const t = await timedGet(target.port, h);
        seen.push(t.res.status);
        if (t.res.status === 503) assert.ok(t.res.headers['retry-after'] !== undefined, describeRes(t));
        assert.equal(t.res.status, 200, describeRes(t));
      }, { timeoutMs: 15_000, intervalMs: 100 });
      assert.deepEqual([...new Set(seen)].filter((s) => s !== 200 && s !== 503), [], `statuses seen: ${seen.join(',')}`);
      assert.ok(seen.includes(503), 'the slow starter was admitted before it listened');
    });

    for (const shutdown of ['graceful', 'close'] as const) {
      it(`docker stop of v1 under load, v2 ready beside it, loses nothing (SHUTDOWN=${shutdown})`, async () => {
        const h = host(`stop-${shutdown}`);
        const app = (version: string): RunOptions => ({
          env: { VIRTUAL_HOST: h, VERSION: version, SHUTDOWN: shutdown, SHUTDOWN_DELAY: '1500' },
        });
        const v1 = await run(app('v1'));
        await run(app('v2'));
        const versions = new Set<string>();
        await eventually(async () => {
          const res = await get(b().port, h);
          if (res.status === 200) versions.add(res.json().version);
          assert.deepEqual([...versions].sort(), ['v1', 'v2']);
        }, { timeoutMs: 15_000, intervalMs: 50 });

        const load = startLoad({ port: b().port, host: h, clients: CLIENTS });
        // Messages on every assert.ok: without one, node builds it by re-parsing this file, which takes minutes under tsx.
        await eventually(() => assert.ok(load.seen('v1') >= 100 && load.seen('v2') >= 100, `v1 ${load.seen('v1')}, v2 ${load.seen('v2')}`), {
          timeoutMs: 15_000,
          intervalMs: 20,
        });
        await stopContainer(v1.id, 10);
        // Keep loading past the container's exit (the `die` event and its relist) before counting.
        const atExit = load.total();
        await eventually(() => assert.ok(load.total() >= atExit + 500, `${load.total() - atExit} requests since v1 exited`), {
          timeoutMs: 15_000,
          intervalMs: 20,
        });
        const result = await load.stop();
        const lost = `${result.failed} of ${result.total} failed: ${JSON.stringify(result.failures)}`;
        if (mode === 'node') {
          assert.equal(result.failed, 0, lost);
        } else {
          // No request reached a stopping backend: no error status at all. What nginx does lose: each reload (at the
          // kill event, again at die) closes idle client keep-alive connections, and a request a client sends on
          // one at that instant is cut (a client-side socket error, never an HTTP status). At most one per client
          // connection and reload.
          assert.deepEqual(Object.keys(result.failures).filter((k) => k.startsWith('status')), [], lost);
          assert.ok(result.failed <= 2 * CLIENTS, lost);
          if (result.failed > 0) process.stdout.write(`# nginx, SHUTDOWN=${shutdown}: ${lost} (reload keep-alive races)\n`);
        }
        assert.ok((result.versions['v2'] ?? 0) >= 500, `versions: ${JSON.stringify(result.versions)}`);
      });
    }

    it('every backend stopping: 503 + Retry-After after the wait, never 502', async () => {
      const h = host('gone');
      // `close`: the listener is gone at SIGTERM, the container lives 6 s more (draining, no ready backend).
      const c = await run({ env: { VIRTUAL_HOST: h, SHUTDOWN: 'close', SHUTDOWN_DELAY: '6000' } });
      await eventually(async () => assert.equal((await get(b().port, h)).status, 200), { timeoutMs: 15_000 });
      const stopping = stopContainer(c.id, 20);
      const seen: number[] = [];
      try {
        const gone = await eventually(async () => {
          const t = await timedGet(b().port, h);
          seen.push(t.res.status);
          assert.equal(t.res.status, 503, describeRes(t));
          return t;
        }, { timeoutMs: 10_000, intervalMs: 20 });
        assert.ok(gone.res.headers['retry-after'] !== undefined, `Retry-After missing: ${describeRes(gone)}`);
        if (mode === 'node') {
          assert.ok(gone.ms >= WAITED_AT_LEAST_MS, `the 503 came before the ${BACKEND_WAIT_MS} ms wait: ${describeRes(gone)}`);
          assert.equal(gone.res.headers['x-berth-error'], 'NO_READY_BACKEND');
          assert.deepEqual(seen.filter((s) => s !== 200 && s !== 503), [], `statuses seen: ${seen.join(',')}`);
        }
      } finally {
        await stopping;
      }
    });
  });
}
