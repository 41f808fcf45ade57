import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * Error answers the proxy itself produces: a short plain-text line plus `X-Berth-Error: <code>` so a user can tell a
 * berth error from a backend's. Status choices follow nginx: unknown host 503, known host without backend 502,
 * connection refused/reset 502, connect or read timeout 504, no location for the path 404. A host whose backends are
 * all starting, draining or out of rotation is answered 503 + Retry-After (NO_READY_BACKEND) after a bounded wait:
 * the condition is temporary, which is exactly what 503 + Retry-After says (RFC 9110 section 15.6.4).
 */

export type ProxyErrorCode =
  | 'NO_ROUTE'
  | 'NO_LOCATION'
  | 'NO_BACKEND'
  | 'NO_READY_BACKEND'
  | 'UPSTREAM_UNREACHABLE'
  | 'UPSTREAM_TIMEOUT'
  | 'UPSTREAM_ERROR'
  | 'BAD_REQUEST';

const STATUS: Record<ProxyErrorCode, number> = {
  NO_ROUTE: 503,
  NO_LOCATION: 404,
  NO_BACKEND: 502,
  NO_READY_BACKEND: 503,
  UPSTREAM_UNREACHABLE: 502,
  UPSTREAM_TIMEOUT: 504,
  UPSTREAM_ERROR: 502,
  BAD_REQUEST: 400,
};

const REASON: Record<number, string> = {
  400: 'Bad Request',
  404: 'Not Found',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export interface ProxyError {
  readonly status: number;
  readonly code: ProxyErrorCode;
  readonly body: string;
  /** Seconds for a `Retry-After` header (temporary conditions only). */
  readonly retryAfterS?: number;
}

export function proxyError(code: ProxyErrorCode, detail: string, retryAfterS?: number): ProxyError {
  const status = STATUS[code];
  const body = `${status} ${REASON[status] ?? ''}: ${detail}\n`;
  return retryAfterS === undefined ? { status, code, body } : { status, code, body, retryAfterS: Math.max(1, Math.ceil(retryAfterS)) };
}

/** Answers on a ServerResponse when nothing was sent yet; otherwise the response is cut (the client sees it). */
export function sendProxyError(res: ServerResponse, error: ProxyError, closeConnection: boolean): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  res.writeHead(error.status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(error.body),
    'x-berth-error': error.code,
    ...(error.retryAfterS === undefined ? {} : { 'retry-after': String(error.retryAfterS) }),
    ...(closeConnection ? { connection: 'close' } : {}),
  });
  res.end(error.body);
}

/** The same answer written raw on a socket (upgrade requests, which have no ServerResponse); closes the socket. */
export function writeRawProxyError(socket: Duplex, error: ProxyError): void {
  if (socket.destroyed) return;
  const head =
    `HTTP/1.1 ${error.status} ${REASON[error.status] ?? ''}\r\n` +
    'content-type: text/plain; charset=utf-8\r\n' +
    `content-length: ${Buffer.byteLength(error.body)}\r\n` +
    `x-berth-error: ${error.code}\r\n` +
    (error.retryAfterS === undefined ? '' : `retry-after: ${error.retryAfterS}\r\n`) +
    'connection: close\r\n\r\n';
  socket.end(head + error.body);
}

/** Maps an upstream client or socket error to what the client is told. */
export function upstreamFailure(err: unknown, upstream: string): ProxyError {
  const code = (err as { code?: unknown } | null)?.code;
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
    case 'ETIMEDOUT':
      return proxyError('UPSTREAM_TIMEOUT', `upstream ${upstream} timed out`);
    case 'ECONNREFUSED':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'ENOTFOUND':
    case 'EADDRNOTAVAIL':
      return proxyError('UPSTREAM_UNREACHABLE', `upstream ${upstream} is unreachable`);
    default:
      return proxyError('UPSTREAM_ERROR', `upstream ${upstream} failed`);
  }
}

/** Short error code for logs. */
export function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : err instanceof Error ? err.name : 'UNKNOWN';
}
