import type { Socket } from 'node:net';
import type { DownstreamRequest, DownstreamResponse } from '../downstream.ts';
import { FastResponse, type ResponseOwner } from './fast-response.ts';
import { scanRequestHead, type SimpleRequestHead } from './request-head.ts';

/**
 * The fast lane: berth's own server side for the commonest HTTP/1.1 request, a bodiless request in plain form (GET,
 * HEAD, DELETE ... without Content-Length or Transfer-Encoding; request-head.ts says exactly which). On this
 * machine node:http's server alone ("hello world") costs about as much CPU per request as a whole proxied exchange
 * in nginx (its request and response objects are streams, and every request goes through its C++ parser and
 * connection tracking); a proxied request served here costs ~15% less CPU than through node:http, with a p99 about
 * a third lower (README, Performance; bench/throughput's berth-node-http row).
 *
 * Every connection starts here. The lane reads requests from the connection's buffer while they are simple, and at
 * the first request that is not (a body, `Expect`, an upgrade, HTTP/1.0, a malformed or incomplete head), hands the
 * connection, from that request's first byte on, to node:http for good (`handOff`): node:http then answers it
 * exactly as it would have (400, 431, bodies, 100-continue, upgrades, timeouts). Both sides feed the same handler
 * through the DownstreamRequest / DownstreamResponse interfaces (downstream.ts).
 *
 * The responses (fast-response.ts) are those node:http writes, checked side by side in fast-lane.test.ts.
 */

export interface FastLaneOptions {
  /** Idle time allowed between two requests of a connection (node:http's keepAliveTimeout). */
  readonly keepAliveTimeoutMs: number;
  /** Idle time allowed while a request is under way (node:http's server.timeout). */
  readonly requestIdleTimeoutMs: number;
  /** Largest request head (node:http's maxHeaderSize): longer heads are node:http's to refuse. */
  readonly maxHeadBytes: number;
  readonly onRequest: (req: DownstreamRequest, res: DownstreamResponse) => void;
  /** Takes over a connection from the request at the start of its read buffer on (node:http). */
  readonly handOff: (socket: Socket) => void;
}

/** One port's fast lane. */
export class FastLane {
  readonly options: FastLaneOptions;
  readonly #connections = new Set<FastConnection>();
  #closing = false;

  constructor(options: FastLaneOptions) {
    this.options = options;
  }

  get closing(): boolean {
    return this.#closing;
  }

  /** A new connection whose first bytes are in its read buffer (unshifted), paused. */
  accept(socket: Socket): void {
    this.#connections.add(new FastConnection(this, socket));
  }

  /** @internal */
  forget(connection: FastConnection): void {
    this.#connections.delete(connection);
  }

  /** Graceful close: idle connections now, the others after their response (which says `Connection: close`). */
  close(): void {
    this.#closing = true;
    for (const connection of this.#connections) connection.closeIfIdle();
  }
}

class FastConnection implements ResponseOwner {
  readonly #lane: FastLane;
  readonly #socket: Socket;
  #buf: Buffer | null = null;
  #res: FastResponse | null = null;
  /** No request is read any more: the last response said close, the port is closing, or the client sent FIN. */
  #ending = false;
  #serveScheduled = false;
  /** The socket's current timeout, and the quiet time the timer already saw fire (#onTimeout). */
  #timeoutMs: number;
  #quietMs = 0;
  /** bytesRead + bytesWritten when the timer last fired (-1: not since the phase began). */
  #activityMark = -1;

