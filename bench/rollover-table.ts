import type { LoadResult } from '../test/e2e/harness.ts';

/** One bench/rollover case and how to print a set of them side by side. */

export interface Timeline {
  /** ms after the load started */
  v2StartedMs: number;
  v2SeenMs: number;
  stopIssuedMs: number;
  v1ExitedMs: number;
}

export interface Row {
  readonly path: string;
  readonly shutdown: string;
  readonly result: LoadResult;
  readonly timeline: Timeline;
}

const ms = (n: number): string => (Number.isFinite(n) ? n.toFixed(1) : '-');

function mix(versions: Readonly<Record<string, number>>): string {
  return Object.entries(versions)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([v, n]) => `${v} ${n}`)
    .join(' / ');
}

function failures(result: LoadResult): string {
  const entries = Object.entries(result.failures).sort(([, a], [, b]) => b - a);
  return entries.length === 0 ? '-' : entries.map(([what, n]) => `${n}x ${what}`).join(', ');
}

/** A Markdown table (readable in a terminal too): one line per case. */
export function formatTable(rows: readonly Row[]): string {
  const header = ['path', 'app SHUTDOWN', 'total', 'failed', 'p50 ms', 'p99 ms', 'max ms', 'versions (ok)', 'failures'];
  const lines = rows.map((r) => [
    r.path,
    r.shutdown,
    String(r.result.total),
    String(r.result.failed),
    ms(r.result.p50),
    ms(r.result.p99),
    ms(r.result.max),
    mix(r.result.versions),
    failures(r.result),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const fmt = (cells: readonly string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [fmt(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...lines.map(fmt)].join('\n');
}
