/** wrk runs, round order, result tables and the issue-#7 verdict for bench/throughput. */
import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { promisify } from 'node:util';
import { BENCH_HOST } from './throughput-servers.ts';

const run = promisify(execFile);

export interface WrkResult {
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Socket errors + non-2xx/3xx responses. */
  readonly errors: number;
}

function toMs(value: string, unit: string): number {
  const v = Number(value);
  if (unit === 'us') return v / 1000;
  if (unit === 's') return v * 1000;
  if (unit === 'm') return v * 60_000;
  return v;
}

function percentile(out: string, p: string): number {
  const m = new RegExp(`^\\s*${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(out);
  return m ? toMs(m[1] ?? '0', m[2] ?? 'ms') : Number.NaN;
}

export function parseWrk(out: string): WrkResult {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 'NaN');
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? '0');
  const socketErrors = socket ? socket.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
  return { rps, p50Ms: percentile(out, '50'), p99Ms: percentile(out, '99'), errors: socketErrors + non2xx };
}

export interface LoadSpec {
  readonly cpu: string;
  readonly connections: number;
  readonly durationS: number;
  readonly script?: string;
  readonly timeoutS?: number;
}

export async function wrk(port: number, spec: LoadSpec): Promise<WrkResult> {
  const args = ['-c', spec.cpu, 'wrk', '-t1', `-c${spec.connections}`, `-d${spec.durationS}s`, '--latency', '-H', `Host: ${BENCH_HOST}`];
  if (spec.timeoutS !== undefined) args.push('--timeout', `${spec.timeoutS}s`);
  if (spec.script !== undefined) args.push('-s', spec.script);
  args.push(`http://127.0.0.1:${port}/`);
  const { stdout } = await run('taskset', args, { maxBuffer: 1 << 20 });
  return parseWrk(stdout);
}

/** One GET with the bench Host header; the status, or 0 on a connection error. */
export function probe(port: number): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', headers: { host: BENCH_HOST }, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.setTimeout(2000, () => req.destroy());
    req.end();
  });
}