  constructor(lane: FastLane, socket: Socket) {
    this.#lane = lane;
    this.#socket = socket;
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('close', this.#onClose);
    socket.on('error', ignore);
    socket.on('drain', this.#onDrain);
    socket.on('timeout', this.#onTimeout);
    this.#timeoutMs = baseTimeoutMs(lane.options);
    socket.setTimeout(this.#timeoutMs);
    socket.resume(); // the bytes put back by the listener come as the first 'data'
  }

  readonly #onData = (chunk: Buffer): void => {
    // After a last response nothing more is read (RFC 9112 section 9.6; node:http's parser refuses it too).
    if (this.#ending) return;
    this.#buf = this.#buf === null ? chunk : Buffer.concat([this.#buf, chunk]);
    if (this.#res === null && !this.#socket.writableNeedDrain) this.#serve();
    // Pipelined requests wait in the buffer; a client that keeps sending without reading waits (TCP backpressure).
    else if (this.#buf.length > this.#lane.options.maxHeadBytes || this.#socket.writableNeedDrain) this.#socket.pause();
  };

  /**
   * The client's FIN. As node:http does (httpAllowHalfOpen off) and nginx too (a 499): a request under way is
   * aborted, since the client will not read its response; the connection ends either way.
   */
  readonly #onEnd = (): void => {
    this.#ending = true;
    this.#socket.end();
  };

  readonly #onClose = (): void => {
    this.#lane.forget(this);
    const res = this.#res;
    this.#res = null;
    res?.clientGone();
  };

  readonly #onDrain = (): void => {
    if (this.#res !== null) this.#res.emit('drain');
    // Between requests: the client read its answers, the next pipelined request may be served.
    else if (this.#buf !== null) this.#scheduleServe();
  };

  /**
   * One socket timeout serves both limits without a new timer per request (socket.setTimeout allocates one): it is
   * the smaller of the two, and when it fires in a phase whose limit is longer, it is re-armed for the rest.
   */
  readonly #onTimeout = (): void => {
    const options = this.#lane.options;
    const socket = this.#socket;
    // The timer fires after #timeoutMs without activity: quiet time adds up only when nothing moved in between.
    const mark = socket.bytesRead + socket.bytesWritten;
    if (mark !== this.#activityMark) this.#quietMs = 0;
    this.#activityMark = mark;
    this.#quietMs += this.#timeoutMs;
    const limit = this.#res === null ? options.keepAliveTimeoutMs : options.requestIdleTimeoutMs;
    if (this.#quietMs >= limit) {
      this.#socket.destroy();
      return;
    }
    this.#timeoutMs = limit - this.#quietMs;
    this.#socket.setTimeout(this.#timeoutMs);
  };

  /** A new phase (request under way / idle between requests): the quiet time counts from now. */
  #newPhase(): void {
    this.#quietMs = 0;
    this.#activityMark = -1;
    const base = baseTimeoutMs(this.#lane.options);
    if (this.#timeoutMs !== base) {
      this.#timeoutMs = base;
      this.#socket.setTimeout(base);
    }
  }

  #serve(): void {
    const buf = this.#buf;
    if (buf === null || this.#res !== null || this.#ending || this.#socket.destroyed) return;
    if (this.#socket.writableNeedDrain) {
      // The client does not read its answers: wait for `drain` before reading on (node:http does the same).
      this.#socket.pause();
      return;
    }
    const head = scanRequestHead(buf, this.#lane.options.maxHeadBytes);
    if (typeof head === 'string') {
      this.#handOff();
      return;
    }
    this.#buf = head.length === buf.length ? null : buf.subarray(head.length);
    const res = new FastResponse(this, this.#socket, head);
    this.#res = res;
    this.#newPhase();
    this.#lane.options.onRequest(new FastRequest(this.#socket, head), res);
  }

  /** node:http takes the connection, from the request at the start of the buffer on. */
  #handOff(): void {
    const socket = this.#socket;
    this.#lane.forget(this);
    socket.off('data', this.#onData);
    socket.off('end', this.#onEnd);
    socket.off('close', this.#onClose);
    socket.off('error', ignore);
    socket.off('drain', this.#onDrain);
    socket.off('timeout', this.#onTimeout);
    socket.setTimeout(0);
    const buf = this.#buf;
    this.#buf = null;
    socket.pause();
    if (buf !== null) socket.unshift(buf);
    this.#lane.options.handOff(socket);
  }

  /** The response was ended by the handler. */
  responseDone(res: FastResponse): void {
    if (this.#res !== res) return;
    this.#res = null;
    const socket = this.#socket;
    // #ending here can only be the client's FIN (closeIfIdle never runs while a response is under way).
    if (res.last || this.#lane.closing || this.#ending) {
      this.#ending = true;
      this.#buf = null;
      destroySoon(socket);
      return;
    }
    this.#newPhase();
    if (this.#buf !== null) this.#scheduleServe();
  }

  /** A pipelined request: served on the next tick, not inside the previous exchange's completion. */
  #scheduleServe(): void {
    if (this.#serveScheduled) return;
    this.#serveScheduled = true;
    process.nextTick(() => {
      this.#serveScheduled = false;
      if (this.#res !== null || this.#ending) return;
      if (!this.#socket.writableNeedDrain) this.#socket.resume();
      this.#serve();
    });
  }

  /** The port is closing: the response under way says `Connection: close`. */
  get closing(): boolean {
    return this.#lane.closing;
  }

  /** node:http's `Keep-Alive: timeout=N` value. */
  get keepAliveSeconds(): number {
    return Math.floor(this.#lane.options.keepAliveTimeoutMs / 1000);
  }

  /** Idle: closed now (after what it still has to send to a slow reader). */
  closeIfIdle(): void {
    if (this.#res !== null) return;
    this.#ending = true;
    if (this.#socket.writableLength > 0) destroySoon(this.#socket);
    else this.#socket.destroy();
  }
}

function baseTimeoutMs(options: FastLaneOptions): number {
  return Math.min(options.keepAliveTimeoutMs, options.requestIdleTimeoutMs);
}

function destroySoon(socket: Socket): void {
  if (socket.writable) socket.end();
  if (socket.writableFinished) socket.destroy();
  else socket.once('finish', () => socket.destroy());
}

function ignore(): void {
  // a socket error is followed by 'close', which is what the connection handles
}

/** The request side: a plain object (no body to stream). */
class FastRequest implements DownstreamRequest {
  readonly method: string;
  readonly url: string;
  readonly rawHeaders: string[];
  readonly httpVersion = '1.1';
  readonly complete = true;
  readonly socket: Socket;

  constructor(socket: Socket, head: SimpleRequestHead) {
    this.socket = socket;
    this.method = head.method;
    this.url = head.target;
    this.rawHeaders = head.rawHeaders;
  }

  get destroyed(): boolean {
    return this.socket.destroyed;
  }
}
