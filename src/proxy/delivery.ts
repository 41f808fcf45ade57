import type { Logger } from '../logger.ts';
import type { ReadinessTracker } from '../readiness/index.ts';
import type { Route, Upstream, VirtualHost } from '../routing-table.ts';
import type { InFlight } from './balancers.ts';
import { errorCode, proxyError, upstreamFailure, type ProxyError } from './responses.ts';
import { upstreamKey } from './upstream-pools.ts';
import type { CloseSignal, WaitQueue } from './wait-queue.ts';

/**
 * One request's way to a backend: pick a ready upstream, try it, retry on another one when the failure allows it
 * (see retry-policy.ts), wait (bounded) when no ready upstream is left, answer the client when all of that is over.
 *
 * Final answers, in order: a route error (unknown host, no location, host whose containers are all unreachable) at
 * once; the last upstream failure (502/504) when an attempt failed and no retry was possible, or when after the
 * wait the backend that failed is still deemed ready (broken, not starting or stopping); otherwise, after the wait,
 * 503 + Retry-After: NO_READY_BACKEND, or NO_ROUTE for a host that vanished and did not come back in time.
 */

/** At most this many upstreams are tried for one request. */
export const MAX_TRIES = 3;

/** A backend chosen for a request, with what the attempt needs to know about the route (select.ts fills all of it). */
export interface UpstreamSelection {
  readonly kind: 'upstream';
  readonly upstream: Upstream;
  readonly route?: Route;
  readonly vhost?: VirtualHost;
  /** The request target to send upstream (VIRTUAL_DEST applied); the request's own when absent. */
  readonly target?: string;
}

export type Selection =
  | UpstreamSelection
  | { readonly kind: 'error'; readonly error: ProxyError }
  /** No ready upstream (left) for the route; `vanished`: the host itself just left the table (tombstone). */
  | { readonly kind: 'wait'; readonly vanished: boolean }
  /** Not decided yet (a slow password hash is being checked): select again once `until` settles. */
  | { readonly kind: 'pending'; readonly until: Promise<unknown> };

export type AttemptOutcome =
  /** Nothing more to do: delivered (`delivered`), or the client went away. */
  | { readonly kind: 'done'; readonly delivered: boolean }
  /**
   * Failed before anything reached the client; `retry`: may go to another upstream; `connection`: circuit breaker;
   * `stale`: a reused keep-alive connection the upstream had closed (the same upstream may be tried again, once).
   */
  | { readonly kind: 'failed'; readonly error: Error; readonly retry: boolean; readonly connection: boolean; readonly stale?: boolean };

export interface DeliverySettings {
  readonly waits: WaitQueue;
  readonly readiness: ReadinessTracker;
  readonly log: Logger;
  readonly backendWaitMs: number;
  readonly closing: () => boolean;
  /** Attempts in flight per backend (least_conn, random two): counted from the attempt to its outcome. */
  readonly inFlight?: InFlight;
}

export interface DeliveryRequest {
  /** For logs. */
  readonly host: string;
  /** Resolves the request against the current table, skipping upstreams already tried (keys from upstreamKey). */
  readonly select: (tried: ReadonlySet<string>) => Selection;
  /** Called once per attempt; `done` exactly once, when the attempt is over (for an upgrade: when it closed). */
  readonly attempt: (upstream: Upstream, done: (outcome: AttemptOutcome) => void, selection: UpstreamSelection) => void;
  /** The proxy's own answer (error page); only called once, and only if no attempt reached the client. */
  readonly answer: (error: ProxyError) => void;
  /** `close` here drops the request from the wait queue. */
  readonly closeSignal: CloseSignal;
}

export const WAIT: Selection = Object.freeze({ kind: 'wait', vanished: false });
export const WAIT_VANISHED: Selection = Object.freeze({ kind: 'wait', vanished: true });

export function deliver(settings: DeliverySettings, request: DeliveryRequest): void {
  new Delivery(settings, request).next();
}

class Delivery {
  readonly #s: DeliverySettings;
  readonly #r: DeliveryRequest;
  readonly #tried = new Set<string>();
  #lastError: { readonly error: Error; readonly upstream: string; readonly backend: Upstream } | undefined;
  #deadline: number | undefined;
  #staleRetried = false;

