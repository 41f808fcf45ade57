import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  cleanupAll,
  ECHO_BARE_IMAGE,
  ensureImages,
  eventually,
  get,
  hostFor,
  removeContainer,
  restartDockerd,
  runContainer,
  e2eModes,
  startBerth,
  type Mode,
  uniqueName,
  upgradeEcho,
  type BerthProcess,
  type EchoReply,
  type RunOptions,
} from './harness.ts';

/**
 * The routing scenario table, run once per data plane against a real Docker engine and a real berth process.
 * BERTH_E2E_MODES=node,nginx (default) selects the data planes. Every scenario has its own containers and host
 * names; assertions are on what a client sees (status and body).
 */

const modes = e2eModes();

before(async () => {
  await ensureImages();
  await cleanupAll();
});
after(() => cleanupAll());

/** GET that must be a 200 from the echo backend; returns what the backend saw. */
async function echo(port: number, host: string, path = '/', headers: Record<string, string> = {}): Promise<EchoReply> {
  const res = await get(port, host, path, headers);
  assert.equal(res.status, 200, `GET ${host}${path}: expected 200, got ${res.status}: ${res.body.slice(0, 200)}`);
  return res.json();
}

async function expectStatus(port: number, host: string, status: number, timeoutMs = 10_000): Promise<string> {
  const res = await get(port, host, '/', {}, timeoutMs);
  assert.equal(res.status, status, `GET ${host}: expected ${status}, got ${res.status}: ${res.body.slice(0, 200)}`);
  return res.body;
}

/** Docker's default container hostname: the first 12 characters of the id. */
const shortId = (id: string): string => id.slice(0, 12);

const ROUTE_TIMEOUT = { timeoutMs: 10_000, intervalMs: 100 };

