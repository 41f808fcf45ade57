/**
 * bench/rollover: replace echo v1 by echo v2 under steady load and count what clients lose.
 *
 *   npm run bench:rollover [-- --paths node,nginx,baseline --shutdown graceful,close --clients 8 --json out.json]
 *
 * For every path (berth data plane + settings) and app shutdown behaviour: start berth and v1, start the load
 * (closed loop, `--clients` keep-alive clients), start v2 with the same VIRTUAL_HOST, wait until answers from v2 are
 * seen, `docker stop` v1, keep loading `--after` ms more (and until `--min-requests` were sent), stop. Prints total,
 * failed (every non-2xx and every error), p50/p99/max latency of successful requests and the version mix.
 *
 * Paths: node (Node data plane, defaults), nginx (nginx data plane, defaults), baseline (nginx data plane with
 * BERTH_ADMISSION=start BERTH_DRAIN=false: admit at start, remove at die, i.e. nginx-proxy's behaviour) and, on
 * request only, node-baseline (the Node data plane with the same two settings).
 *
 * Uses the shared Docker engine and removes only its own containers; on a shared machine run it under the e2e lock
 * (`flock /tmp/berth-e2e.lock npm run bench:rollover`) so no test or other bench competes for the 2 cores.
 */
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ensureImages,
  eventually,
  get,
  hostFor,
  removeContainer,
  runContainer,
  startBerth,
  startLoad,
  stopContainer,
  type BerthProcess,
  type RunOptions,
} from '../test/e2e/harness.ts';
import { formatTable, type Row, type Timeline } from './rollover-table.ts';

type Shutdown = 'graceful' | 'close';

interface PathSpec {
  readonly mode: 'node' | 'nginx';
  readonly env: Readonly<Record<string, string>>;
}

const PATHS: Readonly<Record<string, PathSpec>> = {
  node: { mode: 'node', env: {} },
  nginx: { mode: 'nginx', env: {} },
  baseline: { mode: 'nginx', env: { BERTH_ADMISSION: 'start', BERTH_DRAIN: 'false' } },
  'node-baseline': { mode: 'node', env: { BERTH_ADMISSION: 'start', BERTH_DRAIN: 'false' } },
};

interface Settings {
  readonly paths: readonly string[];
  readonly shutdowns: readonly Shutdown[];
  readonly clients: number;
  readonly afterMs: number;
  readonly minRequests: number;
  readonly shutdownDelayMs: number;
  readonly healthcheck: 'fast' | 'image' | 'none';
  readonly json: string | undefined;
}

