import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  cleanupAll,
  containerAddress,
  createNetwork,
  docker,
  ECHO_BARE_IMAGE,
  ensureImages,
  eventually,
  getFrom,
  RUN_ID,
  runContainer,
  stopContainer,
  TEST_LABEL,
  upgradeEcho,
  type EchoReply,
} from './harness.ts';

/** The harness's Docker side and the echo image, without berth: a backend must behave before berth is blamed. */

before(async () => {
  await ensureImages();
  await cleanupAll();
});
after(() => cleanupAll());

describe('echo image and docker harness', () => {
  it('answers JSON on PORT and on every PORTS port, and /healthz', async () => {
    const c = await runContainer({ env: { NAME: 'e1', VERSION: 'v7', PORTS: '8080,9090' } });
    const ip = await containerAddress(c.id);
    const reply = await eventually(async () => (await getFrom(ip, 80, 'echo.test', '/a?b=1')).json<EchoReply>());
    assert.deepEqual(
      { version: reply.version, name: reply.name, port: reply.port, method: reply.method, url: reply.url, host: reply.headers['host'] },
      { version: 'v7', name: 'e1', port: 80, method: 'GET', url: '/a?b=1', host: 'echo.test' },
    );
    assert.equal(reply.hostname, c.id.slice(0, 12));
    for (const port of [8080, 9090]) assert.equal((await getFrom(ip, port, 'echo.test')).json().port, port);
    const health = await getFrom(ip, 80, 'echo.test', '/healthz');
    assert.deepEqual([health.status, health.body], [200, 'ok']);
    const status = await getFrom(ip, 80, 'echo.test', '/?status=418');
    assert.equal(status.status, 418);
  });

  it('echoes raw bytes after an Upgrade', async () => {
    const c = await runContainer({});
    const ip = await containerAddress(c.id);
    await eventually(() => getFrom(ip, 80, 'x'));
    const payload = Buffer.from('ping\x00\xffpong', 'latin1');
    const result = await upgradeEcho(80, 'x', payload, { address: ip });
    assert.equal(result.status, 101);
    assert.ok(result.echoed.equals(payload));
  });

  it('finishes an in-flight request on SIGTERM and exits 0', async () => {
    const c = await runContainer({});
    const ip = await containerAddress(c.id);
    await eventually(() => getFrom(ip, 80, 'x'));
    const slow = getFrom(ip, 80, 'x', '/?delay=1500');
    // Stop only once the slow request has reached the server, so it is in flight when SIGTERM arrives.
    await eventually(async () => assert.match(await docker(['logs', c.id]), /delaying GET \/\?delay=1500/));
    await stopContainer(c.id, 10);
    assert.equal((await slow).status, 200);
    assert.equal(await docker(['inspect', '-f', '{{.State.ExitCode}}', c.id]), '0');
  });

  it('reports healthy through the image HEALTHCHECK (interval overridden to 1s)', async () => {
    const c = await runContainer({ healthcheck: { interval: '1s', startPeriod: '0s' } });
    await eventually(
      async () => assert.equal(await docker(['inspect', '-f', '{{.State.Health.Status}}', c.id]), 'healthy'),
      { timeoutMs: 15_000, intervalMs: 250 },
    );
  });

  it('exposes exactly the --expose ports with the bare image', async () => {
    const c = await runContainer({ image: ECHO_BARE_IMAGE, env: { PORT: '8080' }, expose: [8080] });
    assert.equal(await docker(['inspect', '-f', '{{json .Config.ExposedPorts}}', c.id]), '{"8080/tcp":{}}');
  });

  it('labels containers and networks with the run id and cleans them all up', async () => {
    const net = await createNetwork();
    const c = await runContainer({ network: net });
    assert.equal(await docker(['inspect', '-f', `{{index .Config.Labels "${TEST_LABEL}"}}`, c.id]), RUN_ID);
    await cleanupAll();
    assert.equal(await docker(['ps', '-aq', '--filter', `label=${TEST_LABEL}`]), '');
    assert.equal(await docker(['network', 'ls', '-q', '--filter', `label=${TEST_LABEL}`]), '');
  });
});
