import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { classifyFailure, isConnectionFailure, mayRetry } from './retry-policy.ts';
import { RoundRobin } from './round-robin.ts';
import { table, upstream, waitFor } from './test-harness.ts';
import { Tombstones } from './tombstones.ts';
import { WaitQueue } from './wait-queue.ts';

const err = (code: string): Error => Object.assign(new Error(code), { code });

describe('retry policy', () => {
  const cases: [string, string, boolean, boolean, boolean][] = [
    // code, method, bodyTouched, responseStarted, retried
    ['ECONNREFUSED', 'POST', false, false, true],
    ['UPSTREAM_CONNECT_TIMEOUT', 'PATCH', false, false, true],
    ['UPSTREAM_TLS_HANDSHAKE', 'POST', false, false, true],
    ['UPSTREAM_CLOSED', 'GET', false, false, true],
    ['ECONNRESET', 'DELETE', false, false, true],
    ['ECONNRESET', 'POST', false, false, false],
    ['UPSTREAM_CLOSED', 'PUT', true, false, false],
    ['UPSTREAM_CLOSED', 'GET', false, true, false],
    ['UPSTREAM_TIMEOUT', 'GET', false, false, false],
  ];
  for (const [code, method, touched, started, retried] of cases) {
    it(`${code} ${method}${touched ? ' (body read)' : ''}${started ? ' (response started)' : ''} -> ${retried ? 'retry' : 'no retry'}`, () => {
      assert.equal(mayRetry(classifyFailure(err(code), started), method, touched), retried);
    });
  }

  it('feeds only connection-level failures to the circuit breaker', () => {
    assert.equal(isConnectionFailure(classifyFailure(err('ECONNREFUSED'), false)), true);
    assert.equal(isConnectionFailure(classifyFailure(err('ECONNRESET'), false)), true);
    assert.equal(isConnectionFailure(classifyFailure(err('UPSTREAM_TLS_HANDSHAKE'), false)), true);
    assert.equal(isConnectionFailure(classifyFailure(err('UPSTREAM_TIMEOUT'), false)), false);
  });
});

describe('RoundRobin.pickWhere', () => {
  it('skips ineligible items and keeps rotating between the eligible ones', () => {
    const rr = new RoundRobin();
    const picks = Array.from({ length: 4 }, () => rr.pickWhere('k', ['a', 'b', 'c'], (x) => x !== 'a'));
    assert.deepEqual(picks, ['b', 'c', 'b', 'c']);
    assert.equal(rr.pickWhere('k', ['a'], () => false), undefined);
  });
});

describe('Tombstones', () => {
  it('remembers vanished hosts (wildcards too) until the TTL, forgets them when they come back', () => {
    const t = new Tombstones(1000);
    const before = table({ 'app.test': [upstream(1)], '*.wild.test': [upstream(2)] });
    t.update(before, table({}), 0);
    assert.equal(t.has('app.test', 10), true);
    assert.equal(t.has('x.wild.test', 10), true);
    assert.equal(t.has('other.test', 10), false);
    assert.equal(t.has('app.test', 1000), false);
    t.update(table({}), table({ 'app.test': [upstream(3)] }), 20);
    assert.equal(t.has('app.test', 30), false);
  });
});

describe('WaitQueue', () => {
  it('wakes waiters until their retry succeeds, expires the rest, drops closed clients, bounds its size', async () => {
    const q = new WaitQueue(2);
    let ready = false;
    const events: string[] = [];
    const a = new EventEmitter();
    const b = new EventEmitter();
    assert.equal(q.add({ retry: () => ready, expire: () => events.push('a expired') }, Date.now() + 60_000, a), true);
    assert.equal(q.add({ retry: () => false, expire: () => events.push('b expired') }, Date.now() + 30, b), true);
    assert.equal(q.add({ retry: () => true, expire: () => events.push('c expired') }, Date.now() + 60_000, new EventEmitter()), false);
    q.wakeAll();
    assert.equal(q.size, 2);
    ready = true;
    q.wakeAll();
    assert.equal(q.size, 1);
    await waitFor(() => events.includes('b expired'), 2000, 'b expired');
    assert.equal(q.size, 0);
    const d = new EventEmitter();
    q.add({ retry: () => false, expire: () => events.push('d expired') }, Date.now() + 60_000, d);
    d.emit('close');
    assert.equal(q.size, 0);
    q.add({ retry: () => false, expire: () => events.push('e expired') }, Date.now() + 60_000, new EventEmitter());
    q.expireAll();
    assert.deepEqual(events, ['b expired', 'e expired']);
  });
});
