import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http2';
import { clientForwarded, forwardedHeaderPairs } from './forwarded-headers.ts';
import type { ProxyError } from './responses.ts';

/**
 * Pure header work for HTTP/2 streams forwarded to gRPC backends: what goes upstream, what comes back, and the
 * proxy's own answers in the form a gRPC client understands.
 *
 * nginx-proxy's gRPC location adds only `grpc_set_header X-Real-IP $remote_addr` (its proxy_set_header defaults do
 * not apply to grpc_pass); berth sets X-Real-IP and the X-Forwarded-* / X-Original-URI headers with the same trust
 * rules as for HTTP/1 (TRUST_DOWNSTREAM_PROXY), in both data planes: a client can never spoof them unless trusted.
 */

/** RFC 9113 section 8.2.2: connection-specific fields are malformed in HTTP/2 (node:http2 refuses to send them). */
const CONNECTION_SPECIFIC = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'http2-settings', 'host']);
/** Set by berth on every stream (as the nginx plane's grpc_set_header lines do), never passed through as sent. */
const SET_BY_PROXY = new Set(['x-real-ip', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-port', 'x-forwarded-ssl', 'x-original-uri', 'proxy']);

/** Where a stream came from: what the X-Forwarded-* headers describe. */
export interface StreamOrigin {
  /** `$remote_addr` (PROXY protocol aware). */
  readonly clientAddress: string;
  /** The request's host, lower-case, without port. */
  readonly host: string;
  /** The port the client connected to (`$server_port`). */
  readonly localPort: number;
  /** X-Forwarded-Port with trust on: the PROXY header's destination port, else localPort. */
  readonly forwardedPort: number;
  /** The request URI as received (X-Original-URI). */
  readonly requestUri: string;
}

export interface StreamForwardContext extends StreamOrigin {
  readonly trustDownstreamProxy: boolean;
  /** `https` for grpcs backends. */
  readonly scheme: 'http' | 'https';
}

function single(value: string | string[] | undefined): string {
  if (value === undefined) return '';
  return Array.isArray(value) ? value.join(', ') : value;
}

/** Request headers for the backend stream: pseudo-headers kept (scheme set), connection-specific ones dropped. */
export function upstreamStreamHeaders(incoming: IncomingHttpHeaders, ctx: StreamForwardContext): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined || CONNECTION_SPECIFIC.has(name) || SET_BY_PROXY.has(name)) continue;
    // TE is allowed in HTTP/2 only as `trailers`, which gRPC requires.
    if (name === 'te' && single(value).trim().toLowerCase() !== 'trailers') continue;
    out[name] = value;
  }
  out[':scheme'] = ctx.scheme;
  if (out[':authority'] === undefined && incoming.host !== undefined) out[':authority'] = incoming.host;
  const pairs = forwardedHeaderPairs(clientForwarded(incoming), ctx);
  for (let i = 0; i < pairs.length; i += 2) out[pairs[i] as string] = pairs[i + 1];
  return out;
}

/** Response headers or trailers for the client: `:status` kept, other pseudo-headers and connection-specific ones dropped. */
export function downstreamStreamHeaders(incoming: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined || CONNECTION_SPECIFIC.has(name) || (name.startsWith(':') && name !== ':status')) continue;
    out[name] = value;
  }
  return out;
}

/** A gRPC request (its client reads grpc-status, not the HTTP status). */
export function isGrpcRequest(headers: IncomingHttpHeaders): boolean {
  return single(headers['content-type']).toLowerCase().startsWith('application/grpc');
}

/** gRPC status codes used here (grpc/doc/statuscodes.md). */
export const GRPC_STATUS = { UNKNOWN: 2, PERMISSION_DENIED: 7, UNIMPLEMENTED: 12, INTERNAL: 13, UNAVAILABLE: 14, UNAUTHENTICATED: 16 } as const;

/** grpc/doc/http-grpc-status-mapping.md: the code a gRPC client derives from an HTTP status. */
export function grpcStatusForHttp(status: number): number {
  switch (status) {
    case 400:
      return GRPC_STATUS.INTERNAL;
    case 401:
      return GRPC_STATUS.UNAUTHENTICATED;
    case 403:
      return GRPC_STATUS.PERMISSION_DENIED;
    case 404:
      return GRPC_STATUS.UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
      return GRPC_STATUS.UNAVAILABLE;
    default:
      return GRPC_STATUS.UNKNOWN;
  }
}

/** grpc-message is percent-encoded UTF-8: bytes outside 0x20-0x7E, and `%`, as %XX (gRPC over HTTP/2 spec). */
export function encodeGrpcMessage(message: string): string {
  let out = '';
  for (const byte of Buffer.from(message, 'utf8')) {
    out += byte < 0x20 || byte > 0x7e || byte === 0x25 ? `%${byte.toString(16).toUpperCase().padStart(2, '0')}` : String.fromCharCode(byte);
  }
  return out;
}

/** The body of the proxy's own answer, as bytes (DEFAULT_ROOT text built from request bytes is latin1). */
export function answerBody(answer: ProxyError): Buffer {
  return Buffer.from(answer.body, answer.latin1 === true ? 'latin1' : 'utf8');
}

/**
 * The head of the proxy's own answer on a stream (errors, and DEFAULT_ROOT, redirects, the debug document). gRPC
 * clients get a Trailers-Only response (`:status 200`, grpc-status and grpc-message in the one HEADERS frame): the
 * form every gRPC library reads its status and message from. Other clients get what the HTTP/1 path sends.
 */
export function streamErrorHeaders(answer: ProxyError, grpc: boolean): OutgoingHttpHeaders {
  const common: OutgoingHttpHeaders = {
    // Only errors are marked, as on HTTP/1: a DEFAULT_ROOT answer or a redirect is what the user asked for.
    ...(answer.status >= 400 ? { 'x-berth-error': answer.code } : {}),
    ...(answer.retryAfterS === undefined ? {} : { 'retry-after': String(answer.retryAfterS) }),
  };
  if (grpc) {
    return {
      ':status': 200,
      'content-type': 'application/grpc',
      'grpc-status': String(grpcStatusForHttp(answer.status)),
      'grpc-message': encodeGrpcMessage(answer.body.trim()),
      ...common,
    };
  }
  return {
    ':status': answer.status,
    'content-type': answer.contentType ?? 'text/plain; charset=utf-8',
    'content-length': answerBody(answer).length,
    ...(answer.location === undefined ? {} : { location: answer.location }),
    ...common,
  };
}
