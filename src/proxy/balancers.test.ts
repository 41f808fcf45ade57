import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newRoute, type LoadBalance, type Route, type Upstream } from '../routing-table.ts';
import { Balancers, hashKeyValue, type HashSource } from './balancers.ts';
import { crc32, ipHashIndex, keyHashIndex } from './hashing.ts';
import { upstream } from './test-harness.ts';
import { upstreamKey } from './upstream-pools.ts';

const UPS = [upstream(1, 'a'), upstream(2, 'b'), upstream(3, 'c'), upstream(4, 'd')];
const route = (loadBalance: LoadBalance, upstreams: readonly Upstream[] = UPS): Route => newRoute({ path: '/', loadBalance, upstreams });
const source = (over: Partial<HashSource> = {}): HashSource => ({ clientAddress: '192.0.2.10', host: 'h.test', requestUri: '/x?id=7', path: '/x', args: 'id=7', rawHeaders: [], ...over });
const all = (): boolean => true;
const name = (u: Upstream | undefined): string => u?.containerName ?? 'none';

describe('hashing', () => {
  it('computes zlib-compatible crc32', () => {
    assert.equal(crc32('123456789'), 0xcbf43926);
    assert.equal(crc32(''), 0);
  });
  it('ip_hash uses the first three IPv4 octets', () => {
    const a = ipHashIndex('10.1.2.3', 7, all);
    assert.equal(ipHashIndex('10.1.2.200', 7, all), a);
    // nginx: hash = 89; for each octet: hash = (hash * 113 + octet) % 6271
    let h = 89;
    for (const o of [10, 1, 2]) h = (h * 113 + o) % 6271;
    assert.equal(a, h % 7);
  });
  it('re-hashes past unusable items and gives up after 20 tries', () => {
    const first = keyHashIndex('key', 4, all) as number;
    const next = keyHashIndex('key', 4, (i) => i !== first);
    assert.notEqual(next, first);
    assert.equal(keyHashIndex('key', 4, () => false), undefined);
    assert.equal(keyHashIndex('', 4, all), undefined);
  });
});

describe('Balancers', () => {
  it('round robin rotates over eligible backends', () => {
    const b = new Balancers();
    const r = route({ kind: 'round-robin' });
    assert.deepEqual([1, 2, 3, 4, 5].map(() => name(b.pick('k', r, all, source()))), ['a', 'b', 'c', 'd', 'a']);
    assert.equal(name(b.pick('k', r, (u) => u.containerName === 'c', source())), 'c');
  });

  it('least_conn picks the backend with the fewest requests in flight, ties in rotation', () => {
    const b = new Balancers();
    const r = route({ kind: 'least_conn' });
    b.inFlight.add(upstreamKey(UPS[0] as Upstream));
    b.inFlight.add(upstreamKey(UPS[1] as Upstream));
    b.inFlight.add(upstreamKey(UPS[3] as Upstream));
    assert.equal(name(b.pick('k', r, all, source())), 'c');
    b.inFlight.add(upstreamKey(UPS[2] as Upstream));
    const picks = [1, 2, 3, 4].map(() => name(b.pick('k', r, all, source())));
    assert.deepEqual([...picks].sort(), ['a', 'b', 'c', 'd']); // all tied at 1: each once per rotation
    assert.equal(name(b.pick('k', r, (u) => u.containerName !== 'c', source())), picks[0] === 'c' ? picks[1] : picks[0]);
  });

  it('ip_hash maps a client (and its /24) to one backend, and moves it only when that one is not eligible', () => {
    const b = new Balancers();
    const r = route({ kind: 'ip_hash' });
    const first = name(b.pick('k', r, all, source()));
    for (let i = 0; i < 5; i++) assert.equal(name(b.pick('k', r, all, source({ clientAddress: `192.0.2.${i + 100}` }))), first);
    const other = name(b.pick('k', r, (u) => u.containerName !== first, source()));
    assert.notEqual(other, first);
    assert.equal(name(b.pick('k', r, all, source({ clientAddress: 'fd00::1' })) ), name(b.pick('k', r, all, source({ clientAddress: 'fd00::1' }))));
  });

  it('hash on a key is stable; consistent hashing moves only the removed backend\'s keys', () => {
    const b = new Balancers();
    const plain = route({ kind: 'hash', key: '$arg_id', consistent: false });
    const s = source({ args: 'id=42' });
    assert.equal(name(b.pick('k', plain, all, s)), name(b.pick('k', plain, all, s)));
    const ring4 = route({ kind: 'hash', key: '$request_uri', consistent: true });
    const ring3 = route({ kind: 'hash', key: '$request_uri', consistent: true }, UPS.slice(0, 3));
    let moved = 0;
    let ownedByD = 0;
    for (let i = 0; i < 400; i++) {
      const k = source({ requestUri: `/item/${i}` });
      const before = name(b.pick('r4', ring4, all, k));
      const after = name(b.pick('r3', ring3, all, k));
      if (before === 'd') ownedByD++;
      else if (before !== after) moved++;
    }
    assert.equal(moved, 0);
    assert.ok(ownedByD > 40 && ownedByD < 180, `d owned ${ownedByD} of 400 keys`);
  });

  it('falls back to round robin when a hash key is empty', () => {
    const b = new Balancers();
    const r = route({ kind: 'hash', key: '$http_x_user', consistent: false });
    assert.deepEqual([1, 2].map(() => name(b.pick('k', r, all, source()))), ['a', 'b']);
  });

  it('random picks only eligible backends; `two` prefers fewer in flight', () => {
    let n = 0;
    const seq = [0.1, 0.9, 0.6, 0.2];
    const b = new Balancers(() => seq[n++ % seq.length] as number);
    const r = route({ kind: 'random', two: false });
    for (let i = 0; i < 8; i++) assert.notEqual(name(b.pick('k', r, (u) => u.containerName !== 'a', source())), 'a');
    const two = route({ kind: 'random', two: true });
    const b2 = new Balancers(() => 0); // a, then the first other: b
    b2.inFlight.add(upstreamKey(UPS[0] as Upstream));
    assert.equal(name(b2.pick('k', two, all, source())), 'b');
  });

  it('evaluates hash keys from request values', () => {
    const r = route({ kind: 'hash', key: 'x$host-$cookie_sid-$http_x_user-$uri-$remote_addr', consistent: false });
    const s = source({ rawHeaders: ['Cookie', 'a=1; SID=abc', 'X-User', 'bob'] });
    assert.equal(hashKeyValue(r, 'x$host-$cookie_sid-$http_x_user-$uri-$remote_addr', s), 'xh.test-abc-bob-/x-192.0.2.10');
  });
});
