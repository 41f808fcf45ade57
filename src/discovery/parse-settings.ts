import { parseDuration } from '../duration.ts';
import type { ReadinessProbe } from '../routing-table.ts';

/**
 * Parsing of the per-container settings (nginx-proxy's names). Pure; every failure is a value naming the setting,
 * so the builder can skip that container with a warning and route every other one.
 */

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

const LABEL = '[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?';
const HOSTNAME_RE = new RegExp(`^${LABEL}(\\.${LABEL})*\\.?$`);
const IPV6_RE = /^\[[0-9a-f:.]+\]$/;

/** One `VIRTUAL_HOST` item, already trimmed. Returns the lower-cased name. */
export function parseHostname(item: string): Parsed<string> {
  const name = item.toLowerCase();
  if (name.startsWith('~') || name.includes('*')) {
    return { ok: false, reason: `wildcard and regular-expression host names (${JSON.stringify(item)}) are not supported yet` };
  }
  if (name.length > 253 || !(HOSTNAME_RE.test(name) || IPV6_RE.test(name))) {
    return {
      ok: false,
      reason: `${JSON.stringify(item)} is not a valid host name (letters, digits, '-', '_' and '.' only; a port is not allowed here, use VIRTUAL_PORT)`,
    };
  }
  return { ok: true, value: name.replace(/\.$/, '') };
}

/**
 * `VIRTUAL_HOST`: a comma-separated list, items trimmed, blanks dropped, duplicates removed. `undefined` when the
 * container does not ask to be routed (unset or blank). Any invalid item rejects the whole setting.
 */
export function parseVirtualHost(value: string | undefined): Parsed<string[]> | undefined {
  if (value === undefined) return undefined;
  const items = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (items.length === 0) return undefined;
  const names: string[] = [];
  for (const item of items) {
    const parsed = parseHostname(item);
    if (!parsed.ok) return parsed;
    if (!names.includes(parsed.value)) names.push(parsed.value);
  }
  return { ok: true, value: names.sort() };
}

/** `VIRTUAL_PORT`, else nginx-proxy's rule: exactly one exposed port means that port, otherwise 80. */
export function resolvePort(value: string | undefined, exposedPorts: readonly number[]): Parsed<number> {
  const v = value?.trim();
  if (v === undefined || v === '') {
    return { ok: true, value: exposedPorts.length === 1 ? (exposedPorts[0] as number) : 80 };
  }
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 65535) {
    return { ok: false, reason: `${JSON.stringify(value)} is not a port number from 1 to 65535` };
  }
  return { ok: true, value: Number(v) };
}

export const READINESS_LABELS = {
  path: 'berth.readiness.path',
  interval: 'berth.readiness.interval',
  timeout: 'berth.readiness.timeout',
  status: 'berth.readiness.status',
} as const;

export const DEFAULT_PROBE_INTERVAL_MS = 2000;
export const DEFAULT_PROBE_TIMEOUT_MS = 1000;

/**
 * The readiness probe declared by `berth.readiness.*` labels: an HTTP GET of `path` when a path is given, else a TCP
 * connect. `status` is one code (`200`), a class (`2xx`) or a range (`200-399`, the default).
 */
export function parseReadinessProbe(labels: Readonly<Record<string, string>>): Parsed<ReadinessProbe> & { label?: string } {
  const fail = (label: string, reason: string): { ok: false; reason: string; label: string } => ({ ok: false, reason, label });
  const interval = labels[READINESS_LABELS.interval];
  const timeout = labels[READINESS_LABELS.timeout];
  const intervalMs = interval === undefined ? DEFAULT_PROBE_INTERVAL_MS : parseDuration(interval);
  if (intervalMs === undefined || intervalMs < 100) {
    return fail(READINESS_LABELS.interval, `${JSON.stringify(interval)} is not a duration of at least 100ms (such as 500ms, 2s)`);
  }
  const timeoutMs = timeout === undefined ? Math.min(DEFAULT_PROBE_TIMEOUT_MS, intervalMs) : parseDuration(timeout);
  if (timeoutMs === undefined || timeoutMs < 10) {
    return fail(READINESS_LABELS.timeout, `${JSON.stringify(timeout)} is not a duration of at least 10ms (such as 500ms, 1s)`);
  }
  const path = labels[READINESS_LABELS.path];
  const status = labels[READINESS_LABELS.status];
  if (path === undefined) {
    if (status !== undefined) return fail(READINESS_LABELS.status, `is set but ${READINESS_LABELS.path} is not: an HTTP probe needs a path`);
    return { ok: true, value: { kind: 'tcp', intervalMs, timeoutMs } };
  }
  if (!/^\/[^\s]*$/.test(path)) return fail(READINESS_LABELS.path, `${JSON.stringify(path)} is not a URL path starting with /`);
  const range = parseStatusRange(status ?? '200-399');
  if (range === undefined) {
    return fail(READINESS_LABELS.status, `${JSON.stringify(status)} is not a status (200), a class (2xx) or a range (200-399)`);
  }
  return { ok: true, value: { kind: 'http', path, intervalMs, timeoutMs, expectStatus: range } };
}

function parseStatusRange(value: string): readonly [number, number] | undefined {
  const v = value.trim().toLowerCase();
  let m: RegExpExecArray | null;
  let range: [number, number] | undefined;
  if ((m = /^([1-5])xx$/.exec(v))) range = [Number(m[1]) * 100, Number(m[1]) * 100 + 99];
  else if ((m = /^(\d{3})$/.exec(v))) range = [Number(m[1]), Number(m[1])];
  else if ((m = /^(\d{3})\s*-\s*(\d{3})$/.exec(v))) range = [Number(m[1]), Number(m[2])];
  if (range === undefined || range[0] < 100 || range[1] > 599 || range[0] > range[1]) return undefined;
  return range;
}
