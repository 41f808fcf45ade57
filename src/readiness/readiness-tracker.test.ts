import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { createLogger } from '../logger.ts';
import type { HealthState, RoutingTable, Upstream } from '../routing-table.ts';
import { newRoute, newVirtualHost } from '../routing-table.ts';
import { probeBackend, type ProbeFn } from './probes.ts';
import { ReadinessTracker, type ReadinessOptions } from './readiness-tracker.ts';

const logger = createLogger('silent', false);

function up(port: number, extra: Partial<Upstream> = {}): Upstream {
  return {
    containerId: `id${port}`,
    containerName: `c${port}`,
    address: '127.0.0.1',
    port,
    network: 'bridge',
    health: 'none',
    draining: false,
    probe: { kind: 'tcp', intervalMs: 20, timeoutMs: 100 },
    ...extra,
  };
}

function tableOf(...upstreams: Upstream[]): RoutingTable {
  return { hosts: [newVirtualHost({ hostname: 'app.test', routes: [newRoute({ path: '/', upstreams })] })], issues: [] };
}

/** A probe whose answer per port the test sets; counts calls per port. */
function fakeProbe(): { probe: ProbeFn; ok: Map<number, boolean>; calls: Map<number, number> } {
  const ok = new Map<number, boolean>();
  const calls = new Map<number, number>();
  const probe: ProbeFn = async (_address, port) => {
    calls.set(port, (calls.get(port) ?? 0) + 1);
    return ok.get(port) ?? false;
  };
  return { probe, ok, calls };
}

function tracker(probe: ProbeFn, options: Partial<ReadinessOptions> = {}): ReadinessTracker {
  return new ReadinessTracker({ logger, admission: 'ready', drain: true, circuitOpenMs: 100, probe, ...options });
}

