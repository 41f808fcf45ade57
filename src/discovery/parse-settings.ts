import { parseDuration } from '../duration.ts';
import type { Keepalive, NetworkAccess, ReadinessProbe, UpstreamProto } from '../routing-table.ts';
import { UPSTREAM_PROTOS } from '../routing-table.ts';
import { unsafeUriPath } from './parse-path.ts';

/**
 * Parsing of the per-container settings (nginx-proxy's names). Pure; every failure is a value naming the setting,
 * so the builder can skip that container with a warning and route every other one.
 */

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

/** A port number from 1 to 65535 (`VIRTUAL_PORT`, `EXTERNAL_HTTP_PORT`, multiports `port`). */
export function parsePort(value: string): Parsed<number> {
  const v = value.trim();
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 65535) {
    return { ok: false, reason: `${JSON.stringify(value)} is not a port number from 1 to 65535` };
  }
  return { ok: true, value: Number(v) };
}

/** `VIRTUAL_PORT`, else nginx-proxy's rule: exactly one exposed port means that port, otherwise 80. */
export function resolvePort(value: string | undefined, exposedPorts: readonly number[]): Parsed<number> {
  const v = value?.trim();
  if (v === undefined || v === '') {
    return { ok: true, value: exposedPorts.length === 1 ? (exposedPorts[0] as number) : 80 };
  }
  return parsePort(v);
}

function oneOf<T extends string>(value: string, allowed: readonly T[]): Parsed<T> {
  const found = allowed.find((a) => a === value.trim().toLowerCase());
  return found === undefined
    ? { ok: false, reason: `${JSON.stringify(value)} is not one of ${allowed.join(', ')}` }
    : { ok: true, value: found };
}

/** `VIRTUAL_PROTO` (case-insensitive). */
export function parseProto(value: string): Parsed<UpstreamProto> {
  return oneOf(value, UPSTREAM_PROTOS);
}

/** `NETWORK_ACCESS`. */
export function parseNetworkAccess(value: string): Parsed<NetworkAccess> {
  return oneOf(value, ['external', 'internal'] as const);
}

/** `SERVER_TOKENS`: what nginx (not nginx Plus, which also takes a string) accepts for `server_tokens`. */
export function parseServerTokens(value: string): Parsed<string> {
  return oneOf(value, ['on', 'off', 'build'] as const);
}

/** `...debug-endpoint` label. */
export function parseDebugEndpoint(value: string): Parsed<boolean> {
  const parsed = oneOf(value, ['true', 'false'] as const);
  return parsed.ok ? { ok: true, value: parsed.value === 'true' } : parsed;
}

/** `...keepalive` label: `auto`, `disabled`, or a number of idle upstream connections from 1 to 10000. */
export function parseKeepalive(value: string): Parsed<Keepalive> {
  const v = value.trim().toLowerCase();
  if (v === 'auto' || v === 'disabled') return { ok: true, value: v };
  if (/^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 10000) return { ok: true, value: Number(v) };
  return { ok: false, reason: `${JSON.stringify(value)} is not auto, disabled or a number from 1 to 10000` };
}

/** `VIRTUAL_ROOT`: the document root sent to fastcgi backends, an absolute path. */
export function parseRoot(value: string): Parsed<string> {
  const v = value.trim();
  const why = unsafeUriPath(v);
  return why === undefined ? { ok: true, value: v } : { ok: false, reason: `${JSON.stringify(value)} is not an absolute directory path: ${why}` };
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
