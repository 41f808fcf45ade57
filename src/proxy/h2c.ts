import { createServer, type IncomingHttpHeaders, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import type { Logger } from '../logger.ts';
import { errorCode } from './responses.ts';

/**
 * HTTP/2 cleartext with prior knowledge (h2c, what gRPC clients speak to a plain port) on one listening port: a
 * node:http2 server that never listens itself; the listener hands it the connections whose first bytes were the
 * HTTP/2 preface (connection-prefix.ts). It tracks its sessions for graceful stop (GOAWAY, streams in flight
 * finish) and closes sessions idle for the keep-alive timeout.
 *
 * `session.socket` is a proxy object, not the accepted socket: the stream handler gets the accepted socket itself,
 * because connection-info.ts keys the PROXY protocol addresses by it.
 */

export type StreamHandler = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, socket: Socket, rawHeaders: readonly string[]) => void;

export interface H2cOptions {
  /** Idle sessions (no open stream) are closed after this (nginx keepalive_timeout). */
  readonly keepAliveTimeoutMs: number;
  readonly onStream: StreamHandler;
  readonly log: Logger;
}

/** nginx's http2_max_concurrent_streams default. */
const MAX_CONCURRENT_STREAMS = 128;

interface SessionState {
  readonly socket: Socket;
  streams: number;
}

export class H2cServer {
  readonly #server = createServer({ settings: { maxConcurrentStreams: MAX_CONCURRENT_STREAMS, enablePush: false } });
  readonly #sessions = new Map<ServerHttp2Session, SessionState>();
  readonly #options: H2cOptions;
  #accepting: Socket | undefined;
  #closing = false;

  constructor(options: H2cOptions) {
    this.#options = options;
    this.#server.on('session', (session: ServerHttp2Session) => this.#onSession(session));
    this.#server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, _flags: number, rawHeaders: string[]) => this.#onStream(stream, headers, rawHeaders));
    this.#server.on('sessionError', (err: Error) => options.log.debug({ code: errorCode(err) }, 'HTTP/2 session error'));
  }

  /** Open sessions. */
  get size(): number {
    return this.#sessions.size;
  }

  /** Starts an HTTP/2 session on a connection whose preface is (still) in its read buffer. */
  accept(socket: Socket): void {
    this.#accepting = socket;
    try {
      this.#server.emit('connection', socket); // creates the session and emits 'session' synchronously
    } finally {
      this.#accepting = undefined;
    }
  }

  #onSession(session: ServerHttp2Session): void {
    const socket = this.#accepting;
    if (socket === undefined) {
      session.destroy();
      return;
    }
    const state: SessionState = { socket, streams: 0 };
    this.#sessions.set(session, state);
    session.once('close', () => this.#sessions.delete(session));
    session.setTimeout(this.#options.keepAliveTimeoutMs, () => {
      if (state.streams === 0) session.close();
    });
    if (this.#closing) session.close();
  }

  #onStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, rawHeaders: readonly string[]): void {
    const state = this.#sessions.get(stream.session as ServerHttp2Session);
    if (state === undefined) {
      stream.close();
      return;
    }
    state.streams++;
    stream.once('close', () => state.streams--);
    this.#options.onStream(stream, headers, state.socket, rawHeaders);
  }

  /** GOAWAY on every session: no new streams, open ones finish, then each session closes. */
  closeGracefully(): void {
    this.#closing = true;
    for (const session of this.#sessions.keys()) session.close();
  }

  destroyAll(): void {
    for (const session of this.#sessions.keys()) session.destroy();
  }
}
