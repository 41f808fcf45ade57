import { connect as netConnect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import { coalesce } from './coalesce.ts';
import { tlsHandshakeError, UpstreamError } from './errors.ts';
import { ResponseParser, type ResponseEvents } from './response-parser.ts';
import { track, untrack } from './sweeper.ts';

/**
 * One keep-alive HTTP/1.1 connection to an upstream, carrying one request at a time (no pipelining). The request
 * head is written as one string; the body, when there is one, is streamed with backpressure (chunked when the client
 * gave no Content-Length); the response is parsed by ResponseParser and handed to the exchange's handler, whose
 * backpressure pauses the socket. Timeouts are checked by the sweeper (sweeper.ts), not by a timer per request.
 */

/** What the data plane hands the client for one request (forward.ts). */
export interface UpstreamRequest {
  readonly method: string;
  /** Origin-form target. */
  readonly path: string;
  /** Flat `[name, value, ...]`, names lower-case, hop-by-hop fields already removed. */
  readonly headers: readonly string[];
  /** The request body for this attempt, or null. */
  readonly body: Readable | null;
  /** Send `Connection: close` and do not reuse the connection (nginx without `keepalive`). */
  readonly reset?: boolean;
}

/**
 * Callbacks of one exchange, in order: onConnect, then onHeaders, onData* and onComplete, or onError (once).
 * onComplete's `last` is the final piece of the body when it came with the completing read (not passed to onData).
 */
export interface UpstreamHandler {
  /** Right away: `abort(reason)` ends the exchange (onError(reason)) and closes the connection. */
  onConnect(abort: (reason: Error) => void): void;
  /** The final response head; `resume` restarts reading after onData returned false. */
  onHeaders(status: number, headers: string[], resume: () => void): void;
  /** A piece of the body; false pauses the connection until `resume`. */
  onData(chunk: Buffer): boolean;
  onComplete(last?: Buffer): void;
  onError(err: Error): void;
  /** A read from the upstream was processed and the exchange is still running (the head may be flushed now). */
  onReadDone?(): void;
}

export interface ConnectionOwner {
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  readonly connectTimeoutMs: number;
  readonly upstreamTimeoutMs: number;
  /** Called when an exchange ended: true when the owner keeps the connection for another request. */
  release(conn: H1Connection, reusable: boolean, keepAliveHintMs: number | undefined): boolean;
  /** How long a released connection may stay idle, given the upstream's `Keep-Alive: timeout` hint. */
  idleTimeoutMs(keepAliveHintMs: number | undefined): number;
  /** The connection is closed for good. */
  closed(conn: H1Connection): void;
  /** A reused connection turned out closed by the upstream: the other idle ones probably are too. */
  staleSeen(): void;
}

/** A request target or header value that would break the request's framing (CR, LF, NUL; space in the target). */
// eslint-disable-next-line no-control-regex
const BAD_TARGET = /[\x00-\x20\x7f]/;
const BAD_VALUE = /[\0\r\n]/;
/** How a stale keep-alive connection fails when reused: closed (FIN) or reset while the request is written. */
const STALE_CODES = new Set(['UPSTREAM_CLOSED', 'ECONNRESET', 'EPIPE']);

/** A request serialised for the wire: the head, and whether the body goes chunked (no Content-Length given). */
export interface PreparedRequest {
  readonly head: string;
  readonly chunked: boolean;
}

/**
 * The request head as one string, or an UPSTREAM_BAD_REQUEST when the target or a header value would break the
 * framing (node:http validated the client's bytes already: this guards values berth composed, e.g. VIRTUAL_DEST).
 */
export function prepareRequest(request: UpstreamRequest): PreparedRequest | UpstreamError {
  if (BAD_TARGET.test(request.path)) return new UpstreamError('UPSTREAM_BAD_REQUEST', 'request target contains a control character or space');
  const h = request.headers;
  let head = `${request.method} ${request.path} HTTP/1.1\r\n`;
  let length = false;
  for (let i = 0; i < h.length; i += 2) {
    const name = h[i] as string;
    const value = h[i + 1] as string;
    if (BAD_VALUE.test(value)) return new UpstreamError('UPSTREAM_BAD_REQUEST', `request header ${name} contains CR, LF or NUL`);
    if (name === 'content-length') length = true;
    head += `${name}: ${value}\r\n`;
  }
  const chunked = request.body !== null && !length;
  if (request.reset === true) head += 'connection: close\r\n';
  if (chunked) head += 'transfer-encoding: chunked\r\n';
  return { head: `${head}\r\n`, chunked };
}

/** The read buffer of every plain upstream socket (onread): one read at a time on this thread, copied out at once. */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

export class H1Connection implements ResponseEvents {
  readonly #owner: ConnectionOwner;
  readonly #socket: Socket;
  readonly #parser: ResponseParser;
  #handler: UpstreamHandler | null = null;
  #request: UpstreamRequest | null = null;
  #connected = false;
  /** TLS: the TCP connection is up, the handshake is not done yet (#handshakeFailure). */
  #handshaking = false;
  #closed = false;
  /** The request (head and body) was written completely. */
  #requestSent = false;
  #chunked = false;
  /** Reading paused by the handler's backpressure: the upstream is not silent, berth is not reading. */
  #paused = false;
  /** performance.now() of the last byte read or written for the current exchange, or of going idle. */
  #lastActivity = performance.now();
  #idleTimeoutMs = 0;
  /** Exchanges completed on this connection (a failure on a reused connection may be a stale keep-alive). */
  #served = 0;
  /** A byte of the current exchange's response was read. */
  #received = false;
  /** The upstream closed while reading was paused: handled once the paused bytes are parsed (resume). */
  #eof = false;

  constructor(owner: ConnectionOwner) {
    this.#owner = owner;
    this.#parser = new ResponseParser(this);
    const options = { host: owner.host, port: owner.port };
    if (owner.tls) {
      this.#socket = tlsConnect({ ...options, rejectUnauthorized: false }).once('secureConnect', this.#onConnected);
      this.#socket.once('connect', () => (this.#handshaking = true));
      this.#socket.on('data', this.#onData);
    } else {
      // Plain sockets are read through net's `onread` (no Readable stream, no nextTick per read): measured +4%
      // req/s for the Node plane in bench/throughput's conditions. Each read is copied out of the shared buffer at
      // once, so the parser and the client may keep what they get, as with 'data' events.
      this.#socket = netConnect({ ...options, onread: { buffer: READ_BUFFER, callback: this.#onRead } }).once('connect', this.#onConnected);
    }
    this.#socket.setNoDelay(true);
    this.#socket.on('end', this.#onEnd);
    this.#socket.on('error', this.#onError);
    this.#socket.on('close', this.#onClose);
    this.#socket.on('drain', this.#onDrain);
    track(this);
  }

  get busy(): boolean {
    return this.#handler !== null;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Start an exchange on this (idle or new) connection. */
  dispatch(request: UpstreamRequest, prepared: PreparedRequest, handler: UpstreamHandler): void {
    this.#handler = handler;
    this.#request = request;
    this.#requestSent = false;
    this.#received = false;
    this.#paused = false;
    this.#lastActivity = performance.now();
    this.#parser.start(request.method === 'HEAD');
    handler.onConnect((reason) => {
      if (this.#handler === handler) this.#fail(reason);
    });
    if (this.#handler !== handler) return; // aborted at once
    this.#chunked = prepared.chunked;
    // Held to the end of this event-loop turn with the other requests of the batch (coalesce.ts).
    coalesce(this.#socket).write(prepared.head, 'latin1');
    const body = request.body;
    if (body === null) this.#requestSent = true;
    // The body is read only once connected: a refused connection leaves it untouched, so any method may be retried.
    else if (this.#connected) this.#pumpBody(body);
  }

  /** Timeouts, called by the sweeper with the current performance.now(). */
  check(now: number): void {
    const silent = now - this.#lastActivity;
    if (this.#handler === null) {
      if (this.#connected && silent > this.#idleTimeoutMs) this.destroy();
      return;
    }
    if (!this.#connected) {
      if (silent > this.#owner.connectTimeoutMs) {
        this.#fail(new UpstreamError('UPSTREAM_CONNECT_TIMEOUT', `no connection to ${this.#owner.host}:${this.#owner.port} within ${this.#owner.connectTimeoutMs} ms`));
      }
      return;
    }
    if (!this.#paused && silent > this.#owner.upstreamTimeoutMs) {
      this.#fail(new UpstreamError('UPSTREAM_TIMEOUT', `upstream silent for ${this.#owner.upstreamTimeoutMs} ms`));
    }
  }

  /** Close the connection; a running exchange fails with UPSTREAM_CLOSED. */
  destroy(): void {
    if (this.#handler !== null) this.#fail(new UpstreamError('UPSTREAM_CLOSED', 'upstream connection closed by berth'));
    else this.#close();
  }

  // ResponseEvents (from the parser)
  onHead(status: number, headers: string[]): void {
    const handler = this.#handler as UpstreamHandler;
    handler.onHeaders(status, headers, () => {
      if (this.#handler !== handler || !this.#paused) return;
      this.#paused = false;
      this.#lastActivity = performance.now();
      try {
        this.#parser.resume(); // the rest of the read the pause interrupted
        if (this.#eof && !this.#paused && this.#handler === handler) this.#parser.end();
      } catch (err) {
        if (this.#handler === handler) this.#fail(err as Error);
        return;
      }
      if (this.#eof && !this.#paused) {
        if (this.#handler === handler) this.#fail(new UpstreamError('UPSTREAM_CLOSED', 'upstream connection closed before the response was complete'));
        else this.#close();
        return;
      }
      if (!this.#paused && !this.#closed) this.#socket.resume();
    });
  }

  onBody(chunk: Buffer): void {
    if (!(this.#handler as UpstreamHandler).onData(chunk) && !this.#paused) {
      this.#paused = true;
      this.#socket.pause();
      this.#parser.pause();
    }
  }

  onComplete(last?: Buffer): void {
    const handler = this.#handler as UpstreamHandler;
    const reusable = this.#parser.reusable && this.#requestSent && this.#request?.reset !== true && !this.#eof;
    this.#served++;
    this.#endExchange();
    if (this.#paused) {
      this.#paused = false;
      this.#socket.resume();
    }
    const hint = this.#parser.keepAliveTimeoutMs;
    if (this.#owner.release(this, reusable, hint)) {
      this.#lastActivity = performance.now();
      this.#idleTimeoutMs = this.#owner.idleTimeoutMs(hint);
    } else this.#close();
    handler.onComplete(last);
  }

  readonly #onConnected = (): void => {
    this.#connected = true;
    this.#handshaking = false;
    this.#lastActivity = performance.now();
    const body = this.#request?.body;
    if (body != null) this.#pumpBody(body);
  };

  /** True: reading goes on unless #onData paused the socket itself (backpressure). */
  readonly #onRead = (bytes: number, buffer: Uint8Array): boolean => {
    this.#onData(Buffer.from(buffer.subarray(0, bytes)));
    return true;
  };

  readonly #onData = (chunk: Buffer): void => {
    if (this.#handler === null) {
      this.#close(); // bytes nobody asked for: the connection is out of step
      return;
    }
    this.#lastActivity = performance.now();
    this.#received = true;
    const handler = this.#handler;
    try {
      this.#parser.execute(chunk);
    } catch (err) {
      if (this.#handler !== null) this.#fail(err as Error);
      return;
    }
    if (this.#handler === handler) handler.onReadDone?.();
  };

  readonly #onEnd = (): void => {
    const handshake = this.#handler === null ? undefined : this.#handshakeFailure();
    if (handshake !== undefined) {
      this.#fail(handshake);
      return;
    }
    if (this.#handler !== null && this.#paused) {
      this.#eof = true; // bytes before the FIN still wait in the paused parser
      return;
    }
    if (this.#handler === null) {
      this.#close();
      return;
    }
    try {
      this.#parser.end();
    } catch (err) {
      if (this.#handler !== null) this.#fail(err as Error);
    }
  };

  readonly #onError = (err: Error): void => {
    if (this.#handler !== null) this.#fail(this.#handshakeFailure(err) ?? err);
    else this.#close();
  };

  readonly #onClose = (): void => {
    if (this.#handler !== null && this.#paused && this.#eof) return; // see #onEnd: the resume finishes the exchange
    if (this.#handler !== null) this.#fail(this.#handshakeFailure() ?? new UpstreamError('UPSTREAM_CLOSED', 'upstream connection closed before the response was complete'));
    this.#close();
  };

  /** A failure during the TLS handshake (the request waits in the TLS socket until it is done): tlsHandshakeError. */
  #handshakeFailure(cause?: Error): UpstreamError | undefined {
    return this.#handshaking ? tlsHandshakeError(this.#owner.host, this.#owner.port, cause) : undefined;
  }

  readonly #onDrain = (): void => {
    this.#request?.body?.resume();
  };

  #pumpBody(body: Readable): void {
    body.on('data', this.#onBodyData);
    body.once('end', this.#onBodyEnd);
    body.once('error', this.#onBodyError);
  }

  readonly #onBodyData = (data: Buffer | string): void => {
    const chunk = typeof data === 'string' ? Buffer.from(data) : data;
    if (chunk.length === 0) return;
    this.#lastActivity = performance.now();
    const socket = this.#socket;
    let ok: boolean;
    if (this.#chunked) {
      socket.cork();
      socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
      socket.write(chunk);
      ok = socket.write('\r\n', 'latin1');
      socket.uncork();
    } else ok = socket.write(chunk);
    if (!ok) this.#request?.body?.pause();
  };

  readonly #onBodyEnd = (): void => {
    if (this.#chunked) this.#socket.write('0\r\n\r\n', 'latin1');
    this.#requestSent = true;
  };

  readonly #onBodyError = (err: Error): void => {
    if (this.#handler !== null) this.#fail(err);
  };

  /** Detach the current exchange (its body listeners too). */
  #endExchange(): void {
    const body = this.#request?.body;
    if (body != null) {
      body.off('data', this.#onBodyData);
      body.off('end', this.#onBodyEnd);
      body.off('error', this.#onBodyError);
      if (!this.#requestSent) body.destroy();
    }
    this.#handler = null;
    this.#request = null;
  }

  #fail(failure: Error): void {
    const handler = this.#handler;
    let err = failure;
    if (this.#served > 0 && !this.#received && STALE_CODES.has((failure as { code?: string }).code ?? '')) {
      err = new UpstreamError('UPSTREAM_CLOSED', `reused keep-alive connection closed by the upstream before a response (${failure.message})`, true);
      this.#owner.staleSeen();
    }
    this.#endExchange();
    this.#parser.stop();
    this.#close();
    handler?.onError(err);
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#parser.stop();
    untrack(this);
    this.#socket.destroy();
    this.#owner.closed(this);
  }
}