export async function waitFor200(port: number, what: string, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while ((await probe(port)) !== 200) {
    if (Date.now() > until) throw new Error(`${what} on port ${port} never answered 200`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export function median(values: readonly number[]): number {
  const s = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

export interface Row {
  readonly path: string;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly rssMb: number | undefined;
  readonly errors: number;
  readonly rounds: readonly number[];
  readonly p99Rounds: readonly number[];
  /** Median CPU time (user + system, whole process tree) per request. */
  readonly cpuUsPerRequest: number;
}

function pct(a: number, b: number | undefined): string {
  return b === undefined || Number.isNaN(b) || b === 0 ? '-' : `${Math.round((100 * a) / b)}%`;
}

/** a/b per round (NaN where either is missing). */
function perRound(a: readonly number[], b: readonly number[]): number[] {
  return a.map((v, i) => v / (b[i] ?? Number.NaN));
}

/** Median over rounds of a/b measured in the same round (robust to the machine's drift between rounds). */
function roundRatio(a: readonly number[], b: readonly number[] | undefined): number {
  if (b === undefined) return Number.NaN;
  return median(perRound(a, b));
}

/** Markdown table: ratios to `nginxRef` (the row named so) and to `direct`. */
export function formatRows(rows: readonly Row[], nginxRef: string): string {
  const nginx = rows.find((r) => r.path === nginxRef);
  const direct = rows.find((r) => r.path === 'direct');
  const lines = [
    '| path | req/s (median) | p50 ms | p99 ms | RSS MB | vs nginx req/s | same-round vs nginx | same-round p99 vs nginx | vs direct | CPU us/req | req/s per CPU-s | vs nginx per CPU-s | errors | req/s per round |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const p99x = nginx === undefined ? '-' : `${roundRatio(r.p99Rounds, nginx.p99Rounds).toFixed(2)}x`;
    lines.push(
      `| ${r.path} | ${Math.round(r.rps)} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${r.rssMb === undefined ? '-' : r.rssMb.toFixed(0)} | ` +
        `${pct(r.rps, nginx?.rps)} | ${pct(roundRatio(r.rounds, nginx?.rounds), 1)} | ${p99x} | ${pct(r.rps, direct?.rps)} | ${r.cpuUsPerRequest.toFixed(1)} | ${Math.round(1e6 / r.cpuUsPerRequest)} | ${pct(nginx?.cpuUsPerRequest ?? Number.NaN, r.cpuUsPerRequest)} | ${r.errors} | ${r.rounds.map((v) => Math.round(v)).join(' ')} |`,
    );
  }
  return lines.join('\n');
}

export const PAIR_NODE = 'berth-node';
export const PAIR_NGINX = 'nginx-ka256';

/**
 * The order of `paths` in round `round`: a rotation by `round` (each path takes every position in turn), except that
 * nginx-ka256 runs right next to berth-node (just before it in even rounds, just after in odd ones) when both are
 * there, so their same-round ratio compares runs seconds apart, not a whole round apart.
 */
export function roundOrder(paths: readonly string[], round: number): string[] {
  const order = paths.map((_, i) => paths[(i + round) % paths.length] as string);
  if (!order.includes(PAIR_NODE) || !order.includes(PAIR_NGINX)) return order;
  const rest = order.filter((p) => p !== PAIR_NGINX);
  const at = rest.indexOf(PAIR_NODE) + (round % 2 === 0 ? 0 : 1);
  rest.splice(at, 0, PAIR_NGINX);
  return rest;
}

/** `value` with `digits` decimals, one more while it rounds onto `threshold` (so 49.7% never prints as 50%). */
function shown(value: number, threshold: number, digits: number): string {
  let d = digits;
  while (d < 4 && value !== threshold && Number(value.toFixed(d)) === threshold) d++;
  return value.toFixed(d);
}

function met(ok: boolean, ratio: number): string {
  if (Number.isNaN(ratio)) return 'no data';
  return ok ? 'met' : 'not met';
}

/**
 * The issue-#7 targets, berth-node vs nginx-ka256 from the same rounds: requests/s at least 50% of nginx's, p99 at
 * most 2x nginx's (medians of the per-round ratios). One line naming the paths needed when a row is missing.
 */
export function targetVerdict(node: Row | undefined, nginx: Row | undefined): string {
  if (node === undefined || nginx === undefined) return `targets (issue #7): need both the ${PAIR_NODE} and ${PAIR_NGINX} paths`;
  const rps = perRound(node.rounds, nginx.rounds);
  const p99 = perRound(node.p99Rounds, nginx.p99Rounds);
  const rpsRatio = median(rps);
  const p99Ratio = median(p99);
  const n = rps.filter((v) => Number.isFinite(v)).length;
  const lines = [
    `targets (issue #7), ${PAIR_NODE} vs ${PAIR_NGINX}, median of same-round ratios over ${n} rounds:`,
    `  requests/s ${shown(100 * rpsRatio, 50, 0)}% of nginx (target >= 50%): ${met(rpsRatio >= 0.5, rpsRatio)}`.padEnd(60) +
      `  per round: ${rps.map((v) => (Number.isNaN(v) ? '-' : Math.round(100 * v))).join(' ')}`,
    `  p99 ${shown(p99Ratio, 2, 2)}x nginx's (target <= 2x): ${met(p99Ratio <= 2, p99Ratio)}`.padEnd(60) + `  per round: ${p99.map((v) => (Number.isNaN(v) ? '-' : v.toFixed(2))).join(' ')}`,
  ];
  if (node.errors > 0 || nginx.errors > 0) lines.push(`  errors (socket + non-2xx/3xx): ${PAIR_NODE} ${node.errors}, ${PAIR_NGINX} ${nginx.errors}`);
  return lines.join('\n');
}