async function until(check: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('ReadinessTracker', () => {
  it('isReadyNow judges a captured backend by the latest table: draining since, or gone', async () => {
    const f = fakeProbe();
    f.ok.set(1010, true);
    const t = tracker(f.probe);
    try {
      const captured = up(1010);
      t.update(tableOf(captured));
      await until(() => t.isReady(captured), 'ready');
      assert.equal(t.isReadyNow(captured), true);
      t.update(tableOf({ ...captured, draining: true }));
      assert.equal(t.isReady(captured), true, 'the captured object still says not draining');
      assert.equal(t.isReadyNow(captured), false, 'the latest table says draining');
      t.update(tableOf());
      assert.equal(t.isReadyNow(captured), false, 'gone from the table');
    } finally {
      t.stop();
    }
  });

  it('keeps a backend without HEALTHCHECK starting until its probe passes, then ready (and says so)', async () => {
    const f = fakeProbe();
    const t = tracker(f.probe);
    let changes = 0;
    t.onChange(() => changes++);
    const u = up(1001);
    t.update(tableOf(u));
    assert.equal(t.state(u), 'starting');
    await until(() => (f.calls.get(1001) ?? 0) >= 2, 'a few probes');
    assert.equal(t.state(u), 'starting');
    const before = changes;
    f.ok.set(1001, true);
    await until(() => t.isReady(u), 'ready');
    assert.ok(changes > before, 'listeners told about the change');
    t.stop();
  });

  it('takes a backend out after repeated probe failures and back in when it recovers', async () => {
    const f = fakeProbe();
    f.ok.set(1002, true);
    const t = tracker(f.probe);
    const u = up(1002);
    t.update(tableOf(u));
    await until(() => t.isReady(u), 'ready');
    f.ok.set(1002, false);
    await until(() => t.state(u) === 'unhealthy', 'unhealthy');
    f.ok.set(1002, true);
    await until(() => t.isReady(u), 'ready again');
    t.stop();
  });

  it('follows the Docker HEALTHCHECK state and does not probe such containers', () => {
    const f = fakeProbe();
    const t = tracker(f.probe);
    const states: [HealthState, string][] = [
      ['starting', 'starting'],
      ['healthy', 'ready'],
      ['unhealthy', 'unhealthy'],
    ];
    for (const [health, expected] of states) {
      const u = up(1003, { health });
      t.update(tableOf(u));
      assert.equal(t.state(u), expected, health);
    }
    assert.equal(f.calls.get(1003), undefined);
    t.stop();
  });

  it('drains a backend that got its stop signal, unless draining is off', () => {
    const f = fakeProbe();
    const on = tracker(f.probe);
    const off = tracker(f.probe, { drain: false });
    const u = up(1004, { health: 'healthy', draining: true });
    on.update(tableOf(u));
    off.update(tableOf(u));
    assert.equal(on.state(u), 'draining');
    assert.equal(on.isReady(u), false);
    assert.equal(off.state(u), 'ready');
    on.stop();
    off.stop();
  });

  it("admits at start with admission 'start' (nginx-proxy's behaviour) and probes nothing", () => {
    const f = fakeProbe();
    const t = tracker(f.probe, { admission: 'start' });
    const u = up(1005);
    t.update(tableOf(u));
    assert.equal(t.state(u), 'ready');
    assert.equal(t.state(up(1005, { health: 'starting' })), 'ready');
    assert.equal(t.state(up(1005, { draining: true })), 'draining');
    for (let i = 0; i < 5; i++) t.reportConnectFailure(u);
    assert.equal(t.state(u), 'ready', 'no circuit breaker either');
    assert.equal(f.calls.get(1005), undefined);
    t.stop();
  });

  it('opens the circuit after 3 consecutive connection failures and closes it after circuitOpenMs', async () => {
    const f = fakeProbe();
    f.ok.set(1006, true);
    const t = tracker(f.probe, { circuitOpenMs: 150 });
    const u = up(1006);
    const healthy = up(1007, { health: 'healthy' });
    t.update(tableOf(u, healthy));
    await until(() => t.isReady(u), 'ready');
    t.reportConnectFailure(u);
    t.reportConnectFailure(u);
    t.reportSuccess(u); // a success in between resets the count
    t.reportConnectFailure(u);
    t.reportConnectFailure(u);
    assert.equal(t.state(u), 'ready');
    t.reportConnectFailure(u);
    assert.equal(t.state(u), 'unhealthy');
    for (let i = 0; i < 3; i++) t.reportConnectFailure(healthy);
    assert.equal(t.state(healthy), 'unhealthy', 'the circuit overrides a healthy HEALTHCHECK');
    const opened = Date.now();
    await until(() => t.isReady(u) && t.isReady(healthy), 'circuits closed');
    assert.ok(Date.now() - opened >= 100, 'stayed open for about circuitOpenMs');
    t.stop();
  });

  it('asks the probe to pass again before a backend comes back from an open circuit', async () => {
    const f = fakeProbe();
    f.ok.set(1008, true);
    const t = tracker(f.probe, { circuitOpenMs: 50 });
    const u = up(1008);
    t.update(tableOf(u));
    await until(() => t.isReady(u), 'ready');
    f.ok.set(1008, false);
    for (let i = 0; i < 3; i++) t.reportConnectFailure(u);
    await until(() => t.state(u) === 'starting', 'back to starting once the circuit closed');
    f.ok.set(1008, true);
    await until(() => t.isReady(u), 'ready after a passing probe');
    t.stop();
  });

  it('keeps state across update() of an equal table (new objects, same targets)', async () => {
    const f = fakeProbe();
    f.ok.set(1009, true);
    const t = tracker(f.probe);
    t.update(tableOf(up(1009)));
    await until(() => t.isReady(up(1009)), 'ready');
    const again = up(1009);
    t.update(tableOf(again));
    assert.equal(t.state(again), 'ready');
    t.stop();
  });

  it('cancels the probes of targets that leave the table', async () => {
    const f = fakeProbe();
    const t = tracker(f.probe);
    const u = up(1010);
    t.update(tableOf(u));
    await until(() => (f.calls.get(1010) ?? 0) >= 2, 'probing');
    t.update(tableOf());
    const calls = f.calls.get(1010) ?? 0;
    // Another target keeps probing: once it ran a few times, the removed one must not have run again.
    const other = up(1011);
    t.update(tableOf(other));
    await until(() => (f.calls.get(1011) ?? 0) >= 5, 'other target probed');
    assert.ok((f.calls.get(1010) ?? 0) <= calls + 1, 'at most the probe already in flight completed');
    assert.equal(t.state(u), 'starting', 'unknown again');
    t.stop();
  });
});

describe('probeBackend', () => {
  it('passes a TCP probe on a listening port and fails on a closed one', async () => {
    const server = createServer((_req, res) => res.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const tcp = { kind: 'tcp', intervalMs: 1000, timeoutMs: 500 } as const;
    assert.equal(await probeBackend('127.0.0.1', port, tcp), true);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    assert.equal(await probeBackend('127.0.0.1', port, tcp), false);
  });

  it('checks the status of an HTTP probe against the expected range', async () => {
    const server = createServer((req, res) => {
      res.statusCode = req.url === '/ready' ? 204 : 503;
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const probe = (path: string) => ({ kind: 'http', path, intervalMs: 1000, timeoutMs: 500, expectStatus: [200, 299] }) as const;
    try {
      assert.equal(await probeBackend('127.0.0.1', port, probe('/ready')), true);
      assert.equal(await probeBackend('127.0.0.1', port, probe('/other')), false);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
