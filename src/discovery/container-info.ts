import type { HealthState } from '../routing-table.ts';

/** What the builder needs to know about one running container, normalised from `docker inspect`. */
export interface ContainerNetwork {
  readonly name: string;
  readonly ipAddress: string;
  readonly ipv6Address: string;
  readonly gateway: string;
  /**
   * The network was created `--internal` (no route out). Known only for berth's own networks (placement), where it
   * decides which gateway reaches a host-network backend; undefined elsewhere.
   */
  readonly internal?: boolean;
}

export interface ContainerInfo {
  readonly id: string;
  /** Without Docker's leading slash. */
  readonly name: string;
  readonly env: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
  /** Distinct exposed or published TCP ports (image EXPOSE, --expose, -p), ascending. */
  readonly exposedPorts: readonly number[];
  /** Sorted by name. */
  readonly networks: readonly ContainerNetwork[];
  /** HostConfig.NetworkMode: `default`, `bridge`, `host`, `container:<id>`, or a network name. */
  readonly networkMode: string;
  readonly health: HealthState;
  /** A stop signal was seen for this container (kill event) and it has not died or restarted since. */
  readonly stopping: boolean;
  /**
   * When the container was created (ms since the epoch, from inspect `Created`): the conflict rule applies the
   * setting of the earliest-created container. undefined sorts last (then by name).
   */
  readonly created?: number;
}

/**
 * Where berth itself runs, which decides what it can reach: `null` when berth runs on the host (every network is
 * reachable), else the networks of berth's own container (or of the nginx container in separate-containers mode).
 */
export interface ProxyPlacement {
  readonly hostNetwork: boolean;
  /** Sorted by name. */
  readonly networks: readonly ContainerNetwork[];
}

/** Subset of the Engine API's ContainerInspect response that berth reads. */
export interface InspectLike {
  Id: string;
  Name: string;
  Created?: string;
  Config?: { Env?: string[] | null; Labels?: Record<string, string> | null; ExposedPorts?: Record<string, unknown> | null };
  HostConfig?: { NetworkMode?: string };
  NetworkSettings?: {
    Ports?: Record<string, unknown> | null;
    Networks?: Record<string, { IPAddress?: string; GlobalIPv6Address?: string; Gateway?: string }> | null;
  };
  State?: { Health?: { Status?: string } | null };
}

function parseEnv(list: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const item of list) {
    const eq = item.indexOf('=');
    if (eq > 0) env[item.slice(0, eq)] = item.slice(eq + 1);
    else if (eq < 0) env[item] = '';
  }
  return env;
}

function tcpPorts(...maps: Array<Record<string, unknown> | null | undefined>): number[] {
  const ports = new Set<number>();
  for (const map of maps) {
    for (const key of Object.keys(map ?? {})) {
      const m = /^(\d+)(?:\/(\w+))?$/.exec(key);
      if (m && (m[2] ?? 'tcp') === 'tcp') ports.add(Number(m[1]));
    }
  }
  return [...ports].sort((a, b) => a - b);
}

function health(status: string | undefined): HealthState {
  return status === 'starting' || status === 'healthy' || status === 'unhealthy' ? status : 'none';
}

function created(iso: string | undefined): { created?: number } {
  const ms = iso === undefined ? Number.NaN : Date.parse(iso);
  return Number.isFinite(ms) ? { created: ms } : {};
}

export function toContainerInfo(inspect: InspectLike): ContainerInfo {
  const networks = Object.entries(inspect.NetworkSettings?.Networks ?? {})
    .map(([name, n]) => ({
      name,
      ipAddress: n.IPAddress ?? '',
      ipv6Address: n.GlobalIPv6Address ?? '',
      gateway: n.Gateway ?? '',
    }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return {
    id: inspect.Id,
    name: inspect.Name.replace(/^\//, ''),
    env: parseEnv(inspect.Config?.Env ?? []),
    labels: { ...(inspect.Config?.Labels ?? {}) },
    exposedPorts: tcpPorts(inspect.Config?.ExposedPorts, inspect.NetworkSettings?.Ports),
    networks,
    networkMode: inspect.HostConfig?.NetworkMode ?? 'default',
    health: health(inspect.State?.Health?.Status ?? undefined),
    stopping: false,
    ...created(inspect.Created),
  };
}
