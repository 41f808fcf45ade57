import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { ContainerInfo } from './container-info.ts';
import { createDiscovery } from './discovery.ts';
import type { DockerEngine, EngineEvent } from './docker-engine.ts';
import type { RoutingTable } from '../routing-table.ts';

/** An in-memory engine: containers can be changed, events emitted, and the engine taken away and brought back. */
function fakeEngine() {
  let containers: ContainerInfo[] = [];
  let up = true;
  let listeners: Array<{ onEvent: (e: EngineEvent) => void; onEnd: (err: Error | undefined) => void }> = [];
  let lists = 0;
  let lastFilters: unknown;
  const down = (): Error => Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
  const engine: DockerEngine = {
    version: async () => '20.10',
    listRunning: async (filters) => {
      if (!up) throw down();
      lastFilters = filters;
      lists++;
      return containers;
    },
    placement: async () => null,
    subscribe: async (onEvent, onEnd) => {
      if (!up) throw down();
      const l = { onEvent, onEnd };
      listeners.push(l);
      return { close: () => void (listeners = listeners.filter((x) => x !== l)) };
    },
    signalByLabel: async () => 0,
  };
  return {
    engine,
    get lists() {
      return lists;
    },
    get lastFilters() {
      return lastFilters;
    },
    set(list: ContainerInfo[]) {
      containers = list;
    },
    emit(e: EngineEvent = { type: 'container', action: 'start', id: 'x', name: 'x' }) {
      for (const l of listeners) l.onEvent(e);
    },
    stopEngine() {
      up = false;
      const ls = listeners;
      listeners = [];
      for (const l of ls) l.onEnd(new Error('stream ended'));
    },
    startEngine() {
      up = true;
    },
  };
}

function app(name: string, host: string): ContainerInfo {
  return {
    id: name, name, env: { VIRTUAL_HOST: host }, labels: {}, exposedPorts: [80],
    networks: [{ name: 'bridge', ipAddress: '172.17.0.2', ipv6Address: '', gateway: '' }], networkMode: 'default', health: 'none', stopping: false,
  };
}

async function next(it: AsyncGenerator<RoutingTable>): Promise<RoutingTable> {
  const r = await it.next();
  assert.equal(r.done, false);
  return r.value as RoutingTable;
}

const logger = pino({ level: 'silent' });
const opts = { logger, debounceMinMs: 5, debounceMaxMs: 20, resyncIntervalMs: 60_000, reconnectMinMs: 5, reconnectMaxMs: 20 };

describe('createDiscovery', () => {
  it('publishes the first listing, then a new table after events, never an unchanged one', async () => {
    const fake = fakeEngine();
    fake.set([app('a', 'a.example')]);
    const d = createDiscovery({ ...opts, engine: fake.engine });
    const tables = d.tables();
    try {
      assert.deepEqual((await next(tables)).hosts.map((h) => h.hostname), ['a.example']);
      fake.emit(); // nothing changed: no new table
      fake.set([app('a', 'a.example'), app('b', 'b.example')]);
      fake.emit();
      fake.emit();
      assert.deepEqual((await next(tables)).hosts.map((h) => h.hostname), ['a.example', 'b.example']);
    } finally {
      d.stop();
    }
  });

  it('keeps the last table while the engine is away and resyncs when it is back', async () => {
    const fake = fakeEngine();
    fake.set([app('a', 'a.example')]);
    const d = createDiscovery({ ...opts, engine: fake.engine });
    const tables = d.tables();
    try {
      await next(tables);
      fake.stopEngine();
      fake.set([app('a', 'a.example'), app('c', 'c.example')]); // changed while away: no event will tell
      const listsBefore = fake.lists;
      fake.startEngine();
      const t = await next(tables);
      assert.deepEqual(t.hosts.map((h) => h.hostname), ['a.example', 'c.example']);
      assert.ok(fake.lists > listsBefore);
    } finally {
      d.stop();
    }
  });

  it('waits for the engine before the first publish', async () => {
    const fake = fakeEngine();
    fake.stopEngine();
    fake.set([app('a', 'a.example')]);
    const d = createDiscovery({ ...opts, engine: fake.engine });
    const tables = d.tables();
    try {
      const pending = next(tables);
      setTimeout(() => fake.startEngine(), 30);
      assert.deepEqual((await pending).hosts.map((h) => h.hostname), ['a.example']);
    } finally {
      d.stop();
    }
  });

  it('drains a container from its kill event on, without waiting for a relist', async () => {
    const fake = fakeEngine();
    fake.set([app('a', 'a.example'), app('b', 'a.example')]);
    const d = createDiscovery({ ...opts, engine: fake.engine, debounceMinMs: 60_000, debounceMaxMs: 60_000 });
    const tables = d.tables();
    try {
      await next(tables);
      fake.emit({ type: 'container', action: 'kill', id: 'x', name: 'x', signal: '1' }); // SIGHUP: a reload, not a stop
      fake.emit({ type: 'container', action: 'kill', id: 'a', name: 'a', signal: '15' });
      const t = await next(tables); // debounce is a minute: this table came from the kill event itself
      assert.deepEqual(t.hosts[0]?.routes[0]?.upstreams.map((u) => [u.containerName, u.draining]), [['a', true], ['b', false]]);
    } finally {
      d.stop();
    }
  });

  it('lists with DOCKER_CONTAINER_FILTERS and builds for the plane and IP family it is given', async () => {
    const fake = fakeEngine();
    const dual: ContainerInfo = {
      ...app('a', 'a.example'),
      env: { VIRTUAL_HOST: 'a.example', VIRTUAL_PROTO: 'uwsgi' },
      networks: [{ name: 'bridge', ipAddress: '172.17.0.2', ipv6Address: 'fd00::2', gateway: '' }],
    };
    fake.set([dual, { ...dual, id: 'b', name: 'b', env: { VIRTUAL_HOST: 'b.example' } }]);
    const containerFilters = { network: ['web'], label: ['env=prod'] };
    const d = createDiscovery({ ...opts, engine: fake.engine, containerFilters, plane: 'node', preferIpv6: true });
    try {
      const t = await d.snapshot();
      assert.deepEqual(fake.lastFilters, containerFilters);
      assert.deepEqual(t.hosts.map((h) => [h.hostname, h.routes[0]?.upstreams[0]?.address]), [['b.example', 'fd00::2']]);
      assert.deepEqual(t.issues.map((i) => i.code), ['ERR_SETTING_UNSUPPORTED']);
    } finally {
      d.stop();
    }
  });

  it('stop ends the stream', async () => {
    const fake = fakeEngine();
    const d = createDiscovery({ ...opts, engine: fake.engine });
    const tables = d.tables();
    await next(tables);
    d.stop();
    assert.equal((await tables.next()).done, true);
  });
});
