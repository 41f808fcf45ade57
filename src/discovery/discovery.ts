import type { Logger } from '../logger.ts';
import type { RoutingTable } from '../routing-table.ts';
import { buildRoutingTable, type BuildOptions } from './build-routing-table.ts';
import { createDebouncer, type Timers } from './debounce.ts';
import type { ContainerInfo, ProxyPlacement } from './container-info.ts';
import { describeEngineError, type ContainerFilters, type DockerEngine, type EngineEvent, type EventSubscription } from './docker-engine.ts';

/**
 * Signals that stop a container (docker stop sends the image's StopSignal, usually TERM; QUIT for nginx images; KILL
 * after the grace period). HUP, USR1 and the like are sent to running apps to reload and must not drain them.
 */
const STOP_SIGNALS = new Set(['2', '3', '9', '15', 'SIGINT', 'SIGQUIT', 'SIGKILL', 'SIGTERM', 'INT', 'QUIT', 'KILL', 'TERM']);

export function isStopSignal(signal: string | undefined): boolean {
  return signal !== undefined && STOP_SIGNALS.has(signal.toUpperCase());
}

export interface DiscoveryOptions {
  readonly engine: DockerEngine;
  readonly logger: Logger;
  readonly debounceMinMs: number;
  readonly debounceMaxMs: number;
  readonly resyncIntervalMs: number;
  /** Separate-containers mode: the nginx container carrying this label decides which networks are reachable. */
  readonly nginxContainerLabel?: string;
  /** Opt-in nip.io names for containers labelled berth.expose=true (see buildRoutingTable). */
  readonly nipIoHostIp?: string;
  /** The data plane the tables are for (config.mode): `node` reports what the Node data plane cannot do. */
  readonly plane?: 'node' | 'nginx';
  /** PREFER_IPV6_NETWORK (config.preferIpv6Network). */
  readonly preferIpv6?: boolean;
  /** DOCKER_CONTAINER_FILTERS (config.containerFilters): extra list filters, ANDed with status=running. */
  readonly containerFilters?: ContainerFilters;
  /** Reconnect backoff bounds while the engine is away. */
  readonly reconnectMinMs?: number;
  readonly reconnectMaxMs?: number;
  readonly timers?: Timers;
}

export interface Discovery {
  /**
   * Whole RoutingTable snapshots, latest wins: a slow consumer skips intermediate tables. The first one is yielded
   * only after the first complete listing succeeded; an unchanged table is never yielded twice.
   */
  tables(): AsyncGenerator<RoutingTable>;
  /** Relists now and resolves with the table (used by one-shot commands such as `berth render`). */
  snapshot(): Promise<RoutingTable>;
  /** The containers and placement the last table was built from (for `berth explain`), once listed. */
  current(): { readonly containers: readonly ContainerInfo[]; readonly placement: ProxyPlacement | null } | undefined;
  stop(): void;
}

/**
 * list + events -> debounce -> relist -> build. Events are only triggers: the event reader never waits for a relist,
 * it marks the state dirty. When the engine goes away berth keeps the last table (the data plane keeps serving it),
 * retries with backoff, and relists once the engine is back.
 */
