/**
 * bench/throughput: side-by-side requests/s, latency and RSS of
 *   direct        wrk straight to the backend (the limit)
 *   berth-node    berth's Node data plane
 *   berth-nginx   berth's nginx data plane (berth renders and runs nginx; worker_processes auto, all on the proxy core)
 *   nginx-proxy   plain nginx with the config nginx-proxy generates for the backend (1 worker, keepalive 2 = `auto`)
 *   nginx-ka256   the same nginx at its best here: upstream keepalive 256 (the reference for the targets)
 *   undici-minimal  (on request) a bare undici Pool.stream proxy (not berth: no routing, no header rewriting)
 *   h1-minimal      (on request) the same bare proxy over berth's own HTTP/1.1 client (src/proxy/h1): together
 *                   with undici-minimal, the measurement behind the choice of upstream client
 *   berth-node-http (on request) berth's Node data plane with BERTH_FAST_LANE=false: every request through
 *                   node:http's server (the measurement behind the fast lane, src/proxy/h1/fast-lane.ts)
 * with the same backend (a 1-worker nginx on 127.0.0.1 answering 100 bytes) and the same load (wrk -t1 -cN), in
 * interleaved rounds (the order rotates per round); medians are reported. Each measured run follows `--warmup` s
 * (default 1) of unmeasured load on the same path: a path sits idle through the others' rounds, and the Node plane
 * comes out of idleness with cold caches and a young generation V8 just uncommitted (its first scavenges take 5-15
 * ms), so without it a path's figures would depend on how many other paths the run has. berth-node and nginx-ka256
 * always run back to back (nginx-ka256 first in even rounds, second in odd ones: roundOrder in bench/throughput-wrk.ts),
 * so their same-round ratios compare runs seconds apart (this VM has slow phases of several seconds that hit Node
 * harder than nginx); after the table, targetVerdict prints whether the issue-#7 targets (requests/s >= 50% of nginx-ka256's,
 * p99 <= 2x) are met, from the medians of those same-round ratios. Pinning: every proxy on cpu0, wrk and the
 * backend on cpu1 (`taskset`; nginx workers inherit it). berth's planes are driven through their module API with a
 * hand-built routing table (bench/throughput-plane.ts): Docker discovery is not on the request path.
 *
 *   npm run bench:throughput [-- --rounds 9 --duration 4 --warmup 1 --connections 50 --paths direct,berth-node,...
 *                               --rss-seconds 60 --workers 2 --before /tmp/old-checkout]
 *
 * `--rss-seconds N` (default 60, 0 skips) then runs the Node plane N s under wrk load plus clients aborting requests
 * midway (bench/throughput-abort.ts) and prints its RSS at start, middle and end, and the change middle -> end in MB
 * and %. `--workers N` adds a berth-node-wN path (BERTH_WORKERS=N, proxy on cpu0+cpu1, unpinned from the load: report
 * it apart). `--before DIR` adds berth-node-before: the Node plane of another checkout (its src/ and
 * bench/throughput-plane.ts), for before/after.
 * Runs nothing in Docker. On this shared machine: `flock /tmp/berth-e2e.lock npm run bench:throughput`.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';
import { freePort, startBackend, startBerthPlane, startMinimal, startPlainNginx, treeCpuSeconds, treeRssMb, type Proc } from './throughput-servers.ts';
import { formatRows, median, PAIR_NGINX, PAIR_NODE, roundOrder, targetVerdict, waitFor200, wrk, type Row, type WrkResult } from './throughput-wrk.ts';

const PROXY_CPU = '0';
const LOAD_CPU = '1';
const ALL_PATHS = ['direct', 'berth-node', 'berth-nginx', 'nginx-proxy', 'nginx-ka256'];

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '9' },
    duration: { type: 'string', default: '4' },
    warmup: { type: 'string', default: '1' },
    connections: { type: 'string', default: '50' },
    paths: { type: 'string', default: ALL_PATHS.join(',') },
    'rss-seconds': { type: 'string', default: '60' },
    workers: { type: 'string', default: '0' },
    before: { type: 'string' },
    compiled: { type: 'boolean', default: true },
    'no-compiled': { type: 'boolean', default: false },
  },
});
const rounds = Number(values.rounds);
const durationS = Number(values.duration);
const warmupS = Number(values.warmup);
if (!Number.isInteger(warmupS) || warmupS < 0) throw new Error(`--warmup takes whole seconds (wrk's -d), 0 for none: got ${values.warmup}`);
const connections = Number(values.connections);
const rssSeconds = Number(values['rss-seconds']);
const workers = Number(values.workers);
const paths = values.paths.split(',').filter((p) => p !== '');
if (workers > 1) paths.push(`berth-node-w${workers}`);
// `--before DIR`: a checkout (src/ + bench/throughput-plane.ts, or compiled .js) of another Node plane: berth-node-before.
const beforeDir = values.before;
if (beforeDir !== undefined) paths.splice(paths.indexOf('berth-node') + 1, 0, 'berth-node-before');
function planeScript(dirName: string): string {
  const ts = join(dirName, 'bench/throughput-plane.ts');
  return existsSync(ts) ? ts : join(dirName, 'bench/throughput-plane.js');
}

const dir = mkdtempSync(join(tmpdir(), 'berth-bench-throughput-'));
const procs: Proc[] = [];

async function cleanup(): Promise<void> {
  await Promise.all(procs.map((p) => p.stop()));
  rmSync(dir, { recursive: true, force: true });
}
const KNOWN = [...ALL_PATHS, 'undici-minimal', 'h1-minimal', 'berth-node-http'];
process.on('SIGINT', () => void cleanup().then(() => process.exit(130)));

// What ships (the image runs tsc's output, not tsx): compile src/ and bench/ once and run the proxies from there.
const compiled = values.compiled && !values['no-compiled'];
let scripts = { plane: new URL('./throughput-plane.ts', import.meta.url).pathname, minimal: new URL('./throughput-minimal.ts', import.meta.url).pathname };

async function compile(): Promise<void> {
  const out = join(dir, 'compiled');
  const root = new URL('..', import.meta.url).pathname;
  await promisify(execFile)('npx', ['tsc', '-p', join(root, 'tsconfig.json'), '--noEmit', 'false', '--outDir', out, '--sourceMap', 'false'], { cwd: root });
  cpSync(join(root, 'src/templates'), join(out, 'src/templates'), { recursive: true });
  symlinkSync(join(root, 'node_modules'), join(out, 'node_modules'));
  writeFileSync(join(out, 'package.json'), '{ "type": "module" }\n');
  scripts = { plane: join(out, 'bench/throughput-plane.js'), minimal: join(out, 'bench/throughput-minimal.js') };
}

async function startPath(path: string, backendPort: number): Promise<Proc | undefined> {
  if (path === 'direct') return undefined;
  const port = await freePort();
  let proc: Proc;
  if (path === 'berth-node') proc = startBerthPlane(dir, PROXY_CPU, 'node', port, backendPort, {}, scripts.plane);
  else if (path === 'berth-node-http') proc = startBerthPlane(dir, PROXY_CPU, 'node', port, backendPort, { BERTH_FAST_LANE: 'false' }, scripts.plane);
  else if (path === 'berth-node-before') proc = startBerthPlane(dir, PROXY_CPU, 'node', port, backendPort, {}, planeScript(beforeDir ?? '.'));
  else if (path === 'undici-minimal') proc = startMinimal(dir, PROXY_CPU, 'undici', port, backendPort, scripts.minimal);
  else if (path === 'h1-minimal') proc = startMinimal(dir, PROXY_CPU, 'h1', port, backendPort, scripts.minimal);
  else if (path === 'berth-nginx') proc = startBerthPlane(dir, PROXY_CPU, 'nginx', port, backendPort, {}, scripts.plane);
  else if (path === 'nginx-proxy') proc = startPlainNginx(dir, PROXY_CPU, port, backendPort, 2);
  else if (path === 'nginx-ka256') proc = startPlainNginx(dir, PROXY_CPU, port, backendPort, 256);
  else if (path.startsWith('berth-node-w')) proc = startBerthPlane(dir, '0,1', 'node', port, backendPort, { BERTH_WORKERS: path.slice(12) }, scripts.plane);
  else throw new Error(`unknown path ${path} (known: ${KNOWN.join(', ')})`);
  procs.push(proc);
  await waitFor200(port, path);
  return proc;
}

function describeMachine(): Promise<string> {
  return promisify(execFile)('uptime').then(({ stdout }) => stdout.trim());
}

async function main(): Promise<void> {
  if (compiled) await compile();
  console.log(`berth planes run ${compiled ? "from tsc's output (as in the image)" : 'through tsx (--no-compiled)'}`);
  const backendPort = await freePort();
  const backend = startBackend(dir, LOAD_CPU, backendPort);
  procs.push(backend);
  console.log(`pinning: proxies on cpu${PROXY_CPU} (taskset -c ${PROXY_CPU}; nginx workers inherit it), wrk and the backend on cpu${LOAD_CPU}`);
  console.log(`load: wrk -t1 -c${connections} -d${durationS}s, ${rounds} interleaved rounds (order rotates per round, ${PAIR_NODE} and ${PAIR_NGINX} back to back), medians`);
  console.log(
    warmupS > 0
      ? `warm-up: each measured run follows ${warmupS} s of unmeasured load on the same path (steady state; --warmup 0 measures each path as it comes out of the others' rounds)`
      : 'warm-up: none before each measured run (--warmup 0): a path idle during the other paths\' rounds is measured from its first request',
  );
  console.log(`node ${process.version}; ${await describeMachine()}`);
  const servers = new Map<string, Proc | undefined>();
  for (const path of paths) servers.set(path, await startPath(path, path === 'direct' ? backendPort : backendPort));
  const results = new Map<string, WrkResult[]>(paths.map((p) => [p, []]));
  const rss = new Map<string, number[]>(paths.map((p) => [p, []]));
  const cpuUs = new Map<string, number[]>(paths.map((p) => [p, []]));
  // Warm-up: JIT, pools and nginx keepalive caches.
  for (const path of paths) await wrk(servers.get(path)?.port ?? backendPort, { cpu: LOAD_CPU, connections, durationS: 2 });
  for (let round = 0; round < rounds; round++) {
    for (const path of roundOrder(paths, round)) {
      const proc = servers.get(path);
      // Each path sits idle through the other paths' rounds; the Node plane's young generation and caches then
      // start cold (README, Performance). The warm-up makes a path's figures independent of how many others run.
      if (warmupS > 0) await wrk(proc?.port ?? backendPort, { cpu: LOAD_CPU, connections, durationS: warmupS });
      const cpuPid = proc?.child.pid ?? backend.child.pid ?? 0;
      const cpuBefore = treeCpuSeconds(cpuPid);
      const load = wrk(proc?.port ?? backendPort, { cpu: LOAD_CPU, connections, durationS });
      // RSS sampled in the middle of the run (under load).
      const sample = new Promise<void>((resolve) =>
        setTimeout(() => {
          if (proc?.child.pid !== undefined) rss.get(path)?.push(treeRssMb(proc.child.pid));
          resolve();
        }, (durationS * 1000) / 2),
      );
      const [result] = await Promise.all([load, sample]);
      results.get(path)?.push(result);
      // CPU time per request of the proxy (of the backend for `direct`): robust to other load on the machine.
      cpuUs.get(path)?.push(((treeCpuSeconds(cpuPid) - cpuBefore) * 1e6) / (result.rps * durationS));
      const us = cpuUs.get(path)?.at(-1) ?? Number.NaN;
      console.log(`round ${round + 1} ${path}: ${Math.round(result.rps)} req/s, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, ${us.toFixed(1)} CPU us/req, errors ${result.errors}`);
    }
  }
  const rows: Row[] = paths.map((path) => {
    const r = results.get(path) ?? [];
    const m = rss.get(path) ?? [];
    return {
      path,
      rps: median(r.map((x) => x.rps)),
      p50Ms: median(r.map((x) => x.p50Ms)),
      p99Ms: median(r.map((x) => x.p99Ms)),
      rssMb: m.length === 0 ? undefined : median(m),
      errors: r.reduce((a, x) => a + x.errors, 0),
      rounds: r.map((x) => x.rps),
      p99Rounds: r.map((x) => x.p99Ms),
      cpuUsPerRequest: median(cpuUs.get(path) ?? []),
    };
  });
  console.log(`\n${formatRows(rows, PAIR_NGINX)}\n`);
  console.log(`${targetVerdict(rows.find((r) => r.path === PAIR_NODE), rows.find((r) => r.path === PAIR_NGINX))}\n`);
  console.log(`after: ${await describeMachine()}`);
  for (const path of paths) if (path !== 'berth-node') await servers.get(path)?.stop();
  if (rssSeconds > 0) await rssFlatness(servers.get('berth-node') ?? (await startPath('berth-node', backendPort)), backendPort);
}

function signed(v: number, digits: number): string {
  return `${v >= 0 ? '+' : ''}${v.toFixed(digits)}`;
}

async function rssFlatness(node: Proc | undefined, backendPort: number): Promise<void> {
  if (node?.child.pid === undefined) return;
  const pid = node.child.pid;
  console.log(`\nRSS flatness: berth-node ${rssSeconds} s, wrk -c${connections} plus 16 aborting clients (half before the head, half mid-body)`);
  const samples: { t: number; mb: number }[] = [];
  const started = Date.now();
  const sampler = setInterval(() => samples.push({ t: (Date.now() - started) / 1000, mb: treeRssMb(pid) }), 1000);
  const abortScript = new URL('./throughput-abort.ts', import.meta.url).pathname;
  const aborts = promisify(execFile)('taskset', ['-c', LOAD_CPU, process.execPath, '--import', 'tsx', abortScript, String(node.port), String(rssSeconds), '16']);
  const load = wrk(node.port, { cpu: LOAD_CPU, connections, durationS: rssSeconds });
  const [abortOut, loadResult] = await Promise.all([aborts, load]);
  clearInterval(sampler);
  const sampleAt = (fraction: number): { t: number; mb: number } | undefined => samples[Math.min(samples.length - 1, Math.floor(fraction * (samples.length - 1)))];
  const at = (fraction: number): string => {
    const s = sampleAt(fraction);
    return s === undefined ? '-' : `${s.mb.toFixed(1)} MB @${s.t.toFixed(0)}s`;
  };
  const mbs = samples.map((s) => s.mb);
  const [mid, end] = [sampleAt(0.5), sampleAt(1)];
  const change = mid === undefined || end === undefined ? '-' : `${signed(end.mb - mid.mb, 1)} MB (${signed((100 * (end.mb - mid.mb)) / mid.mb, 1)}%)`;
  console.log(`RSS start ${at(0)}, middle ${at(0.5)}, end ${at(1)}; min ${Math.min(...mbs).toFixed(1)} MB, max ${Math.max(...mbs).toFixed(1)} MB`);
  console.log(`RSS middle -> end: ${change}`);
  console.log(`wrk during it: ${Math.round(loadResult.rps)} req/s, p99 ${loadResult.p99Ms} ms, errors ${loadResult.errors}; aborting clients: ${abortOut.stdout.trim()}`);
  await waitFor200(node.port, 'berth-node after the abort run', 5000);
  console.log(`after the run: ${treeRssMb(pid).toFixed(1)} MB, still answering 200; backend port ${backendPort}`);
}

try {
  await main();
} finally {
  await cleanup();
}
