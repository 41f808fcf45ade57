/**
 * The contract between discovery and the data planes: plain, readonly, serialisable data.
 * A RoutingTable is always a whole snapshot; data planes never receive patches.
 * Everything is sorted by the builder so that equal inputs give deep-equal tables.
 */

/** Docker HEALTHCHECK state of a container; `none` when the image declares no HEALTHCHECK. */
export type HealthState = 'none' | 'starting' | 'healthy' | 'unhealthy';

/** How the data plane speaks to the backend. Issue-2 scope is `http`; the type grows with the contract. */
export type UpstreamProto = 'http';

/**
 * How a container without a Docker HEALTHCHECK proves it is ready. TCP connect by default; an HTTP probe when the
 * container declares one with `berth.readiness.*` labels.
 */
export type ReadinessProbe =
  | { readonly kind: 'tcp'; readonly intervalMs: number; readonly timeoutMs: number }
  | {
      readonly kind: 'http';
      readonly path: string;
      readonly intervalMs: number;
      readonly timeoutMs: number;
      /** Inclusive range of statuses that count as ready. */
      readonly expectStatus: readonly [number, number];
    };

/** One backend address: one container, one address, one port. */
export interface Upstream {
  readonly containerId: string;
  /** Container name without Docker's leading slash. */
  readonly containerName: string;
  /** IPv4 or IPv6 literal, never bracketed. */
  readonly address: string;
  readonly port: number;
  /** Name of the Docker network the address belongs to (`host` for host-network containers). */
  readonly network: string;
  readonly health: HealthState;
  /**
   * The container was sent a stop signal (`kill` event: docker stop, compose, Swarm) and has not died yet: it gets
   * no new requests, requests in flight finish.
   */
  readonly draining: boolean;
  /** Readiness probe for containers without a HEALTHCHECK (`health === 'none'`). */
  readonly probe: ReadinessProbe;
}

/** A location under a virtual host. */
export interface Route {
  /** URL path prefix, `/` by default. */
  readonly path: string;
  readonly proto: UpstreamProto;
  /**
   * Backends sorted by container name then id. May be empty: the host is known (a container claims it) but no
   * container of it is reachable; data planes answer 502 for it, as nginx-proxy does.
   */
  readonly upstreams: readonly Upstream[];
}

export interface VirtualHost {
  /** Lower-cased host name as configured (`VIRTUAL_HOST` item). */
  readonly hostname: string;
  /** Sorted by path. */
  readonly routes: readonly Route[];
}

/** Stable codes for why a container (or one of its settings) was not routed. Documented in the README. */
export type ContainerIssueCode =
  | 'ERR_VIRTUAL_HOST_INVALID'
  | 'ERR_VIRTUAL_PORT_INVALID'
  | 'ERR_READINESS_LABEL_INVALID'
  | 'ERR_NO_REACHABLE_NETWORK';

/** A container berth saw but could not (fully) route, with the setting at fault. */
export interface ContainerIssue {
  readonly code: ContainerIssueCode;
  readonly containerId: string;
  readonly containerName: string;
  /** The setting at fault, e.g. `VIRTUAL_HOST`, or `network` for reachability. */
  readonly setting: string;
  readonly value: string;
  readonly message: string;
}

export interface RoutingTable {
  /** Sorted by hostname. */
  readonly hosts: readonly VirtualHost[];
  /** Containers skipped (wholly or partly), sorted by container name then code. */
  readonly issues: readonly ContainerIssue[];
}

export const EMPTY_TABLE: RoutingTable = Object.freeze({ hosts: [], issues: [] });
