import type { Logger } from '../logger.ts';
import type { RoutingTable, Upstream } from '../routing-table.ts';
import { probeBackend, type ProbeFn } from './probes.ts';

/**
 * Which backends may receive new requests. Shared by both data planes and by `berth routes`.
 *
 * - draining (stop signal seen) -> `draining`: no new requests.
 * - Docker HEALTHCHECK: `healthy` -> ready; `starting` / `unhealthy` as reported.
 * - No HEALTHCHECK: the readiness probe (TCP connect, or the HTTP probe of the berth.readiness.* labels) decides:
 *   `starting` until it first passes, `unhealthy` after FAILS_TO_LEAVE consecutive failures, ready when it passes again.
 * - Passive health: CIRCUIT_FAILURES consecutive connection failures reported by the data plane open a circuit: the
 *   backend is `unhealthy` for circuitOpenMs, then the probe (or the HEALTHCHECK) decides again.
 * Probe state is kept per target (address, port, probe) across table generations, so a new table never sends a
 * ready backend back to `starting`; targets that leave the table are cancelled.
 */
export type BackendState = 'ready' | 'starting' | 'draining' | 'unhealthy';

export interface ReadinessOptions {
  readonly logger: Logger;
  /** `ready` (default): admit only ready backends. `start`: nginx-proxy's behaviour, admit at start. */
  readonly admission: 'ready' | 'start';
  /** Stop sending new requests at the kill event (default true); false: only when the container is gone. */
  readonly drain: boolean;
  readonly circuitOpenMs?: number;
  readonly probe?: ProbeFn;
}

// Probe often while a backend is starting: a TCP connect to a local address is cheap, and admission latency is
// what a deploy waits for (target: ready -> first routed request under 100 ms).
const STARTING_PROBE_MS = 50;
const FAILS_TO_LEAVE = 2;
const CIRCUIT_FAILURES = 3;

interface Target {
  readonly key: string;
  /** The backend as the latest table describes it (draining included). */
  upstream: Upstream;
  passedOnce: boolean;
  failures: number;
  connectFailures: number;
  circuitOpenUntil: number;
  timer: NodeJS.Timeout | undefined;
  inFlight: boolean;
  cancelled: boolean;
}

// Upstream objects are immutable and shared by every request of a table generation: computing the key (which
// serialises the probe) once per object keeps `isReady` cheap on the request path.
const keys = new WeakMap<Upstream, string>();

export function targetKey(u: Upstream): string {
  let key = keys.get(u);
  if (key === undefined) {
    key = `${u.containerId}|${u.address}|${u.port}|${JSON.stringify(u.probe)}`;
    keys.set(u, key);
  }
  return key;
}

export class ReadinessTracker {
  private readonly targets = new Map<string, Target>();
  private readonly listeners = new Set<() => void>();
  private readonly log: Logger;
  private readonly probe: ProbeFn;
  private readonly circuitOpenMs: number;

  constructor(private readonly options: ReadinessOptions) {
    this.log = options.logger.child({ module: 'readiness' });
    this.probe = options.probe ?? probeBackend;
    this.circuitOpenMs = options.circuitOpenMs ?? 5000;
  }

  /** Reconciles probes with a new table: new targets start probing at once, vanished ones are cancelled. */
  update(table: RoutingTable): void {
    const wanted = new Map<string, Upstream>();
    for (const host of table.hosts) for (const route of host.routes) for (const u of route.upstreams) wanted.set(targetKey(u), u);
    for (const [key, target] of this.targets) {
      if (!wanted.has(key)) this.cancel(target);
    }
    for (const [key, u] of wanted) {
      const known = this.targets.get(key);
      if (known !== undefined) {
        known.upstream = u;
        continue;
      }
      const target: Target = { key, upstream: u, passedOnce: false, failures: 0, connectFailures: 0, circuitOpenUntil: 0, timer: undefined, inFlight: false, cancelled: false };
      this.targets.set(key, target);
      if (this.options.admission === 'ready' && u.health === 'none') void this.runProbe(target);
    }
    this.notify();
  }

