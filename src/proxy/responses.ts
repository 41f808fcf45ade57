import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { DownstreamResponse } from './downstream.ts';

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
  | 'BAD_REQUEST'
  /** NETWORK_ACCESS=internal and the client is outside the private ranges. */
  | 'FORBIDDEN'
  /** Basic auth (an htpasswd user file protects the route): no or wrong credentials. */
  | 'UNAUTHORIZED'
  /** The route's VIRTUAL_PROTO cannot be spoken for this request (gRPC reached over HTTP/1, upgrade to https). */
  | 'PROTO_UNSUPPORTED'
  /** Answers that are not errors: DEFAULT_ROOT's `return`, nginx's auto_redirect, the debug endpoint. */
  | 'DEFAULT_ROOT'
  | 'REDIRECT'
  | 'DEBUG';

const STATUS: Record<ProxyErrorCode, number> = {
  NO_ROUTE: 503,
  NO_LOCATION: 404,
  NO_BACKEND: 502,
  NO_READY_BACKEND: 503,
  UPSTREAM_UNREACHABLE: 502,
  UPSTREAM_TIMEOUT: 504,
  UPSTREAM_ERROR: 502,
  BAD_REQUEST: 400,
  FORBIDDEN: 403,
  UNAUTHORIZED: 401,
  PROTO_UNSUPPORTED: 502,
  DEFAULT_ROOT: 404,
  REDIRECT: 301,
  DEBUG: 200,
};

const REASON: Readonly<Record<number, string | undefined>> = STATUS_CODES;

export interface ProxyError {
  readonly status: number;
  readonly code: ProxyErrorCode;
  readonly body: string;
  /** Seconds for a `Retry-After` header (temporary conditions only). */
  readonly retryAfterS?: number;
  /** Default `text/plain; charset=utf-8`. */
  readonly contentType?: string;
  /** `Location` of a redirect (absolute). */
  readonly location?: string;
  /** The body is a byte string (latin1), e.g. DEFAULT_ROOT text evaluated from request bytes. */
  readonly latin1?: boolean;
  /** `WWW-Authenticate` of a 401 (Basic auth). */
  readonly authenticate?: string;
}

/** An answer of the proxy's own with an explicit status (DEFAULT_ROOT's `return`, redirects, the debug endpoint). */
export function localAnswer(code: ProxyErrorCode, status: number, body: string, extra: Pick<ProxyError, 'contentType' | 'location' | 'latin1'> = {}): ProxyError {
  return { status, code, body, ...extra };
}

function bodyBytes(error: ProxyError): Buffer {
  return Buffer.from(error.body, error.latin1 === true ? 'latin1' : 'utf8');
}

function answerHeaders(error: ProxyError, length: number): Record<string, string | number> {
  const headers: Record<string, string | number> = {
    'content-type': error.contentType ?? 'text/plain; charset=utf-8',
    'content-length': length,
  };
  // Only errors are marked: a DEFAULT_ROOT `200` or a redirect is an answer the user asked for.
  if (error.status >= 400) headers['x-berth-error'] = error.code;
  if (error.location !== undefined) headers['location'] = error.location;
  if (error.retryAfterS !== undefined) headers['retry-after'] = String(error.retryAfterS);
  if (error.authenticate !== undefined) headers['www-authenticate'] = error.authenticate;
  return headers;
}

export function proxyError(code: ProxyErrorCode, detail: string, retryAfterS?: number): ProxyError {
  const status = STATUS[code];
  const body = `${status} ${REASON[status] ?? ''}: ${detail}\n`;
  return retryAfterS === undefined ? { status, code, body } : { status, code, body, retryAfterS: Math.max(1, Math.ceil(retryAfterS)) };
}

/** Answers on a response when nothing was sent yet; otherwise the response is cut (the client sees it). */
export function sendProxyError(res: DownstreamResponse, error: ProxyError, closeConnection: boolean): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const body = bodyBytes(error);
  const headers = answerHeaders(error, body.length);
  if (closeConnection) headers['connection'] = 'close';
  try {
    res.writeHead(error.status, headers);
  } catch {
    // A header value built from request bytes (a DEFAULT_ROOT Location) that node:http refuses to send.
    res.destroy();
    return;
  }
  res.end(body);
}

/** The same answer written raw on a socket (upgrade requests, which have no ServerResponse); closes the socket. */
export function writeRawProxyError(socket: Duplex, error: ProxyError): void {
  if (socket.destroyed) return;
  const body = bodyBytes(error);
  let head = `HTTP/1.1 ${error.status} ${REASON[error.status] ?? ''}\r\n`;
  for (const [name, value] of Object.entries(answerHeaders(error, body.length))) {
    if (!/[\r\n]/.test(String(value))) head += `${name}: ${value}\r\n`;
  }
  socket.end(Buffer.concat([Buffer.from(`${head}connection: close\r\n\r\n`, 'latin1'), body]));
}

/** Maps an upstream client or socket error to what the client is told. */
export function upstreamFailure(err: unknown, upstream: string): ProxyError {
  const code = (err as { code?: unknown } | null)?.code;
  switch (code) {
    case 'UPSTREAM_CONNECT_TIMEOUT':
    case 'UPSTREAM_TIMEOUT':
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