  constructor(settings: DeliverySettings, request: DeliveryRequest) {
    this.#s = settings;
    this.#r = request;
  }

  next(): void {
    const selection = this.#r.select(this.#tried);
    if (!this.#handle(selection)) this.#wait(selection);
  }

  /** True when the request went somewhere (an upstream or an answer), or will (pending). */
  #handle(selection: Selection): boolean {
    if (selection.kind === 'wait') return false;
    if (selection.kind === 'pending') {
      const again = (): void => this.next();
      selection.until.then(again, again);
      return true;
    }
    if (selection.kind === 'error') this.#r.answer(selection.error);
    else this.#try(selection);
    return true;
  }

  #try(selection: UpstreamSelection): void {
    const u = selection.upstream;
    const key = upstreamKey(u);
    this.#tried.add(key);
    this.#s.inFlight?.add(key);
    this.#r.attempt(u, (outcome) => this.#onOutcome(u, key, outcome), selection);
  }

  #onOutcome(u: Upstream, key: string, outcome: AttemptOutcome): void {
    const { readiness, log } = this.#s;
    this.#s.inFlight?.remove(key);
    if (outcome.kind === 'done') {
      if (outcome.delivered) readiness.reportSuccess(u);
      return;
    }
    if (outcome.stale === true && outcome.retry && !this.#staleRetried && !this.#s.closing()) {
      // The backend closed an idle keep-alive connection as berth reused it: not its fault, not a circuit failure.
      // Sent again once, on a new connection to the same backend (or another one, as the balancer picks).
      this.#staleRetried = true;
      this.#tried.delete(key);
      log.debug({ host: this.#r.host, upstream: key }, 'reused keep-alive connection was closed by the upstream; sending again');
      this.next();
      return;
    }
    if (outcome.connection) readiness.reportConnectFailure(u);
    const fields = { host: this.#r.host, upstream: key, code: errorCode(outcome.error), attempt: this.#tried.size };
    if (outcome.retry && this.#tried.size < MAX_TRIES && !this.#s.closing()) {
      log.warn(fields, 'upstream failed before the request was delivered; retrying on another backend');
      this.#lastError = { error: outcome.error, upstream: key, backend: u };
      this.next();
      return;
    }
    log.warn(fields, 'upstream request failed');
    this.#r.answer(upstreamFailure(outcome.error, key));
  }

  #wait(selection: Selection): void {
    const now = Date.now();
    this.#deadline ??= now + this.#s.backendWaitMs;
    if (this.#s.closing() || now >= this.#deadline) {
      this.#giveUp(selection, this.#s.backendWaitMs / 1000);
      return;
    }
    const queued = this.#s.waits.add(
      { retry: () => this.#handle(this.#r.select(this.#tried)), expire: () => this.#expire(selection) },
      this.#deadline,
      this.#r.closeSignal,
    );
    if (!queued) {
      this.#s.log.warn({ host: this.#r.host, waiting: this.#s.waits.size }, 'too many requests waiting for a backend; shedding');
      this.#giveUp(selection, 1);
    }
  }

  /** Last chance at the deadline: an upstream that became ready without an event; else the answer for the wait. */
  #expire(waitedFor: Selection): void {
    const selection = this.#r.select(this.#tried);
    if (selection.kind === 'upstream' || selection.kind === 'pending') this.#handle(selection);
    else this.#giveUp(waitedFor, this.#s.backendWaitMs / 1000);
  }

  #giveUp(selection: Selection, retryAfterS: number): void {
    const last = this.#lastError;
    // A backend that failed and is still deemed ready is broken: say so (502/504). One that failed because it was
    // stopping or starting (it is draining, starting, or gone by now) must not turn into a 502: the request was
    // never delivered, so it gets the same 503 + Retry-After as a request that found no ready backend.
    if (last !== undefined && this.#s.readiness.isReadyNow(last.backend)) {
      this.#r.answer(upstreamFailure(last.error, last.upstream));
      return;
    }
    const host = JSON.stringify(this.#r.host);
    const error =
      selection.kind === 'wait' && selection.vanished
        ? proxyError('NO_ROUTE', `no route for host ${host}`, retryAfterS)
        : proxyError('NO_READY_BACKEND', `no backend ready for host ${host}`, retryAfterS);
    this.#r.answer(error);
  }
}