function list(value: string): string[] {
  return value.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

function positive(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name}: expected a positive integer, got ${value}`);
  return n;
}

function parseSettings(argv: readonly string[]): Settings {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      paths: { type: 'string', default: 'node,nginx,baseline' },
      shutdown: { type: 'string', default: 'graceful,close' },
      clients: { type: 'string', default: '8' },
      after: { type: 'string', default: '2000' },
      'min-requests': { type: 'string', default: '5000' },
      'shutdown-delay': { type: 'string', default: '3000' },
      healthcheck: { type: 'string', default: 'fast' },
      json: { type: 'string' },
    },
  });
  const paths = list(values.paths);
  for (const p of paths) if (!(p in PATHS)) throw new Error(`--paths: unknown path ${p} (${Object.keys(PATHS).join(', ')})`);
  const shutdowns = list(values.shutdown);
  for (const s of shutdowns) if (s !== 'graceful' && s !== 'close') throw new Error(`--shutdown: unknown behaviour ${s}`);
  const hc = values.healthcheck;
  if (hc !== 'fast' && hc !== 'image' && hc !== 'none') throw new Error(`--healthcheck: fast, image or none, got ${hc}`);
  return {
    paths,
    shutdowns: shutdowns as Shutdown[],
    clients: positive('clients', values.clients),
    afterMs: positive('after', values.after),
    minRequests: positive('min-requests', values['min-requests']),
    shutdownDelayMs: positive('shutdown-delay', values['shutdown-delay']),
    healthcheck: hc,
    json: values.json,
  };
}

/** The image's HEALTHCHECK (interval 5s), or the same probe every second (`fast`), or none (berth's own probe). */
function healthcheckOption(settings: Settings): RunOptions['healthcheck'] {
  if (settings.healthcheck === 'none') return 'none';
  if (settings.healthcheck === 'image') return 'image';
  return { interval: '1s' };
}

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

async function runCase(path: string, shutdown: Shutdown, settings: Settings): Promise<Row> {
  const spec = PATHS[path];
  if (!spec) throw new Error(`unknown path ${path}`);
  const host = hostFor(`rollover-${path}-${shutdown}`);
  const app = (version: string): RunOptions => ({
    env: { VIRTUAL_HOST: host, VERSION: version, NAME: version, SHUTDOWN: shutdown, SHUTDOWN_DELAY: String(settings.shutdownDelayMs) },
    healthcheck: healthcheckOption(settings),
  });
  const containers: string[] = [];
  let berth: BerthProcess | undefined;
  try {
    // info, not the harness's debug: a debug line per request would measure the logger.
    berth = await startBerth({ mode: spec.mode, env: { LOG_LEVEL: 'info', ...spec.env } });
    const port = berth.port;
    const v1 = await runContainer(app('v1'));
    containers.push(v1.id);
    await eventually(async () => {
      const res = await get(port, host);
      if (res.status !== 200 || res.json().version !== 'v1') throw new Error(`v1 not routed yet: ${res.status}`);
    }, { timeoutMs: 60_000, intervalMs: 100 });

    const load = startLoad({ port, host, clients: settings.clients });
    const t0 = Date.now();
    const timeline: Timeline = { v2StartedMs: 0, v2SeenMs: 0, stopIssuedMs: 0, v1ExitedMs: 0 };
    await until(() => load.total() >= 200 && Date.now() - t0 >= 1000, 30_000, 'the load to warm up');
    const v2 = await runContainer(app('v2'));
    containers.push(v2.id);
    timeline.v2StartedMs = Date.now() - t0;
    await until(() => load.seen('v2') > 0, 60_000, 'answers from v2');
    timeline.v2SeenMs = Date.now() - t0;
    timeline.stopIssuedMs = Date.now() - t0;
    await stopContainer(v1.id, 10);
    timeline.v1ExitedMs = Date.now() - t0;
    const stopDone = Date.now();
    await until(() => Date.now() - stopDone >= settings.afterMs && load.total() >= settings.minRequests, 120_000, 'the tail of the load');
    const result = await load.stop();
    return { path, shutdown, result, timeline };
  } finally {
    await Promise.all(containers.map((id) => removeContainer(id).catch(() => undefined)));
    if (berth) await berth.stop();
  }
}

function describeTimeline(row: Row): string {
  const t = row.timeline;
  return `${row.path}/${row.shutdown}: v2 started at ${t.v2StartedMs} ms, first v2 answer at ${t.v2SeenMs} ms, ` +
    `docker stop v1 at ${t.stopIssuedMs} ms, v1 exited at ${t.v1ExitedMs} ms, load stopped at ${Math.round(row.result.durationMs)} ms`;
}

async function main(): Promise<void> {
  const settings = parseSettings(process.argv.slice(2));
  await ensureImages();
  const rows: Row[] = [];
  for (const shutdown of settings.shutdowns) {
    for (const path of settings.paths) {
      process.stderr.write(`rollover: ${path}, SHUTDOWN=${shutdown} ...\n`);
      const row = await runCase(path, shutdown, settings);
      rows.push(row);
      process.stderr.write(`rollover: ${describeTimeline(row)}\n`);
    }
  }
  console.log(`\nrollover: ${settings.clients} keep-alive clients, SHUTDOWN_DELAY=${settings.shutdownDelayMs} ms, ` +
    `healthcheck=${settings.healthcheck}, ${settings.afterMs} ms of load after v1 exited\n`);
  console.log(formatTable(rows));
  if (settings.json !== undefined) {
    const { writeFileSync } = await import('node:fs');
    writeFileSync(settings.json, `${JSON.stringify({ settings, rows }, null, 2)}\n`);
  }
  const nodeFailed = rows.filter((r) => r.path === 'node' && r.result.failed > 0);
  if (nodeFailed.length > 0) {
    console.log(`\nTARGET MISSED: the node data plane lost requests in ${nodeFailed.map((r) => r.shutdown).join(', ')}`);
    process.exitCode = 1;
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exitCode = 2;
});
