import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  cleanupAll,
  createNetwork,
  ensureImages,
  eventually,
  get,
  hostFor,
  removeContainer,
  runContainer,
  startBerth,
  type BerthProcess,
  type EchoReply,
  type LogLine,
} from './harness.ts';
import { startNginxContainer, type NginxContainer } from './nginx-container.ts';

/**
 * nginx-proxy's separate-containers mode (BERTH_NGINX_EXTERNAL=true), end to end: berth runs on the host and does
 * not run nginx; it writes the http-level config into the conf.d of a labelled nginx container and SIGHUPs it through
 * the Docker API. Clients talk only to the nginx container's published port. The nginx container starts first:
 * berth's discovery takes the labelled container's networks as the reachable ones, and its first apply signals it.
 */

const ROUTE = { timeoutMs: 10_000, intervalMs: 100 };
const SNIPPET_HEADER = 'x-berth-vhost-snippet';

let nginx: NginxContainer | undefined;
let berth: BerthProcess | undefined;
const started: string[] = [];

const proxy = (): NginxContainer => {
  assert.ok(nginx, 'the nginx container did not start');
  return nginx;
};
const berthProcess = (): BerthProcess => {
  assert.ok(berth, 'berth did not start');
  return berth;
};

async function expectStatus(host: string, status: number): Promise<string> {
  const res = await get(proxy().port, host);
  assert.equal(res.status, status, `GET ${host} via the nginx container: expected ${status}, got ${res.status}: ${res.body.slice(0, 200)}`);
  return res.body;
}

const reloads = async (): Promise<number> => (await proxy().logs()).match(/signal 1 \(SIGHUP\) received/g)?.length ?? 0;

describe('separate-containers mode: berth writes BERTH_NGINX_OUTPUT and SIGHUPs the labelled nginx container', () => {
  const onNet = hostFor('ext-on-net');
  const offNet = hostFor('ext-off-net');
  let net = '';
  let otherNet = '';

  before(async () => {
    await ensureImages();
    await cleanupAll();
    net = await createNetwork();
    otherNet = await createNetwork();
    nginx = await startNginxContainer({ network: net });
    // A vhost.d snippet (host path == container path): proves the include berth renders resolves inside nginx.
    writeFileSync(join(nginx.vhostDir, onNet), `add_header ${SNIPPET_HEADER} "on" always;\n`);
    berth = await startBerth({
      mode: 'nginx',
      env: {
        BERTH_NGINX_EXTERNAL: 'true',
        BERTH_NGINX_OUTPUT: nginx.outputFile,
        // The port nginx listens on inside its container (startBerth's own free port is meaningless here).
        HTTP_PORT: '80',
        BERTH_VHOST_DIR: nginx.vhostDir,
        BERTH_CONF_DIR: nginx.berthConfDir,
        BERTH_PROXY_CONF: nginx.proxyConf,
        BERTH_BACKEND_WAIT: '300ms',
        // `docker rm -f` kills without a drain: a request racing the removal can reach a worker still running the old
        // config and wait for the dead address's connect timeout (504). Keep that wait short.
        BERTH_UPSTREAM_CONNECT_TIMEOUT: '1s',
        BERTH_ADMIN: nginx.adminSocket,
      },
    });
  });

  after(async () => {
    await Promise.all(started.map((id) => removeContainer(id).catch(() => undefined)));
    const code = berth ? await berth.stop() : 0;
    await nginx?.dispose();
    await cleanupAll();
    assert.equal(code, 0, 'berth exits 0 on SIGTERM');
  });

  it('writes the config to BERTH_NGINX_OUTPUT and the nginx container serves its 503 fallback', async () => {
    const written = await berthProcess().waitForLog((l) => l.msg === 'nginx config written');
    assert.equal(written['file'], proxy().outputFile);
    const text = readFileSync(proxy().outputFile, 'utf8');
    assert.match(text, /listen 80;/, 'the generated config listens on HTTP_PORT (80 inside the nginx container)');
    assert.doesNotMatch(text, /include \S*\/tmp\/berth-e2e-nginx-/, 'nothing from berth\'s own state dir is included');
    // The fallback answers only once nginx reloaded with berth's file: before that, nothing listens on port 80.
    await eventually(() => expectStatus(hostFor('ext-unknown'), 503), ROUTE);
    assert.ok((await reloads()) >= 1, 'nginx logged a SIGHUP');
    const msgs = berthProcess().logs().map((l) => l.msg);
    assert.ok(!msgs.includes('no running nginx container carries the label; nothing reloaded'), 'berth found the labelled container');
    assert.ok(!msgs.includes('no nginx binary to validate with: writing the config unvalidated'), 'berth validated with nginx -t');
  });

  it('routes a VIRTUAL_HOST on the nginx container\'s network (200 from the app, vhost.d snippet applied)', async () => {
    const app = await runContainer({ network: net, env: { VIRTUAL_HOST: onNet, NAME: 'on-net' } });
    started.push(app.id);
    const res = await eventually(async () => {
      const r = await get(proxy().port, onNet);
      assert.equal(r.status, 200, `GET ${onNet}: ${r.status} ${r.body.slice(0, 200)}`);
      return r;
    }, ROUTE);
    const reply = res.json<EchoReply>();
    assert.equal(reply.name, 'on-net');
    assert.equal(reply.hostname, app.id.slice(0, 12));
    assert.equal(reply.headers['host'], onNet);
    assert.equal(res.headers[SNIPPET_HEADER], 'on', 'the vhost.d snippet is included by the nginx container');
    // The access log goes to the nginx container's stdout (DEFAULT_ACCESS_LOG /dev/stdout, opened by nginx).
    await eventually(async () => assert.match(await proxy().logs(), new RegExp(`^${onNet.replaceAll('.', '\\.')} `, 'm')), ROUTE);
  });

  it('does not route an app that shares no network with the nginx container (502, warning names it)', async () => {
    const app = await runContainer({ network: otherNet, env: { VIRTUAL_HOST: offNet } });
    started.push(app.id);
    const warned = await berthProcess().waitForLog(
      (l: LogLine) => l['code'] === 'ERR_NO_REACHABLE_NETWORK' && l['container'] === app.name,
      ROUTE.timeoutMs,
    );
    assert.equal(warned.level, 40, 'logged at warn level');
    assert.match(String(warned.msg), new RegExp(otherNet));
    assert.match(String(warned.msg), new RegExp(net), 'the message names the nginx container\'s networks');
    await eventually(() => expectStatus(offNet, 502), ROUTE);
    // Still routed: the other host is unaffected.
    await expectStatus(onNet, 200);
  });

  it('answers 503 (fallback) for a removed app once berth signalled nginx', async () => {
    const before = await reloads();
    const app = started.shift();
    assert.ok(app !== undefined);
    await removeContainer(app);
    await eventually(() => expectStatus(onNet, 503), ROUTE);
    assert.ok((await reloads()) > before, 'the 503 came with a new SIGHUP to the nginx container');
    // The first 503 can come from the draining table (kill event: server kept, no ready backend); the host leaves
    // the file at the next table, once the container is gone.
    await eventually(async () => {
      assert.doesNotMatch(readFileSync(proxy().outputFile, 'utf8'), new RegExp(`server_name ${onNet.replaceAll('.', '\\.')};`));
    }, ROUTE);
  });
});
