/**
 * When a failed upstream attempt may be tried again on another backend. The rule is the one that never sends a
 * request twice where that could matter:
 *
 * - `not-sent`: the connection was never established (refused, unreachable, connect timeout, or a TLS handshake
 *   that failed before the request was written: UPSTREAM_TLS_HANDSHAKE, h1/errors.ts). Nothing left berth, so
 *   any method may be retried.
 * - `no-response`: the connection broke (reset, closed) after the request may have been written, before any byte of
 *   the response. Retried only for idempotent methods (RFC 9110 section 9.2.2), like nginx's `proxy_next_upstream`
 *   without `non_idempotent`. This is also the keep-alive race (the backend closes an idle socket while berth reuses
 *   it): the HTTP/1 client (h1/) does not retry by itself, so the data plane does.
 * - `late`: a response byte arrived, or the upstream timed out: never retried (the backend may be working on it).
 *
 * A request body is streamed, never buffered: once a byte of it was read for an attempt, no retry is possible.
 */

export type FailureClass = 'not-sent' | 'no-response' | 'late';

const NOT_SENT = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ENOTFOUND', 'UPSTREAM_CONNECT_TIMEOUT', 'UPSTREAM_POOL_CLOSED', 'UPSTREAM_TLS_HANDSHAKE']);
const NO_RESPONSE = new Set(['UPSTREAM_CLOSED', 'ECONNRESET', 'EPIPE', 'ECONNABORTED']);
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

export function classifyFailure(err: unknown, responseStarted: boolean): FailureClass {
  if (responseStarted) return 'late';
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return 'late';
  if (NOT_SENT.has(code)) return 'not-sent';
  return NO_RESPONSE.has(code) ? 'no-response' : 'late';
}

export function isIdempotent(method: string | undefined): boolean {
  return IDEMPOTENT.has(method ?? 'GET');
}

export function mayRetry(failure: FailureClass, method: string | undefined, bodyTouched: boolean): boolean {
  if (bodyTouched || failure === 'late') return false;
  return failure === 'not-sent' || isIdempotent(method);
}

/** Connection-level failures feed the circuit breaker; late failures (timeouts, bad responses) do not. */
export function isConnectionFailure(failure: FailureClass): boolean {
  return failure !== 'late';
}
