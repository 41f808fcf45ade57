import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import {
  cleanupAll,
  createNetwork,
  docker,
  dockerOk,
  ensureImages,
  eventually,
  freePort,
  get,
  hostFor,
  REPO_ROOT,
  RUN_ID,
  runContainer,
  uniqueName,
  type EchoReply,
  type RunningContainer,
} from './harness.ts';

/**
 * The berth image as users run it (issue 6): built from the Dockerfile by docker/build-berth-image.sh (no registry
 * here: locally imported bases), started the nginx-proxy way with the socket mounted at /tmp/docker.sock, on a
 * user-defined network; then the README's compose walkthrough with Debian's docker-compose.
 */

const exec = promisify(execFile);
const IMAGE = 'berth:local';
const CLI = ['node', '/app/dist/src/cli.js'];
const SOCKET_MOUNT = ['-v', '/var/run/docker.sock:/tmp/docker.sock:ro'];
const VERSION = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
/** The name the tutorial uses (compose.yaml). */
const TUTORIAL_HOST = 'echo.127.0.0.1.nip.io';
const COMPOSE_PREFIX = 'berth-e2e-';
const ROUTE_TIMEOUT = { timeoutMs: 30_000, intervalMs: 200 };

type LogLine = Record<string, unknown>;

async function run(cmd: string, args: readonly string[], timeoutMs: number, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  try {
    const { stdout } = await exec(cmd, [...args], { cwd: REPO_ROOT, env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${(e.stderr ?? '') + (e.stdout ?? '') || e.message}`, { cause: err });
  }
}

/** berth's JSON log lines (pino, stdout) from `docker logs`. */
async function containerLogs(id: string): Promise<LogLine[]> {
  const lines = (await docker(['logs', id])).split('\n');
  return lines.flatMap((line) => {
    try {
      const parsed: unknown = JSON.parse(line);
      return parsed !== null && typeof parsed === 'object' ? [parsed as LogLine] : [];
    } catch {
      return [];
    }
  });
}

/** Containers of compose projects this test started in earlier runs that crashed before `down`. */
async function removeStaleComposeProjects(): Promise<void> {
  const rows = (await docker(['ps', '-a', '--format', '{{.ID}} {{.Label "com.docker.compose.project"}}'])).split('\n');
  const stale = rows.filter((r) => r.split(' ')[1]?.startsWith(COMPOSE_PREFIX)).map((r) => r.split(' ')[0] ?? '');
  if (stale.length > 0) await docker(['rm', '-f', '-v', ...stale]);
}

before(async () => {
  await ensureImages();
  await cleanupAll();
  await removeStaleComposeProjects();
  // Docker's layer cache makes this a few seconds when the tree has not changed since the last build.
  await run('bash', [join(REPO_ROOT, 'docker', 'build-berth-image.sh')], 360_000);
}, { timeout: 400_000 });
after(() => cleanupAll());

describe('the berth image', () => {
  it('prints its version and help with no Docker socket', async () => {
    assert.equal(await docker(['run', '--rm', '--label', `berth.test=${RUN_ID}`, IMAGE, '--version']), VERSION);
    assert.match(await docker(['run', '--rm', '--label', `berth.test=${RUN_ID}`, IMAGE, '--help']), /berth routes/);
  });

  for (const mode of ['node', 'nginx'] as const) {
    it(`BERTH_MODE=${mode}: routes an app on its network, not one on another network only`, { timeout: 120_000 }, async () => {
      const net = await createNetwork();
      const otherNet = await createNetwork();
      const appHost = hostFor(`img-app-${mode}`);
      const strangerHost = hostFor(`img-stranger-${mode}`);
      const app = await runContainer({ network: net, env: { VIRTUAL_HOST: appHost, VERSION: 'v1' } });
      const stranger = await runContainer({ network: otherNet, env: { VIRTUAL_HOST: strangerHost } });
      const port = await freePort();
      const berth = await runContainer({
        image: IMAGE,
        name: uniqueName(`berth-img-${mode}`),
        network: net,
        env: { BERTH_MODE: mode },
        // The image's HEALTHCHECK command (`berth healthcheck`), probed every second instead of every 10 s.
        healthcheck: { interval: '1s', retries: 30 },
        args: ['-p', `127.0.0.1:${port}:80`, ...SOCKET_MOUNT],
      });

      const reply = await eventually(async () => {
        const res = await get(port, appHost);
        assert.equal(res.status, 200, `GET ${appHost}: ${res.status} ${res.body.slice(0, 200)}`);
        return res.json<EchoReply>();
      }, ROUTE_TIMEOUT);
      assert.deepEqual([reply.version, reply.hostname], ['v1', app.id.slice(0, 12)]);

      // The host is known (it has VIRTUAL_HOST) but no backend shares a network with berth: 502, in both planes.
      const refused = await get(port, strangerHost);
      assert.equal(refused.status, 502, `GET ${strangerHost}: ${refused.status} ${refused.body.slice(0, 200)}`);
      const warning = await eventually(async () => {
        const line = (await containerLogs(berth.id)).find((l) => l['container'] === stranger.name && l['level'] === 40);
        assert.ok(line, `no warning naming ${stranger.name} in berth's log`);
        return line;
      });
      assert.equal(warning['code'], 'ERR_NO_REACHABLE_NETWORK');
      assert.match(String(warning['msg']), new RegExp(`${stranger.name}.*shares no network`));

      await eventually(
        async () => assert.equal(await docker(['inspect', '-f', '{{.State.Health.Status}}', berth.id]), 'healthy'),
        ROUTE_TIMEOUT,
      );
      await checkCli(berth, app, stranger, appHost);
      if (mode === 'nginx') await checkNginxWorkers(berth);
    });
  }
});

