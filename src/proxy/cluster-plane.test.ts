import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createLogger } from '../logger.ts';
import { newRoute, newVirtualHost } from '../routing-table.ts';
import { freePort, readinessFor, send, startEchoBackend, table, testConfig, upstream, waitFor } from './test-harness.ts';
import { createNodeDataPlane } from './node-data-plane.ts';

describe('BERTH_WORKERS: the Node data plane in cluster workers', () => {
  const closers: (() => Promise<void>)[] = [];
  after(async () => {
    for (const close of closers.reverse()) await close();
  });

  it('routes through every worker, follows new tables, stops the workers', async () => {
    const a = await startEchoBackend('a');
    const b = await startEchoBackend('b');
    closers.push(a.close, b.close);
    const config = await testConfig({ workers: 2 });
    const plane = createNodeDataPlane({ config, logger: createLogger('silent', false), readiness: readinessFor(config) });
    closers.push(() => plane.stop(1000));
    await plane.apply(table({ 'a.test': [upstream(a.port)] }));
    await plane.start();
    const port = config.httpPort;
    await waitFor(async () => (await send(port, { headers: { host: 'a.test' } })).status === 200, 5000, 'a.test through the workers');
    await plane.apply(table({ 'a.test': [upstream(a.port)], 'b.test': [upstream(b.port)] }));
    // Every worker gets the new table: enough answers in a row (round robin over 2 workers) all come from b.
    await waitFor(async () => {
      const replies = await Promise.all(Array.from({ length: 6 }, () => send(port, { headers: { host: 'b.test' } })));
      return replies.every((r) => r.status === 200 && (JSON.parse(r.body) as { name: string }).name === 'b');
    }, 10_000, 'b.test in every worker');
    await plane.stop(1000);
    await assert.rejects(send(port, { headers: { host: 'a.test' } }));
  });

  it('serves EXTERNAL_HTTP_PORT ports from the workers too, opened and closed with the table', async () => {
    const a = await startEchoBackend('a');
    closers.push(a.close);
    const extra = await freePort();
    const config = await testConfig({ workers: 2 });
    const plane = createNodeDataPlane({ config, logger: createLogger('silent', false), readiness: readinessFor(config) });
    closers.push(() => plane.stop(1000));
    await plane.apply(table({ 'a.test': [upstream(a.port)] }));
    await plane.start();
    const withExtra = { hosts: [newVirtualHost({ hostname: 'x.test', httpPort: extra, routes: [newRoute({ upstreams: [upstream(a.port)] })] })], issues: [] };
    await plane.apply(withExtra);
    await waitFor(async () => {
      const replies = await Promise.all(Array.from({ length: 4 }, () => send(extra, { headers: { host: 'x.test' } }).catch(() => undefined)));
      return replies.every((r) => r?.status === 200);
    }, 10_000, 'x.test on its own port through every worker');
    await plane.apply(table({ 'a.test': [upstream(a.port)] }));
    await waitFor(async () => (await send(extra, { headers: { host: 'x.test' } }).then(() => false, () => true)), 10_000, 'extra port closed in every worker');
    await plane.stop(1000);
  });
});
