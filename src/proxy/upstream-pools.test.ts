import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newRoute, newVirtualHost } from '../routing-table.ts';
import { poolKey, routeScheme, UpstreamPools, upstreamKey } from './upstream-pools.ts';
import { table, upstream, waitFor } from './test-harness.ts';

const SETTINGS = { connectTimeoutMs: 1000, upstreamTimeoutMs: 1000, retireAfterMs: 20 };

describe('UpstreamPools', () => {
  it('keys IPv6 upstreams with brackets', () => {
    assert.equal(upstreamKey({ address: '10.0.0.1', port: 80 }), '10.0.0.1:80');
    assert.equal(upstreamKey({ address: 'fd00::1', port: 8080 }), '[fd00::1]:8080');
  });

  it('reuses one pool per upstream across table generations', async () => {
    const pools = new UpstreamPools(SETTINGS);
    pools.update(table({ 'a.test': [upstream(1001)] }));
    const first = pools.get('127.0.0.1:1001');
    pools.update(table({ 'a.test': [upstream(1001)], 'b.test': [upstream(1002)] }));
    assert.equal(pools.get('127.0.0.1:1001'), first);
    await pools.close(true);
  });

  it('retires a pool a while after its upstream left the table', async () => {
    const pools = new UpstreamPools(SETTINGS);
    pools.update(table({ 'a.test': [upstream(1001)] }));
    pools.get('127.0.0.1:1001');
    pools.update(table({}));
    assert.equal(pools.size, 1);
    await waitFor(() => pools.size === 0, 2000, 'pool retired');
    await pools.close(false);
  });

  it('keeps a pool whose upstream came back before the retirement delay', async () => {
    const pools = new UpstreamPools({ ...SETTINGS, retireAfterMs: 50 });
    const t = table({ 'a.test': [upstream(1001)] });
    pools.update(t);
    const first = pools.get('127.0.0.1:1001');
    pools.update(table({}));
    assert.equal(pools.retiring, 1);
    pools.update(t);
    assert.equal(pools.retiring, 0);
    assert.equal(pools.get('127.0.0.1:1001'), first);
    await pools.close(true);
  });

  it('retires pools created for upstreams absent from the current table', async () => {
    const pools = new UpstreamPools(SETTINGS);
    pools.update(table({}));
    pools.get('127.0.0.1:1003');
    await waitFor(() => pools.size === 0, 2000, 'stray pool retired');
    await pools.close(false);
  });

  it('keeps one pool per scheme and keepalive count, and shares the plain pool between auto and disabled', async () => {
    assert.equal(poolKey('10.0.0.1:80', 'http', 'auto'), '10.0.0.1:80');
    assert.equal(poolKey('10.0.0.1:80', 'http', 'disabled'), '10.0.0.1:80');
    assert.equal(poolKey('10.0.0.1:80', 'http', 8), '10.0.0.1:80#8');
    assert.equal(poolKey('10.0.0.1:443', 'https', 'auto'), 'https://10.0.0.1:443');
    assert.equal(routeScheme({ proto: 'grpcs' }), 'https');
    const pools = new UpstreamPools(SETTINGS);
    const u = upstream(1001);
    pools.update({
      hosts: [
        newVirtualHost({ hostname: 'a.test', routes: [newRoute({ path: '/', upstreams: [u], keepalive: 4 }), newRoute({ path: '/s/', proto: 'https', upstreams: [u] })] }),
      ],
      issues: [],
    });
    const counted = pools.get('127.0.0.1:1001', 'http', 4);
    const tls = pools.get('127.0.0.1:1001', 'https', 'auto');
    assert.notEqual(counted, tls);
    assert.equal(pools.get('127.0.0.1:1001', 'http', 4), counted);
    assert.equal(pools.retiring, 0);
    await pools.close(true);
  });
});
