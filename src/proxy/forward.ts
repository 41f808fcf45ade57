import type { IncomingMessage } from 'node:http';
import { headPending, type DownstreamRequest, type DownstreamResponse } from './downstream.ts';
import type { UpstreamHandler } from './h1/connection.ts';
import { isStaleConnection } from './h1/errors.ts';
import type { UpstreamDispatcher } from './upstream-pools.ts';
import { downstreamResponseHeaderList } from './forwarded-headers.ts';
import type { AttemptOutcome } from './delivery.ts';
import { RequestBody } from './request-body.ts';
import { classifyFailure, isConnectionFailure, mayRetry } from './retry-policy.ts';

/**
 * The only module that speaks to the upstream HTTP/1 client (berth's own, src/proxy/h1: it replaced undici, which
 * cost ~23% more CPU per request here; see the README's Performance section and bench/throughput). An exchange
 * handler writes the upstream body straight into the ServerResponse with backpressure (the client pauses the
 * upstream socket while `res` needs drain), and the request body is streamed from `req` the same way; nothing is
 * buffered whole.
 *
 * Abort rules: a client that goes away before the response is complete aborts the upstream request (the signal
 * through the handler's `abort`); an upstream failure after the head destroys `res`, so
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
  /** The upstream's status (access log `$upstream_status`); 0 when no response head arrived. */
  readonly status: number;
}

export interface ForwardRequest {
  readonly req: DownstreamRequest;
  readonly res: DownstreamResponse;
  /** Origin-form target (`/path?query`) to send upstream. */
  readonly path: string;
  /** Flat `[name, value, ...]` list (forwarded-headers.ts). */
  readonly headers: string[];
  /** The request carries a body (scanHasBody in forwarded-headers.ts). */
  readonly hasBody: boolean;
  /** Asked when the response head is written: true while the plane drains (answer `Connection: close`). */
  readonly closeConnection: () => boolean;
  /** keepalive `disabled`: send `Connection: close` upstream and do not reuse the connection. */
  readonly reset?: boolean;
}

class ClientAbortedError extends Error {
  readonly code = 'CLIENT_ABORTED';
  constructor() {
    super('client closed the connection before the response was complete');
    this.name = 'ClientAbortedError';
  }
}

/** One upstream exchange: one object and one closure a request. */
class Exchange implements UpstreamHandler {
  readonly #request: ForwardRequest;
  readonly #done: (result: ForwardResult) => void;
  readonly #body: RequestBody | null;
  #abort: ((err: Error) => void) | undefined;
  #abortReason: Error | undefined;
  #resume: (() => void) | undefined;
  #responseStarted = false;
  #status = 0;
  #clientAborted = false;
  #finished = false;

  constructor(request: ForwardRequest, body: RequestBody | null, done: (result: ForwardResult) => void) {
    this.#request = request;
    this.#body = body;
    this.#done = done;
  }

  /** `close` on the ServerResponse before it finished: the client went away. */
  readonly onClientClose = (): void => {
    if (this.#request.res.writableFinished || this.#finished) return;
    this.#clientAborted = true;
    const reason = new ClientAbortedError();
    if (this.#abort === undefined) this.#abortReason = reason;
    else this.#abort(reason);
  };

  #onDrain: (() => void) | undefined;
  /** writeHead was called and no body byte written since: node:http still holds the head. */
  #headHeld = false;

  onConnect(abort: (err: Error) => void): void {
    if (this.#abortReason !== undefined) abort(this.#abortReason);
    else this.#abort = abort;
  }

  onHeaders(statusCode: number, rawHeaders: string[], resume: () => void): void {
    const res = this.#request.res;
    this.#responseStarted = true;
    this.#status = statusCode;
    this.#resume = resume;
    const out = downstreamResponseHeaderList(rawHeaders);
    if (this.#request.closeConnection()) out.push('connection', 'close');
    res.writeHead(statusCode, out);
    this.#headHeld = true;
  }

  /**
   * The upstream read that carried the head is processed. node:http holds a head until the first body write: when
   * the upstream sent its head alone (SSE, long poll, slow first byte) the client must still see it now. When body
   * bytes came in the same read they were written already (the common case: no extra packet, no tick callback).
   */
  onReadDone(): void {
    if (!this.#headHeld) return;
    this.#headHeld = false;
    const res = this.#request.res;
    if (headPending(res)) res.flushHeaders();
  }

  onData(chunk: Buffer): boolean {
    this.#headHeld = false;
    const res = this.#request.res;
    if (res.write(chunk)) return true;
    this.#onDrain ??= () => {
      this.#request.res.off('drain', this.#onDrain as () => void);
      this.#resume?.();
    };
    res.on('drain', this.#onDrain);
    return false;
  }

  onComplete(last?: Buffer): void {
    const res = this.#request.res;
    // The response is complete: the client leaving from here on aborts nothing. Off before end(), so that the fast
    // lane's response, which schedules its `close` only when someone listens, does not queue a tick per request for
    // a listener that would return at once (measured ~1-2 us of CPU per request in bench/throughput's conditions).
    res.off('close', this.onClientClose);
    // With the last body piece: head (if still held), body and end go out in one write.
    res.end(last);
    this.#finish(null);
  }

  onError(err: Error): void {
    const res = this.#request.res;
    // After the head, the only honest signal left is a cut connection; before it, req and res stay untouched.
    if (this.#responseStarted && !res.destroyed) res.destroy();
    this.#finish(err);
  }

  #finish(error: Error | null): void {
    if (this.#finished) return;
    this.#finished = true;
    const { req, res } = this.#request;
    res.off('close', this.onClientClose);
    if (this.#onDrain !== undefined) res.off('drain', this.#onDrain);
    this.#done({
      error,
      headersSent: res.headersSent,
      // A fully read request is destroyed too (autoDestroy): only an incomplete one means the client went away.
      clientAborted: this.#clientAborted || (error !== null && req.destroyed && !req.complete),
      responseStarted: this.#responseStarted,
      bodyTouched: this.#body?.touched ?? false,
      status: this.#status,
    });
  }
}

export function forward(upstream: UpstreamDispatcher, request: ForwardRequest, done: (result: ForwardResult) => void): void {
  const { req, res } = request;
  // Only node:http's requests carry a body: the fast lane hands every request with one to node:http.
  const body = request.hasBody ? new RequestBody(req as IncomingMessage) : null;
  const exchange = new Exchange(request, body, done);
  res.on('close', exchange.onClientClose);
  upstream.dispatch({ path: request.path, method: req.method ?? 'GET', headers: request.headers, body, reset: request.reset === true }, exchange);
}

/** What forward() observed, translated for delivery.ts (retry-policy.ts decides what may be retried). */
export function attemptOutcome(result: ForwardResult, method: string | undefined): AttemptOutcome {
  if (result.error === null) return { kind: 'done', delivered: true };
  if (result.clientAborted) return { kind: 'done', delivered: result.responseStarted };
  if (result.headersSent) {
    // Part of the response reached the client: the only remedy left is to cut it (sendProxyError does).
    return { kind: 'failed', error: result.error, retry: false, connection: false };
  }
  const failure = classifyFailure(result.error, result.responseStarted);
  const retry = mayRetry(failure, method, result.bodyTouched);
  if (isStaleConnection(result.error)) return { kind: 'failed', error: result.error, retry, connection: false, stale: true };
  return { kind: 'failed', error: result.error, retry, connection: isConnectionFailure(failure) };
}
