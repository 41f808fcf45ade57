import { connect, type ClientHttp2Session } from 'node:http2';
import type { Upstream } from '../routing-table.ts';
import { upstreamKey } from './upstream-pools.ts';

/**
 * HTTP/2 client sessions to gRPC backends (VIRTUAL_PROTO grpc: cleartext h2 with prior knowledge; grpcs: TLS, the
 * certificate not verified and no SNI, as nginx's grpc_pass does by default). One session per backend and scheme,
 * multiplexing every stream; a session that receives GOAWAY, errors or closes is forgotten at once and the next
 * stream opens a new one, while its streams in flight finish on it. Sessions idle for `idleTimeoutMs`, or whose
 * backend left the table, are closed gracefully.
 */

export interface H2UpstreamSettings {
  readonly connectTimeoutMs: number;
  /** An idle session (no stream) is closed after this. */
  readonly idleTimeoutMs?: number;
}

interface Entry {
  readonly session: ClientHttp2Session;
  readonly ready: Promise<ClientHttp2Session>;
  readonly backend: string;
  streams: number;
}

export class H2Upstreams {
  readonly #settings: H2UpstreamSettings;
  readonly #entries = new Map<string, Entry>();
  /** Every session not closed yet, current or retired (stop closes them all). */
  readonly #all = new Set<ClientHttp2Session>();
  readonly #bySession = new WeakMap<ClientHttp2Session, Entry>();

  constructor(settings: H2UpstreamSettings) {
    this.#settings = settings;
  }

  get size(): number {
    return this.#all.size;
  }

  /** A connected session to the backend; rejects with the connect error (code ECONNREFUSED, ETIMEDOUT, ...). */
  session(upstream: Upstream, tls: boolean): Promise<ClientHttp2Session> {
    const backend = upstreamKey(upstream);
    const key = `${tls ? 'https' : 'http'}://${backend}`;
    const entry = this.#entries.get(key);
    if (entry !== undefined && !entry.session.closed && !entry.session.destroyed) return entry.ready;
    return this.#open(key, backend, tls).ready;
  }

  /** Counts a stream on a session, for idle closing. */
  track(session: ClientHttp2Session, stream: { once(event: 'close', listener: () => void): unknown }): void {
    const entry = this.#bySession.get(session);
    if (entry === undefined) return;
    entry.streams++;
    stream.once('close', () => entry.streams--);
  }

  #open(key: string, backend: string, tls: boolean): Entry {
    const session = connect(key, { settings: { enablePush: false }, ...(tls ? { rejectUnauthorized: false } : {}) });
    this.#all.add(session);
    const forget = (): void => {
      if (this.#entries.get(key)?.session === session) this.#entries.delete(key);
    };
    session.on('error', forget); // errors end in 'close'; a failed connect rejects `ready` below
    session.on('goaway', forget);
    session.once('close', () => {
      forget();
      this.#all.delete(session);
    });
    const ready = new Promise<ClientHttp2Session>((resolve, reject) => {
      const timer = setTimeout(() => {
        session.destroy(Object.assign(new Error(`connect to ${backend} timed out`), { code: 'ETIMEDOUT' }));
      }, this.#settings.connectTimeoutMs);
      session.once('connect', () => {
        clearTimeout(timer);
        resolve(session);
      });
      session.once('close', () => {
        clearTimeout(timer);
        reject(Object.assign(new Error(`connection to ${backend} closed`), { code: 'ECONNRESET' }));
      });
      session.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    ready.catch(() => undefined); // the caller of session() handles it; other waiters may be gone
    const entry: Entry = { session, ready, backend, streams: 0 };
    this.#entries.set(key, entry);
    this.#bySession.set(session, entry);
    session.setTimeout(this.#settings.idleTimeoutMs ?? 60_000, () => {
      if (entry.streams === 0) session.close();
    });
    return entry;
  }

  /** Closes, gracefully, the sessions to backends not in `backends` (upstreamKey values). */
  retain(backends: ReadonlySet<string>): void {
    for (const [key, entry] of this.#entries) {
      if (backends.has(entry.backend)) continue;
      this.#entries.delete(key);
      entry.session.close();
    }
  }

  /** Closes every session: gracefully (streams in flight finish), or destroyed when `force`. */
  async close(force: boolean): Promise<void> {
    this.#entries.clear();
    const sessions = [...this.#all];
    await Promise.all(
      sessions.map(
        (s) =>
          new Promise<void>((resolve) => {
            if (s.destroyed) return resolve();
            s.once('close', () => resolve());
            if (force) s.destroy();
            else s.close();
          }),
      ),
    );
  }
}
