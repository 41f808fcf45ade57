/**
 * Errors of berth's HTTP/1.1 upstream client, each with a stable `code` that retry-policy.ts (may it be retried?)
 * and responses.ts (502 or 504?) read. System errors of the socket (ECONNREFUSED, ECONNRESET, EPIPE, ...) are passed
 * through unchanged with their own codes.
 */
export type UpstreamErrorCode =
  /** No connection within the connect timeout: nothing was sent. */
  | 'UPSTREAM_CONNECT_TIMEOUT'
  /** The upstream was silent longer than the upstream timeout, before or within the response. */
  | 'UPSTREAM_TIMEOUT'
  /** The upstream closed the connection before the response was complete. */
  | 'UPSTREAM_CLOSED'
  /** The upstream's response is not valid HTTP/1.x (status line, header syntax, framing). */
  | 'UPSTREAM_BAD_RESPONSE'
  /** The response head is larger than the client accepts. */
  | 'UPSTREAM_HEADER_TOO_LARGE'
  /** The request cannot be written as HTTP/1.1 (a control character in its target). Nothing was sent. */
  | 'UPSTREAM_BAD_REQUEST'
  /** The pool was closed before the request could be sent. Nothing was sent. */
  | 'UPSTREAM_POOL_CLOSED'
  /** TLS (https backends): the handshake failed or the upstream closed during it. Nothing was sent. */
  | 'UPSTREAM_TLS_HANDSHAKE';

export class UpstreamError extends Error {
  readonly code: UpstreamErrorCode;
  /**
   * A reused keep-alive connection failed before any byte of the response: the upstream had closed it (or did so
   * as the request arrived). Not the backend's fault: the request may be sent again on a new connection to the
   * same backend (delivery.ts, once), as nginx and Go's Transport do.
   */
  readonly staleConnection: boolean;
  constructor(code: UpstreamErrorCode, message: string, staleConnection = false) {
    super(message);
    this.name = 'UpstreamError';
    this.code = code;
    this.staleConnection = staleConnection;
  }
}

/**
 * A TLS connection to an upstream that failed after its TCP connect and before the handshake completed (a backend
 * speaking plain HTTP on that port, a refused handshake, a close): nothing was sent, so retry-policy.ts may try
 * another backend, as for a refused connection. Used by the HTTP/1 client and the upgrade tunnel.
 */
export function tlsHandshakeError(host: string, port: number, cause?: Error): UpstreamError {
  const why = cause === undefined ? 'the upstream closed the connection' : cause.message.trim();
  return new UpstreamError('UPSTREAM_TLS_HANDSHAKE', `TLS handshake with ${host}:${port} failed: ${why}`);
}

/** See UpstreamError.staleConnection. */
export function isStaleConnection(err: unknown): boolean {
  return err instanceof UpstreamError && err.staleConnection;
}