  state(u: Upstream): BackendState {
    if (u.draining && this.options.drain) return 'draining';
    if (this.options.admission === 'start') return 'ready';
    const t = this.targets.get(targetKey(u));
    if (t !== undefined && t.circuitOpenUntil > Date.now()) return 'unhealthy';
    if (u.health === 'healthy') return 'ready';
    if (u.health === 'starting' || u.health === 'unhealthy') return u.health;
    if (t === undefined || !t.passedOnce) return 'starting';
    return t.failures >= FAILS_TO_LEAVE ? 'unhealthy' : 'ready';
  }

  /**
   * Whether the backend `u` names is ready in the LATEST table: a request that captured `u` earlier learns that the
   * container has since started draining, or left the table (then false).
   */
  isReadyNow(u: Upstream): boolean {
    const t = this.targets.get(targetKey(u));
    return t !== undefined && this.isReady(t.upstream);
  }

  isReady(u: Upstream): boolean {
    return this.state(u) === 'ready';
  }

  /** Called on every readiness change (probe result flips, circuit opens or closes, new table). */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The data plane reports connection-level failures (refused, reset before a response) and successes. */
  reportConnectFailure(u: Upstream): void {
    const t = this.targets.get(targetKey(u));
    if (t === undefined || this.options.admission === 'start') return;
    t.connectFailures++;
    if (t.connectFailures < CIRCUIT_FAILURES || t.circuitOpenUntil > Date.now()) return;
    t.circuitOpenUntil = Date.now() + this.circuitOpenMs;
    this.log.warn({ container: u.containerName, upstream: `${u.address}:${u.port}`, failures: t.connectFailures, openMs: this.circuitOpenMs }, 'backend taken out of rotation after repeated connection failures');
    this.notify();
    const reopen = setTimeout(() => {
      if (t.cancelled) return;
      t.connectFailures = 0;
      t.circuitOpenUntil = 0;
      this.log.info({ container: u.containerName, upstream: `${u.address}:${u.port}` }, 'backend back in rotation after its circuit-breaker pause');
      if (u.health === 'none') {
        t.passedOnce = false; // the probe must pass again before new requests go there
        this.schedule(t, 0);
      }
      this.notify();
    }, this.circuitOpenMs);
    reopen.unref();
  }

  reportSuccess(u: Upstream): void {
    const t = this.targets.get(targetKey(u));
    if (t !== undefined) t.connectFailures = 0;
  }

  stop(): void {
    for (const t of this.targets.values()) this.cancel(t);
    this.targets.clear();
    this.listeners.clear();
  }

  private cancel(t: Target): void {
    t.cancelled = true;
    if (t.timer) clearTimeout(t.timer);
    this.targets.delete(t.key);
  }

  private schedule(t: Target, ms: number): void {
    if (t.cancelled) return;
    if (t.timer) clearTimeout(t.timer);
    t.timer = setTimeout(() => void this.runProbe(t), ms);
    t.timer.unref();
  }

  private async runProbe(t: Target): Promise<void> {
    if (t.cancelled || t.inFlight) return;
    t.inFlight = true;
    const u = t.upstream;
    const before = this.state(u);
    const ok = await this.probe(u.address, u.port, u.probe);
    t.inFlight = false;
    if (t.cancelled) return;
    if (ok) {
      t.passedOnce = true;
      t.failures = 0;
    } else if (t.passedOnce) {
      t.failures++;
    }
    const after = this.state(u);
    if (after !== before) {
      const fields = { container: u.containerName, upstream: `${u.address}:${u.port}`, probe: u.probe.kind, state: after };
      if (after === 'unhealthy') this.log.warn(fields, 'backend failed its readiness probe; out of rotation');
      else this.log.info(fields, after === 'ready' ? 'backend ready' : `backend ${after}`);
      this.notify();
    }
    this.schedule(t, t.passedOnce ? u.probe.intervalMs : Math.min(STARTING_PROBE_MS, u.probe.intervalMs));
  }

  private notify(): void {
    for (const l of this.listeners) l();
  }
}
