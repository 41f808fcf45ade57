import { connect, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import { tlsHandshakeError } from './h1/errors.ts';

/**
 * Protocol-switch (WebSocket) tunnels: a raw TCP connection to the upstream (TLS for `https` routes, set up as the
 * HTTP/1 client does it: nginx's proxy_ssl defaults, no certificate check, no SNI for the IP addresses berth dials,
 * ALPN http/1.1 only), the rewritten request head written on it, then bytes piped both ways; the upstream's `101`
 * (or any other answer) goes back to the client untouched. Until the upstream has answered, time is bounded
 * (connect timeout, covering the TLS handshake, then answer timeout) and a failure is reported to `onFailure` while
 * nothing has been written to the client yet, so the caller can still answer 502/504; a failed TLS handshake is
 * reported as UPSTREAM_TLS_HANDSHAKE (tlsHandshakeError: nothing was sent, another upstream may be tried). After the
 * switch there is no idle timeout (WebSockets may be silent for hours) but TCP keep-alive is on, and the two sockets
 * live and die together. Table changes do not touch tunnels; a tunnel whose upstream starts draining (its container
 * got its stop signal) is given a grace period, then closed (`drain`).
 */

export interface TunnelSettings {
  readonly connectTimeoutMs: number;
  /** Max wait for the upstream's first byte once connected. */
  readonly answerTimeoutMs: number;
}

export interface TunnelRequest {
  readonly client: Duplex;
  /** Bytes the client sent after its request head (already read by node:http). */
  readonly head: Buffer;
  readonly address: string;
  readonly port: number;
  /** Speak TLS to the upstream (an `https` route). */
  readonly tls: boolean;
  /** upstreamKey of the backend (draining is decided per key). */
  readonly upstream: string;
  /** Serialised request head for the upstream. */
  readonly requestHead: string;
  /** Called at most once, only if the upstream failed before any byte reached the client. */
  readonly onFailure: (err: Error) => void;
}

/**
 * No connection (TCP, and TLS handshake for https) within the connect timeout: UPSTREAM_CONNECT_TIMEOUT, nothing was
 * sent, retried like an HTTP request's connect timeout; no answer within the answer timeout: ETIMEDOUT (the
 * backend may be working on it: never retried). Both are a 504.
 */
export class TunnelTimeoutError extends Error {
  readonly code: 'UPSTREAM_CONNECT_TIMEOUT' | 'ETIMEDOUT';
  constructor(what: 'connect' | 'answer') {
    super(`upstream ${what} timed out`);
    this.name = 'TunnelTimeoutError';
    this.code = what === 'connect' ? 'UPSTREAM_CONNECT_TIMEOUT' : 'ETIMEDOUT';
  }
}

/** One client socket and its upstream socket, living and dying together. */
class Tunnel {
  readonly #request: TunnelRequest;
  readonly #settings: TunnelSettings;
  readonly #onEnd: (t: Tunnel) => void;
  readonly upstream: Socket;
  /** Set while the backend drains: the tunnel is closed when it fires. */
  drainTimer: NodeJS.Timeout | undefined;
  #timer: NodeJS.Timeout | undefined;
  #answered = false;
  #failed = false;
  /** TCP connected, TLS handshake not done yet: a failure now is a handshake failure. */
  #handshaking = false;

  constructor(request: TunnelRequest, settings: TunnelSettings, onEnd: (t: Tunnel) => void) {
    this.#request = request;
    this.#settings = settings;
    this.#onEnd = onEnd;
    const { client } = request;
    // node:http armed the server's idle timeout on this socket; the tunnel has its own rules.
    if (client instanceof Socket) client.setTimeout(0);
    const options = { host: request.address, port: request.port };
    if (request.tls) {
      // tls.connect ignores the `noDelay` option (Node 20): set it on the socket, as the HTTP/1 client does.
      this.upstream = tlsConnect({ ...options, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }).setNoDelay(true);
      this.upstream.once('connect', () => (this.#handshaking = true));
      this.upstream.once('secureConnect', () => this.#onConnect());
    } else {
      this.upstream = connect({ ...options, noDelay: true });
      this.upstream.once('connect', () => this.#onConnect());
    }
    this.#arm(new TunnelTimeoutError('connect'), settings.connectTimeoutMs);
    // upstream -> client is piped only once the upstream answered: before that, its end must not end the client,
    // which still has to receive the 502/504.
    this.upstream.once('data', (chunk: Buffer) => this.#onAnswer(chunk));
    this.upstream.on('error', (err) => this.#fail(this.#connectPhaseError(err)));
    this.upstream.once('close', () => {
      if (this.#answered) this.destroy();
      else this.#fail(this.#connectPhaseError(new Error('upstream closed the connection before answering')));
    });
    client.on('error', this.#onClientGone);
    client.once('close', this.#onClientGone);
  }

  readonly #onClientGone = (): void => this.destroy();

  get client(): Duplex {
    return this.#request.client;
  }

  get key(): string {
    return this.#request.upstream;
  }

  #arm(timeout: Error | undefined, ms = 0): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = timeout === undefined ? undefined : setTimeout(() => this.#fail(timeout), ms);
  }

  #connectPhaseError(err: Error): Error {
    return this.#handshaking ? tlsHandshakeError(this.#request.address, this.#request.port, err) : err;
  }

  #onConnect(): void {
    this.#handshaking = false;
    const { client, requestHead, head } = this.#request;
    this.#arm(new TunnelTimeoutError('answer'), this.#settings.answerTimeoutMs);
    this.upstream.setKeepAlive(true, KEEPALIVE_DELAY_MS);
    if (client instanceof Socket) client.setKeepAlive(true, KEEPALIVE_DELAY_MS);
    this.upstream.write(requestHead);
    if (head.length > 0) this.upstream.write(head);
    client.pipe(this.upstream);
  }

  #onAnswer(chunk: Buffer): void {
    this.#answered = true;
    this.#arm(undefined); // switched (or answered): no idle timeout from here on, TCP keep-alive only
    this.client.write(chunk);
    this.upstream.pipe(this.client);
  }

  #fail(err: Error): void {
    if (this.#failed) return;
    this.#failed = true;
    if (this.#answered) {
      this.destroy();
      return;
    }
    this.#arm(undefined);
    clearTimeout(this.drainTimer);
    this.upstream.destroy();
    // The client socket outlives this attempt (a retry on another upstream, or the error answer).
    this.client.off('error', this.#onClientGone);
    this.client.off('close', this.#onClientGone);
    this.#onEnd(this);
    this.#request.onFailure(err); // nothing reached the client yet: the caller answers on it, then it closes
  }

  destroy(): void {
    this.#arm(undefined);
    clearTimeout(this.drainTimer);
    this.upstream.destroy();
    this.client.destroy();
    this.#onEnd(this);
  }
}

const KEEPALIVE_DELAY_MS = 30_000;

export class Tunnels {
  readonly #open = new Set<Tunnel>();
  readonly #settings: TunnelSettings;
  readonly #forget = (t: Tunnel): void => {
    this.#open.delete(t);
  };

  constructor(settings: TunnelSettings) {
    this.#settings = settings;
  }

  /** Tunnels (including those still connecting). */
  get size(): number {
    return this.#open.size;
  }

  open(request: TunnelRequest): void {
    this.#open.add(new Tunnel(request, this.#settings, this.#forget));
  }

  /**
   * Called when readiness or the table changed. Tunnels to a `draining` upstream get `graceMs`, then both sockets
   * are closed (`onClose` logs it); a countdown stops if its upstream is back `serving`. Tunnels to upstreams that
   * left the table are not touched: their sockets end with the container.
   */
  drain(status: (key: string) => 'draining' | 'serving' | 'absent', graceMs: number, onClose: (key: string) => void): void {
    for (const t of this.#open) {
      const s = status(t.key);
      if (s === 'draining' && t.drainTimer === undefined) {
        t.drainTimer = setTimeout(() => {
          onClose(t.key);
          t.destroy();
        }, graceMs);
      } else if (s === 'serving' && t.drainTimer !== undefined) {
        clearTimeout(t.drainTimer);
        t.drainTimer = undefined;
      }
    }
  }

  /** Destroy every tunnel (stop: the grace period is over). */
  destroyAll(): void {
    for (const t of [...this.#open]) t.destroy();
    this.#open.clear();
  }
}
