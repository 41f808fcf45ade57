import { UpstreamError } from './errors.ts';
import { H1Connection, prepareRequest, type ConnectionOwner, type UpstreamHandler, type UpstreamRequest } from './connection.ts';
import { registerTimeouts } from './sweeper.ts';

/**
 * The keep-alive connections to one upstream (`host:port`, plain or TLS): a request takes the most recently used idle
 * connection or opens a new one, so concurrency is never capped; after its response a connection goes back to the
 * idle list when it may be reused and the list holds fewer than `maxIdle` (nginx's `keepalive N`), else it closes.
 * Idle connections close after `keepAliveTimeoutMs`, or sooner when the upstream's `Keep-Alive: timeout=N` says so
 * (N - 1 s, so berth closes first and never reuses a connection the upstream is about to drop).
 */

export interface H1PoolOptions {
  readonly host: string;
  readonly port: number;
  /** TLS without certificate verification, nginx's proxy_ssl defaults. */
  readonly tls: boolean;
  readonly connectTimeoutMs: number;
  /** Max silence from the upstream, before the response head and between body chunks. */
  readonly upstreamTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  /** Idle connections kept at most (nginx `keepalive N`); unlimited when absent. */
  readonly maxIdle?: number;
}

export class H1Pool implements ConnectionOwner {
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  readonly connectTimeoutMs: number;
  readonly upstreamTimeoutMs: number;
  readonly #keepAliveTimeoutMs: number;
  readonly #maxIdle: number;
  /** Idle connections, most recently used last. */
  readonly #idle: H1Connection[] = [];
  readonly #all = new Set<H1Connection>();
  #closing = false;
  #drained: (() => void) | undefined;
  #closedPromise: Promise<void> | undefined;

  constructor(options: H1PoolOptions) {
    this.host = options.host;
    this.port = options.port;
    this.tls = options.tls;
    this.connectTimeoutMs = options.connectTimeoutMs;
    this.upstreamTimeoutMs = options.upstreamTimeoutMs;
    this.#keepAliveTimeoutMs = options.keepAliveTimeoutMs;
    this.#maxIdle = options.maxIdle ?? Number.POSITIVE_INFINITY;
    registerTimeouts(options.connectTimeoutMs, options.upstreamTimeoutMs, options.keepAliveTimeoutMs);
  }

  /** Open connections (idle or busy). */
  get connections(): number {
    return this.#all.size;
  }

  get idle(): number {
    return this.#idle.length;
  }

  dispatch(request: UpstreamRequest, handler: UpstreamHandler): void {
    const prepared = this.#closing ? new UpstreamError('UPSTREAM_POOL_CLOSED', `pool for ${this.host}:${this.port} is closed`) : prepareRequest(request);
    if (prepared instanceof UpstreamError) {
      // Refused before any connection is taken (none is opened or spent); reported after dispatch returns.
      handler.onConnect(() => undefined);
      process.nextTick(() => handler.onError(prepared));
      return;
    }
    let conn = this.#idle.pop();
    while (conn !== undefined && conn.closed) conn = this.#idle.pop();
    if (conn === undefined) {
      conn = new H1Connection(this);
      this.#all.add(conn);
    }
    conn.dispatch(request, prepared, handler);
  }

  release(conn: H1Connection, reusable: boolean, keepAliveHintMs: number | undefined): boolean {
    if (!reusable || this.#closing || this.#idle.length >= this.#maxIdle || this.idleTimeoutMs(keepAliveHintMs) <= 0) return false;
    this.#idle.push(conn);
    return true;
  }

  idleTimeoutMs(keepAliveHintMs: number | undefined): number {
    return keepAliveHintMs === undefined ? this.#keepAliveTimeoutMs : Math.min(this.#keepAliveTimeoutMs, keepAliveHintMs - 1000);
  }

  closed(conn: H1Connection): void {
    this.#all.delete(conn);
    const at = this.#idle.lastIndexOf(conn);
    if (at !== -1) this.#idle.splice(at, 1);
    if (this.#all.size === 0) this.#drained?.();
  }

  staleSeen(): void {
    // An upstream restart or idle timeout closes every idle connection at once: the retry must not take another.
    for (const conn of this.#idle.splice(0)) conn.destroy();
  }

  /** Stop taking requests; idle connections close now, busy ones after their response. */
  close(): Promise<void> {
    this.#closing = true;
    for (const conn of this.#idle.splice(0)) conn.destroy();
    if (this.#all.size === 0) return Promise.resolve();
    this.#closedPromise ??= new Promise((resolve) => {
      this.#drained = resolve;
    });
    return this.#closedPromise;
  }

  /** Close every connection now; running exchanges fail with UPSTREAM_CLOSED. */
  destroy(): Promise<void> {
    this.#closing = true;
    for (const conn of [...this.#all]) conn.destroy();
    return Promise.resolve();
  }
}
