import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { downstreamResponseHeaders } from './forwarded-headers.ts';
import { RequestBody } from './request-body.ts';

/**
 * The only module that speaks to the upstream HTTP client (undici). `Dispatcher.stream` writes the upstream body
 * straight into the ServerResponse with backpressure (undici pauses the upstream socket while `res` needs drain),
 * and the request body is streamed from `req` the same way; nothing is buffered whole.
 *
 * Abort rules: a client that goes away before the response is complete aborts the upstream request (the signal
 * before the head, undici's `finished(res)` watcher after it); an upstream failure after the head destroys `res`, so
 * the client sees a truncated response instead of a silently short one. A failure before the head leaves `req` and
 * `res` untouched (the body goes through a per-attempt RequestBody), so the caller may retry or answer itself.
 */

export interface ForwardResult {
  /** The upstream failure, or null when the response was relayed completely. */
  readonly error: Error | null;
  /** Whether the response head was already sent to the client (then the only remedy is to cut the connection). */
  readonly headersSent: boolean;
  /** The client went away first (not an upstream fault). */
  readonly clientAborted: boolean;
  /** The upstream's response head arrived (the request was delivered). */
  readonly responseStarted: boolean;
  /** Part of the request body was read for this attempt: it cannot be replayed. */
  readonly bodyTouched: boolean;
}

export interface ForwardRequest {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** Origin-form target (`/path?query`) to send upstream. */
  readonly path: string;
  readonly headers: Record<string, string | string[]>;
  /** Asked when the response head is written: true while the plane drains (answer `Connection: close`). */
  readonly closeConnection: () => boolean;
}

class ClientAbortedError extends Error {
  readonly code = 'CLIENT_ABORTED';
  constructor() {
    super('client closed the connection before the response was complete');
    this.name = 'ClientAbortedError';
  }
}

/**
 * undici accepts an EventEmitter with `aborted`/`reason` as a signal. It is used instead of an AbortController
 * because creating an AbortSignal and its listeners per request showed up in profiles of the proxy hot path.
 */
class AbortEmitter extends EventEmitter {
  aborted = false;
  reason: Error | undefined;

  abort(reason: Error): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.emit('abort');
  }
}

function flushHeadIfPending(res: ServerResponse): void {
  // `_headerSent` (internal, stable since Node 0.x) is false while the head still sits in node's buffer.
  if (!res.writableEnded && !res.destroyed && (res as ServerResponse & { _headerSent?: boolean })._headerSent === false) {
    res.flushHeaders();
  }
}

/** True when the request carries a body (RFC 9112 section 6.3: Transfer-Encoding or a non-zero Content-Length). */
export function hasRequestBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

export function forward(upstream: Dispatcher, request: ForwardRequest, done: (result: ForwardResult) => void): void {
  const { req, res } = request;
  const controller = new AbortEmitter();
  let clientAborted = false;
  let responseStarted = false;
  const body = hasRequestBody(req) ? new RequestBody(req) : null;
  const onClose = (): void => {
    if (res.writableFinished) return;
    clientAborted = true;
    controller.abort(new ClientAbortedError());
  };
  res.once('close', onClose);
  upstream.stream(
    {
      path: request.path,
      method: req.method as Dispatcher.HttpMethod,
      headers: request.headers,
      body,
      signal: controller,
      opaque: res,
    },
    ({ statusCode, headers, opaque }) => {
      responseStarted = true;
      const out = downstreamResponseHeaders(headers);
      if (request.closeConnection()) out['connection'] = 'close';
      opaque.writeHead(statusCode, out);
      // node:http holds a head until the first body write. When the upstream sent its head alone (SSE, long poll,
      // slow first byte) the client must still see it now; when body bytes came in the same read they are already
      // written by the time this runs, so the common case costs no extra packet.
      setImmediate(flushHeadIfPending, opaque);
      return opaque;
    },
    (err) => {
      res.off('close', onClose);
      done({
        error: err,
        headersSent: res.headersSent,
        // A fully read request is destroyed too (autoDestroy): only an incomplete one means the client went away.
        clientAborted: clientAborted || (err !== null && req.destroyed && !req.complete),
        responseStarted,
        bodyTouched: body?.touched ?? false,
      });
    },
  );
}
