import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';

/**
 * Steady closed-loop load for bench/rollover and the zero-downtime tests: `clients` loops, each sending one
 * keep-alive GET after the other through one undici Pool (as many connections as clients). Every answer that is not
 * 2xx and every error counts as failed; the echo backend's `version` is counted for the version mix.
 */

export interface LoadOptions {
  readonly port: number;
  readonly host: string;
  readonly clients: number;
  readonly path?: string;
  /** Per-request headers and body timeout (default 30 s: a request that hangs longer counts as failed). */
  readonly timeoutMs?: number;
}

export interface LoadResult {
  readonly total: number;
  readonly failed: number;
  /** Latency percentiles of successful requests, ms. */
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  /** version -> successful answers from it. */
  readonly versions: Readonly<Record<string, number>>;
  /** `status 502`, `error ECONNRESET` ... -> count. */
  readonly failures: Readonly<Record<string, number>>;
  readonly durationMs: number;
}

export interface Load {
  /** Successful answers so far from `version`. */
  seen(version: string): number;
  total(): number;
  /** Stops the loops, waits for the requests in flight, closes the pool. */
  stop(): Promise<LoadResult>;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

function errorLabel(err: unknown): string {
  const e = err as { code?: string; message?: string };
  return `error ${e.code ?? e.message ?? String(err)}`;
}

function versionOf(body: string): string {
  try {
    const parsed = JSON.parse(body) as { version?: unknown };
    return typeof parsed.version === 'string' ? parsed.version : '?';
  } catch {
    return '?';
  }
}

export function startLoad(options: LoadOptions): Load {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const pool = new Pool(`http://127.0.0.1:${options.port}`, {
    connections: options.clients,
    pipelining: 1,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  const latencies: number[] = [];
  const versions = new Map<string, number>();
  const failures = new Map<string, number>();
  let total = 0;
  let failed = 0;
  let running = true;
  const started = performance.now();
  const bump = (map: Map<string, number>, key: string): void => void map.set(key, (map.get(key) ?? 0) + 1);

  const once = async (): Promise<void> => {
    const t0 = performance.now();
    try {
      const res = await pool.request({ path: options.path ?? '/', method: 'GET', headers: { host: options.host } });
      const body = await res.body.text();
      if (res.statusCode >= 200 && res.statusCode < 300) {
        latencies.push(performance.now() - t0);
        bump(versions, versionOf(body));
      } else {
        failed += 1;
        bump(failures, `status ${res.statusCode}`);
      }
    } catch (err) {
      failed += 1;
      bump(failures, errorLabel(err));
    }
    total += 1;
  };
  const loop = async (): Promise<void> => {
    while (running) {
      await once();
      // A request that fails without I/O (a pool error) resolves in a microtask: yield so timers and other loops run.
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  const loops = Array.from({ length: options.clients }, loop);

  return {
    seen: (version) => versions.get(version) ?? 0,
    total: () => total,
    async stop(): Promise<LoadResult> {
      running = false;
      await Promise.all(loops);
      const durationMs = performance.now() - started;
      await pool.close();
      const sorted = latencies.sort((a, b) => a - b);
      return {
        total,
        failed,
        p50: percentile(sorted, 50),
        p99: percentile(sorted, 99),
        max: sorted[sorted.length - 1] ?? Number.NaN,
        versions: Object.fromEntries(versions),
        failures: Object.fromEntries(failures),
        durationMs,
      };
    },
  };
}
