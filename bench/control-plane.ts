/**
 * bench/control-plane: how fast a change reaches the data plane, and what 1,000 containers cost.
 *
 *   npm run bench:control-plane [-- --containers 1000 --repeat 7 --ready-samples 5 --skip-docker]
 *
 * 1. Pure parts, `--containers` containers built as data (ContainerInfo, each with VIRTUAL_HOST, one network):
 *    buildRoutingTable time (median of `--repeat`, after a warm-up), renderNginxConfig time (same), heap and RSS
 *    growth for holding the containers, the table and the rendered config.
 * 2. Event to route, real containers (berth started as a process with Docker discovery and the production debounce,
 *    100-500 ms): for each plane, `--ready-samples` echo containers are started one by one with STARTUP_DELAY=1000 (the
 *    container runs at once, its app listens 1 s later). Two pollers, every 5 ms: the container directly (its bridge
 *    address) and berth with the container's host. Reported: first routed 200 minus first direct 200 ("ready to
 *    routed"), and the same from `docker run` returning ("started to routed", includes the app's 1 s).
 * Uses the shared Docker engine (its own labelled containers only): `flock /tmp/berth-e2e.lock npm run bench:control-plane`.
 */
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { buildRoutingTable } from '../src/discovery/build-routing-table.ts';
import type { ContainerInfo } from '../src/discovery/container-info.ts';
import { loadConfig } from '../src/config.ts';
import { renderNginxConfig } from '../src/nginx/index.ts';
import { cleanupAll, containerAddress, ensureImages, getFrom, hostFor, removeContainer, runContainer, startBerth, type BerthProcess } from '../test/e2e/harness.ts';

const { values } = parseArgs({
  options: {
    containers: { type: 'string', default: '1000' },
    repeat: { type: 'string', default: '7' },
    'ready-samples': { type: 'string', default: '5' },
    'skip-docker': { type: 'boolean', default: false },
  },
});

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

function fmt(xs: readonly number[]): string {
  return `median ${median(xs).toFixed(1)} ms (min ${Math.min(...xs).toFixed(1)}, max ${Math.max(...xs).toFixed(1)}; n=${xs.length})`;
}

function containersAsData(n: number): ContainerInfo[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `${i.toString(16).padStart(12, '0')}${'a'.repeat(52)}`,
    name: `app-${i}`,
    env: { VIRTUAL_HOST: `app-${i}.example.test`, VIRTUAL_PORT: '8080' },
    labels: {},
    exposedPorts: [8080],
    networks: [{ name: 'bridge', ipAddress: `172.17.${Math.floor(i / 250)}.${(i % 250) + 2}`, ipv6Address: '', gateway: '172.17.0.1' }],
    networkMode: 'default',
    health: 'none',
    stopping: false,
  }));
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

async function pureParts(n: number, repeat: number): Promise<void> {
  global.gc?.();
  const before = process.memoryUsage();
  const containers = containersAsData(n);
  const config = loadConfig({ BERTH_MODE: 'nginx', BERTH_STATE_DIR: '/tmp/berth-bench-cp', DOCKER_HOST: 'unix:///var/run/docker.sock' }, () => false);
  const build: number[] = [];
  const render: number[] = [];
  // Warm-up: templates compiled, and both steps run a few times so the JIT has optimised them, as in a berth that
  // has been running for a while (a cold first build is reported apart).
  let t0 = performance.now();
  let table = buildRoutingTable(containers, null);
  const coldBuild = performance.now() - t0;
  t0 = performance.now();
  let text = (await renderNginxConfig(table, config, { accessLog: 'off' })).text;
  const coldRender = performance.now() - t0;
  for (let i = 0; i < 4; i++) {
    table = buildRoutingTable(containers, null);
    text = (await renderNginxConfig(table, config, { accessLog: 'off' })).text;
  }
  for (let i = 0; i < repeat; i++) {
    let t = performance.now();
    table = buildRoutingTable(containers, null);
    build.push(performance.now() - t);
    t = performance.now();
    text = (await renderNginxConfig(table, config, { accessLog: 'off' })).text;
    render.push(performance.now() - t);
  }
  global.gc?.();
  const after = process.memoryUsage();
  const upstreams = table.hosts.reduce((a, h) => a + h.routes.reduce((b, r) => b + r.upstreams.length, 0), 0);
  console.log(`## ${n} containers as data (${table.hosts.length} hosts, ${upstreams} upstreams, ${table.issues.length} issues)`);
  console.log(`| step | time | target |\n|---|---|---|`);
  console.log(`| buildRoutingTable | ${fmt(build)} (first, cold: ${coldBuild.toFixed(1)} ms) | < 50 ms |`);
  console.log(`| renderNginxConfig | ${fmt(render)} (first, cold: ${coldRender.toFixed(1)} ms) | < 200 ms |`);
  console.log(`rendered config: ${(text.length / 1024).toFixed(0)} KiB`);
  console.log(
    `memory held (containers + table + config), after gc${global.gc ? '' : ' (run with --expose-gc for exact figures)'}: ` +
      `heap +${mb(after.heapUsed - before.heapUsed)}, RSS +${mb(after.rss - before.rss)}; process RSS ${mb(after.rss)}`,
  );
  if (containers.length === 0) console.log('');
}

interface Timing {
  readonly readyToRouted: number;
  readonly startedToRouted: number;
}

async function firstOk(probe: () => Promise<boolean>, deadline: number): Promise<number> {
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return performance.now();
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error('no 200 before the deadline');
}

async function oneSample(berth: BerthProcess, scenario: string): Promise<Timing> {
  const host = hostFor(scenario);
  const c = await runContainer({ env: { VIRTUAL_HOST: host, STARTUP_DELAY: '1000' } });
  const started = performance.now();
  const deadline = Date.now() + 20_000;
  const routed = firstOk(async () => (await getFrom('127.0.0.1', berth.port, host, '/', {}, 1000)).status === 200, deadline);
  const address = await containerAddress(c.id);
  const direct = firstOk(async () => (await getFrom(address, 80, host, '/', {}, 1000)).status === 200, deadline);
  const [tRouted, tDirect] = await Promise.all([routed, direct]);
  await removeContainer(c.id);
  return { readyToRouted: tRouted - tDirect, startedToRouted: tRouted - started };
}

async function eventToRoute(samples: number): Promise<void> {
  await ensureImages();
  await cleanupAll();
  console.log(`## Event to route: ${samples} containers per plane, started one by one (debounce 100-500 ms, the default)`);
  console.log('| plane | ready -> first routed 200 | docker run returned -> first routed 200 | target (ready -> routed) |\n|---|---|---|---|');
  for (const mode of ['node', 'nginx'] as const) {
    const berth = await startBerth({ mode, env: { BERTH_DEBOUNCE_MIN: '100ms', BERTH_DEBOUNCE_MAX: '500ms' } });
    const timings: Timing[] = [];
    try {
      for (let i = 0; i < samples; i++) timings.push(await oneSample(berth, `cp-${mode}-${i}`));
    } finally {
      await berth.stop();
      await cleanupAll();
    }
    const target = mode === 'node' ? '< 100 ms' : '< 1 s';
    console.log(`| ${mode} | ${fmt(timings.map((t) => t.readyToRouted))} | ${fmt(timings.map((t) => t.startedToRouted))} | ${target} |`);
  }
}

await pureParts(Number(values.containers), Number(values.repeat));
if (!values['skip-docker']) await eventToRoute(Number(values['ready-samples']));