interface RoutesJson {
  hosts: Array<{ hostname: string; routes: Array<{ path: string; backends: Array<{ container: string; state: string }> }> }>;
  issues: Array<{ containerName: string; code: string }>;
}
interface ExplanationJson {
  container?: { name: string };
  routed: boolean;
  findings: string[];
}

/**
 * `berth routes` and `berth explain` inside the container, against the running berth's admin endpoint. Run side by
 * side: each is a fresh node process that loads the whole CLI (seconds on a loaded 2-core machine).
 */
async function checkCli(berth: RunningContainer, app: RunningContainer, stranger: RunningContainer, appHost: string): Promise<void> {
  const [routes, text, routed, notRouted] = await Promise.all([
    docker(['exec', berth.name, ...CLI, 'routes', '--json']).then((out) => JSON.parse(out) as RoutesJson),
    docker(['exec', berth.name, 'berth', 'routes']), // the README's form: `berth` is on the image's PATH
    docker(['exec', berth.name, ...CLI, 'explain', app.name, '--json']).then((out) => JSON.parse(out) as ExplanationJson),
    docker(['exec', berth.name, 'berth', 'explain', stranger.name]),
  ]);
  const host = routes.hosts.find((h) => h.hostname === appHost);
  assert.deepEqual(
    host?.routes.map((r) => [r.path, r.backends.map((b) => [b.container, b.state])]),
    [['/', [[app.name, 'ready']]]],
  );
  assert.deepEqual(
    routes.issues.filter((i) => i.containerName === stranger.name).map((i) => i.code),
    ['ERR_NO_REACHABLE_NETWORK'],
  );
  assert.match(text, new RegExp(`${appHost}\\s+/\\s+${app.name}\\s+\\S+\\s+ready`));
  assert.match(text, new RegExp(`${stranger.name}: .*\\[ERR_NO_REACHABLE_NETWORK\\]`));
  assert.deepEqual([routed.container?.name, routed.routed], [app.name, true]);
  assert.match(notRouted, new RegExp(`^${stranger.name} \\([0-9a-f]{12}\\): NOT routed\\n`));
  assert.match(notRouted, /\[ERR_NO_REACHABLE_NETWORK\]/);
}

/** nginx runs from the image's own files: master as root, workers as nobody (the base's /etc/passwd). */
async function checkNginxWorkers(berth: RunningContainer): Promise<void> {
  const ps = await docker(['exec', berth.name, 'ps', '-o', 'user,args']);
  const workers = ps.split('\n').filter((l) => l.includes('nginx: worker process'));
  assert.ok(workers.length > 0, `no nginx worker in:\n${ps}`);
  for (const w of workers) assert.match(w, /^\s*nobody\s/, `worker not running as nobody: ${w}`);
}

describe('the compose walkthrough (compose.yaml, Debian docker-compose 1.29)', () => {
  const project = `${COMPOSE_PREFIX}${RUN_ID}`;
  let port = 0;
  let createdNetwork = false;
  const compose = (args: readonly string[], timeoutMs = 120_000): Promise<string> =>
    run('docker-compose', ['-p', project, '-f', join(REPO_ROOT, 'compose.yaml'), ...args], timeoutMs, {
      ...process.env,
      BERTH_HTTP_PORT: String(port),
      BERTH_MODE: 'node',
    });

  before(async () => {
    port = await freePort();
    await run('docker-compose', ['version'], 30_000).catch((err: unknown) => {
      throw new Error('docker-compose is missing (.ci/run installs Debian\'s docker-compose)', { cause: err });
    });
    if (!(await dockerOk(['network', 'inspect', 'nginx-network']))) {
      // What the README has users type, plus the test label so a crashed run's network is removed by the next one.
      await createNetwork('nginx-network');
      createdNetwork = true;
    }
  });
  after(async () => {
    await compose(['--profile', 'v2', 'down', '-v', '--remove-orphans']).catch(() => undefined);
    if (createdNetwork) await docker(['network', 'rm', 'nginx-network']).catch(() => undefined);
  });

  const version = async (): Promise<string> => {
    const res = await get(port, TUTORIAL_HOST);
    assert.equal(res.status, 200, `GET ${TUTORIAL_HOST}: ${res.status} ${res.body.slice(0, 200)}`);
    return res.json<EchoReply>().version;
  };

  it('serves echo v1, then v2 alongside, then v2 alone once v1 stops; down removes everything', { timeout: 180_000 }, async () => {
    await compose(['up', '-d']);
    await eventually(async () => assert.equal(await version(), 'v1'), ROUTE_TIMEOUT);

    await compose(['--profile', 'v2', 'up', '-d']);
    // Both versions serve the name: round robin reaches v2 once it is ready (its HEALTHCHECK passed).
    await eventually(async () => assert.equal(await version(), 'v2'), ROUTE_TIMEOUT);

    await compose(['stop', 'echo']);
    await eventually(async () => {
      for (let i = 0; i < 6; i += 1) assert.equal(await version(), 'v2');
    }, ROUTE_TIMEOUT);

    await compose(['--profile', 'v2', 'down', '-v']);
    assert.equal(await docker(['ps', '-aq', '--filter', `label=com.docker.compose.project=${project}`]), '');
  });
});