export function createDiscovery(opts: DiscoveryOptions): Discovery {
  const log = opts.logger.child({ module: 'discovery' });
  const minBackoff = opts.reconnectMinMs ?? 250;
  const maxBackoff = opts.reconnectMaxMs ?? 2000;
  let stopped = false;
  let latest: RoutingTable | undefined;
  let latestKey = '';
  let wake: (() => void) | undefined;
  let subscription: EventSubscription | undefined;
  let connected = false;
  let relisting = false;
  let relistAgain = false;
  let resyncTimer: NodeJS.Timeout | undefined;
  let reconnectTimer: NodeJS.Timeout | undefined;
  let backoff = minBackoff;

  // Containers sent a stop signal and not dead yet: they drain (no new requests) from the kill event on.
  const stopping = new Set<string>();
  const buildOptions: BuildOptions = {
    ...(opts.nipIoHostIp === undefined ? {} : { nipIoHostIp: opts.nipIoHostIp }),
    ...(opts.plane === undefined ? {} : { plane: opts.plane }),
    ...(opts.preferIpv6 === undefined ? {} : { preferIpv6: opts.preferIpv6 }),
  };
  let lastListing: { containers: ContainerInfo[]; placement: ProxyPlacement | null } | undefined;

  /** The last listing, with the containers seen stopping marked so. */
  function current(): { containers: ContainerInfo[]; placement: ProxyPlacement | null } | undefined {
    if (lastListing === undefined) return undefined;
    const containers = lastListing.containers.map((c) => (stopping.has(c.id) ? { ...c, stopping: true } : c));
    return { containers, placement: lastListing.placement };
  }

  function fromListing(): RoutingTable {
    const listing = current() as NonNullable<ReturnType<typeof current>>;
    return buildRoutingTable(listing.containers, listing.placement, buildOptions);
  }

  async function build(): Promise<RoutingTable> {
    const [containers, placement] = await Promise.all([
      opts.engine.listRunning(opts.containerFilters),
      opts.engine.placement(opts.nginxContainerLabel),
    ]);
    const running = new Set(containers.map((c) => c.id));
    for (const id of stopping) if (!running.has(id)) stopping.delete(id);
    lastListing = { containers, placement };
    return fromListing();
  }

  function onEvent(e: EngineEvent): void {
    if (e.type === 'container' && e.action === 'kill' && isStopSignal(e.signal)) {
      stopping.add(e.id);
      // Draining must not wait for the debounce: requests sent meanwhile would hit a closing listener.
      if (lastListing !== undefined) publish(fromListing());
    } else if (e.type === 'container' && (e.action === 'die' || e.action === 'destroy' || e.action === 'start')) {
      stopping.delete(e.id);
    }
    debouncer.trigger();
  }

  function publish(table: RoutingTable): void {
    const key = JSON.stringify(table);
    if (key === latestKey) return;
    latestKey = key;
    latest = table;
    wake?.();
  }

  async function relist(): Promise<void> {
    if (stopped) return;
    if (relisting) {
      relistAgain = true;
      return;
    }
    relisting = true;
    try {
      do {
        relistAgain = false;
        publish(await build());
      } while (relistAgain && !stopped);
    } catch (err) {
      lost(err);
    } finally {
      relisting = false;
    }
  }

  const debouncer = createDebouncer(() => void relist(), opts.debounceMinMs, opts.debounceMaxMs, opts.timers);

  function lost(err: unknown): void {
    if (stopped) return;
    if (connected) {
      log.warn({ code: 'ERR_DOCKER_UNAVAILABLE', err: describeEngineError(err) }, 'lost the Docker engine; serving the last routing table and retrying');
    }
    connected = false;
    subscription?.close();
    subscription = undefined;
    scheduleReconnect();
  }

  function scheduleReconnect(): void {
    if (stopped || reconnectTimer !== undefined) return;
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined;
      void connect();
    }, backoff);
    backoff = Math.min(backoff * 2, maxBackoff);
  }

  async function connect(): Promise<void> {
    if (stopped) return;
    try {
      // Subscribe before listing, so nothing that happens between the two is missed (docker-gen #57).
      subscription = await opts.engine.subscribe(onEvent, (err) => lost(err));
      const wasKnown = latest !== undefined;
      connected = true;
      backoff = minBackoff;
      publish(await build());
      if (wasKnown) log.info('Docker engine is back; routing table resynced');
    } catch (err) {
      if (latest === undefined && backoff === minBackoff) {
        log.warn({ code: 'ERR_DOCKER_UNAVAILABLE', err: describeEngineError(err) }, 'cannot reach the Docker engine yet; retrying');
      }
      connected = false;
      subscription?.close();
      subscription = undefined;
      scheduleReconnect();
    }
  }

  return {
    async *tables() {
      void connect();
      resyncTimer = setInterval(() => {
        if (connected) void relist();
      }, opts.resyncIntervalMs);
      resyncTimer.unref();
      let delivered: RoutingTable | undefined;
      while (!stopped) {
        if (latest !== undefined && latest !== delivered) {
          delivered = latest;
          yield latest;
          continue;
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
    },
    snapshot: build,
    current,
    stop() {
      stopped = true;
      debouncer.cancel();
      subscription?.close();
      if (resyncTimer) clearInterval(resyncTimer);
      if (reconnectTimer) clearTimeout(reconnectTimer);
      wake?.();
    },
  };
}