for (const mode of modes) {
  describe(`routing through the ${mode} data plane`, () => {
    let berth: BerthProcess | undefined;
    const started: string[] = [];
    const port = (): number => {
      assert.ok(berth, 'berth did not start');
      return berth.port;
    };
    const run = async (options: RunOptions) => {
      const c = await runContainer(options);
      started.push(c.id);
      return c;
    };
    const host = (scenario: string): string => hostFor(`${scenario}-${mode}`);

    before(async () => {
      // A removed host waits BERTH_BACKEND_WAIT for a replacement before its 503 (zero-downtime.test.ts covers the
      // default wait); here the wait is short so the removal scenario sees its 503 within its 2 s.
      berth = await startBerth({ mode, env: { BERTH_BACKEND_WAIT: '300ms' } });
    });
    after(async () => {
      await Promise.all(started.map((id) => removeContainer(id).catch(() => undefined)));
      if (berth) assert.equal(await berth.stop(), 0, 'berth exits 0 on SIGTERM');
    });

    it('answers 503 for a host nothing claims', async () => {
      const body = await expectStatus(port(), host('unknown'), 503);
      assert.match(body, /503/);
      assert.doesNotMatch(body, /"version"/);
    });

    it('routes a container with exactly one exposed port to that port', async () => {
      const h = host('single');
      const c = await run({ image: ECHO_BARE_IMAGE, env: { VIRTUAL_HOST: h, PORT: '8080', NAME: 'single' }, expose: [8080] });
      const reply = await eventually(() => echo(port(), h), ROUTE_TIMEOUT);
      assert.equal(reply.port, 8080);
      assert.equal(reply.name, 'single');
      assert.equal(reply.hostname, shortId(c.id));
    });

    it('routes every name of a comma-separated VIRTUAL_HOST, ignoring blanks', async () => {
      const a = host('comma-a');
      const b = host('comma-b');
      const c = await run({ env: { VIRTUAL_HOST: `${a}, ${b} ,, ` } });
      for (const h of [a, b]) {
        const reply = await eventually(() => echo(port(), h), ROUTE_TIMEOUT);
        assert.equal(reply.hostname, shortId(c.id));
        assert.equal(reply.headers['x-forwarded-host'], h);
      }
    });

    it('picks port 80 when a container exposes two ports and sets no VIRTUAL_PORT', async () => {
      const h = host('twoports');
      await run({ env: { VIRTUAL_HOST: h, PORTS: '8080' }, expose: [8080] });
      const reply = await eventually(() => echo(port(), h), ROUTE_TIMEOUT);
      assert.equal(reply.port, 80);
    });

    it('honours VIRTUAL_PORT among several exposed ports', async () => {
      const h = host('vport');
      await run({ env: { VIRTUAL_HOST: h, PORTS: '8080', VIRTUAL_PORT: '8080' }, expose: [8080] });
      const reply = await eventually(() => echo(port(), h), ROUTE_TIMEOUT);
      assert.equal(reply.port, 8080);
    });

    it('stops routing a removed container within 2 s (503)', async (t) => {
      const h = host('removed');
      const c = await run({ env: { VIRTUAL_HOST: h } });
      await eventually(() => echo(port(), h), ROUTE_TIMEOUT);
      await removeContainer(c.id);
      const t0 = Date.now();
      // A request that reaches nginx before its reload still goes to the vanished address and waits for the
      // connect timeout (then 504), exactly like nginx-proxy: poll with short requests so that one does not
      // hide when the route went away. (The node plane holds a request for the 300 ms wait, then 503.)
      await eventually(() => expectStatus(port(), h, 503, 700), { timeoutMs: 2000, intervalMs: 50 });
      const elapsed = Date.now() - t0;
      t.diagnostic(`${mode}: 503 ${elapsed} ms after docker rm -f returned`);
      assert.ok(elapsed <= 2500, `503 after ${elapsed} ms`);
    });

    it('balances two replicas of one host', async () => {
      const h = host('replicas');
      const [r1, r2] = await Promise.all([
        run({ env: { VIRTUAL_HOST: h, NAME: 'r1' } }),
        run({ env: { VIRTUAL_HOST: h, NAME: 'r2' } }),
      ]);
      const expected = [shortId(r1.id), shortId(r2.id)].sort();
      await eventually(
        async () => {
          const seen = new Set<string>();
          for (let i = 0; i < 10; i += 1) seen.add((await echo(port(), h)).hostname);
          assert.deepEqual([...seen].sort(), expected);
        },
        { timeoutMs: 15_000, intervalMs: 200 },
      );
    });

    it('sends the forwarded headers nginx-proxy sends, keeps Host and drops Proxy', async () => {
      const h = host('headers');
      await run({ env: { VIRTUAL_HOST: h } });
      const uri = '/some/path?q=1&r=a%20b';
      await eventually(() => echo(port(), h), ROUTE_TIMEOUT);
      const seen = (await echo(port(), h, uri, { 'x-forwarded-for': '203.0.113.9', proxy: 'http://evil.example:3128' })).headers;
      assert.equal(seen['host'], `${h}:${port()}`, 'Host is $host$host_port (port kept when not 80/443)');
      assert.equal(seen['x-forwarded-for'], '203.0.113.9, 127.0.0.1');
      assert.equal(seen['x-real-ip'], '127.0.0.1');
      assert.equal(seen['x-forwarded-proto'], 'http');
      assert.equal(seen['x-forwarded-host'], h);
      assert.equal(seen['x-forwarded-port'], String(port()));
      assert.equal(seen['x-forwarded-ssl'], 'off');
      assert.equal(seen['x-original-uri'], uri);
      assert.equal(seen['proxy'], undefined, 'the client Proxy header is dropped (httpoxy)');
      const plain = (await echo(port(), h, '/')).headers;
      assert.equal(plain['x-forwarded-for'], '127.0.0.1');
    });

    it('tunnels an Upgrade request and echoes raw bytes both ways', async () => {
      const h = host('upgrade');
      await run({ env: { VIRTUAL_HOST: h } });
      await eventually(() => echo(port(), h), ROUTE_TIMEOUT);
      const payload = Buffer.concat([Buffer.from('hello through berth\r\n\r\n'), randomBytes(4096)]);
      const result = await upgradeEcho(port(), h, payload, { path: '/ws' });
      assert.equal(result.status, 101, result.statusLine);
      assert.equal(result.headers['upgrade'], 'websocket');
      assert.ok(result.echoed.equals(payload), 'the backend echoed every byte unchanged');
    });

    it('skips a hostile VIRTUAL_HOST with a warning and still routes the other containers', async () => {
      const hostileName = uniqueName(`hostile-${mode}`);
      const h = host('neighbour');
      await run({ name: hostileName, env: { VIRTUAL_HOST: 'a;b{' } });
      await run({ env: { VIRTUAL_HOST: h, NAME: 'neighbour' } });
      const reply = await eventually(() => echo(port(), h), ROUTE_TIMEOUT);
      assert.equal(reply.name, 'neighbour');
      assert.ok(berth);
      const warning = await berth.waitForLog((l) => {
        const text = JSON.stringify(l);
        return l.level === 40 && text.includes(hostileName) && text.includes('VIRTUAL_HOST');
      }, 10_000);
      assert.ok(warning, 'a warning names the container and the setting');
      await expectStatus(port(), host('unknown-after-hostile'), 503);
    });
  });
}

// Last, on its own: restarting dockerd stops every container and disturbs everything else.
describe('after dockerd restarts', () => {
  const berths = new Map<Mode, BerthProcess>();

  before(async () => {
    for (const mode of modes) berths.set(mode, await startBerth({ mode }));
  });
  after(async () => {
    for (const [mode, berth] of berths) assert.equal(await berth.stop(), 0, `${mode} berth exits 0 on SIGTERM`);
  });

  it('routes a container started after the engine came back', async (t) => {
    const t0 = Date.now();
    await restartDockerd();
    t.diagnostic(`dockerd restarted in ${Date.now() - t0} ms`);
    for (const [mode, berth] of berths) {
      const h = hostFor(`after-restart-${mode}`);
      const c = await runContainer({ env: { VIRTUAL_HOST: h, NAME: `after-restart-${mode}` } });
      const t1 = Date.now();
      const reply = await eventually(() => echo(berth.port, h), { timeoutMs: 30_000, intervalMs: 200 });
      assert.equal(reply.hostname, shortId(c.id));
      t.diagnostic(`${mode}: routed ${Date.now() - t1} ms after docker run returned`);
    }
  });
});
