/**
 * The contract between discovery and the data planes: plain, readonly, serialisable data.
 * A RoutingTable is always a whole snapshot; data planes never receive patches.
 * Everything is sorted by the builder so that equal inputs give deep-equal tables.
 */

/** Docker HEALTHCHECK state of a container; `none` when the image declares no HEALTHCHECK. */
export type HealthState = 'none' | 'starting' | 'healthy' | 'unhealthy';

/**
 * How the data plane speaks to the backend (`VIRTUAL_PROTO`). `uwsgi` and `fastcgi` exist only in the nginx data
 * plane: in the Node data plane the builder reports ERR_SETTING_UNSUPPORTED at the container instead.
 */
export type UpstreamProto = 'http' | 'https' | 'grpc' | 'grpcs' | 'uwsgi' | 'fastcgi';

export const UPSTREAM_PROTOS: readonly UpstreamProto[] = ['http', 'https', 'grpc', 'grpcs', 'uwsgi', 'fastcgi'];

/**
 * `VIRTUAL_PATH` as nginx reads it after `location`: a prefix (`/api/`), a prefix that stops the regex search
 * (`^~ /static/`), an exact match (`= /health`), or a regular expression (`~ ^/(a|b)/`, `~*` case-insensitive).
 * Selection follows nginx: exact match; else the longest prefix; if that prefix is `^~`, it wins; else the first
 * matching regex in table order; else the longest prefix.
 */
export type PathMatch =
  | { readonly kind: 'prefix'; readonly value: string }
  | { readonly kind: 'prefix-no-regex'; readonly value: string }
  | { readonly kind: 'exact'; readonly value: string }
  | { readonly kind: 'regex'; readonly value: string; readonly caseInsensitive: boolean };

/**
 * The `com.github.nginx-proxy.nginx-proxy.loadbalance` label (or `berth.loadbalance`), parsed from the nginx
 * directive it holds. `hash` keys are nginx variables (`$remote_addr`, `$request_uri`, ...); NODE_HASH_KEYS lists the
 * ones the Node data plane evaluates.
 */
export type LoadBalance =
  | { readonly kind: 'round-robin' }
  | { readonly kind: 'least_conn' }
  | { readonly kind: 'ip_hash' }
  | { readonly kind: 'hash'; readonly key: string; readonly consistent: boolean }
  | { readonly kind: 'random'; readonly two: boolean };

/**
 * Hash keys the Node data plane can evaluate: exact variables, and prefixes followed by a name
 * (`$http_x_user`, `$cookie_session`, `$arg_id`). Keys are one or more of these concatenated.
 */
export const NODE_HASH_VARIABLES = ['$remote_addr', '$binary_remote_addr', '$request_uri', '$uri', '$host'] as const;
export const NODE_HASH_VARIABLE_PREFIXES = ['$http_', '$cookie_', '$arg_'] as const;

/** `...keepalive` label: `auto` (2 x servers, nginx-proxy's default), a count of idle connections, or `disabled`. */
export type Keepalive = 'auto' | 'disabled' | number;

export type NetworkAccess = 'external' | 'internal';

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

/**
 * A location under a virtual host: one per distinct `VIRTUAL_PATH` of the host's containers. Every per-path
 * setting below is decided by the conflict rule (the earliest-created container that sets it wins; a
 * WARN_SETTING_CONFLICT issue names the others).
 */
export interface Route {
  /** `VIRTUAL_PATH` as configured, whitespace-normalised (`/`, `/api/`, `~ ^/(a|b)/`, `= /x`); the route's key. */
  readonly path: string;
  readonly match: PathMatch;
  readonly proto: UpstreamProto;
  /** `VIRTUAL_DEST`: replaces the part of the URI the (prefix) location matched, as nginx's proxy_pass URI. '' = none. */
  readonly dest: string;
  /** `NETWORK_ACCESS`: `internal` answers 403 to clients outside loopback and private ranges. */
  readonly networkAccess: NetworkAccess;
  readonly loadBalance: LoadBalance;
  readonly keepalive: Keepalive;
  /**
   * Backends sorted by container name then id. May be empty: the host is known (a container claims it) but no
   * container of it is reachable; data planes answer 502 for it, as nginx-proxy does.
   */
  readonly upstreams: readonly Upstream[];
}

/** How a `VIRTUAL_HOST` item matches, in nginx server_name terms. */
export type HostKind = 'exact' | 'leading-wildcard' | 'trailing-wildcard' | 'regex' | 'ipv4' | 'ipv6';

export interface VirtualHost {
  /**
   * The `VIRTUAL_HOST` item: lower-cased, except a regex (`~...`), which is kept as written. Leading wildcard forms
   * are `*.example.com` and `.example.com` (the latter also matches `example.com`, as in nginx); trailing `www.*`;
   * IPv6 bracketed (`[fd00::1]`).
   */
  readonly hostname: string;
  readonly kind: HostKind;
  /** `EXTERNAL_HTTP_PORT` (or a multiports `external_http_port`): the port this host is served on instead of HTTP_PORT. */
  readonly httpPort: number | undefined;
  /** `SERVER_TOKENS` for this host (nginx's `server_tokens`), undefined when unset. */
  readonly serverTokens: string | undefined;
  /** `VIRTUAL_ROOT`: document root sent to fastcgi backends. Default `/var/www/public`. */
  readonly root: string;
  /** `...debug-endpoint` label: undefined means the proxy-wide DEBUG_ENDPOINT decides. */
  readonly debugEndpoint: boolean | undefined;
  /**
   * Sorted: non-regex paths by path, then regex paths in the order they are matched (sorted by path text, which
   * is nginx-proxy's order too).
   */
  readonly routes: readonly Route[];
}

/** Stable codes for why a container (or one of its settings) was not routed. Documented in the README. */
/**
 * Stable codes for why a container (or one of its settings) was not routed. `ERR_*`: the container (or that
 * host/path of it) is skipped. `WARN_*`: the container is routed, but something it asked for is not applied as
 * written (the message says what was applied instead).
 */
export type ContainerIssueCode =
  | 'ERR_VIRTUAL_HOST_INVALID'
  | 'ERR_VIRTUAL_PORT_INVALID'
  | 'ERR_VIRTUAL_PATH_INVALID'
  | 'ERR_VIRTUAL_DEST_INVALID'
  | 'ERR_VIRTUAL_PROTO_INVALID'
  | 'ERR_MULTIPORTS_INVALID'
  | 'ERR_SETTING_INVALID'
  | 'ERR_SETTING_UNSUPPORTED'
  | 'ERR_READINESS_LABEL_INVALID'
  | 'ERR_NO_REACHABLE_NETWORK'
  | 'WARN_SETTING_CONFLICT'
  | 'WARN_SETTING_IGNORED'
  /** Found by the nginx data plane: a value that cannot be written into nginx config, or that nginx -t rejected. */
  | 'ERR_NGINX_CONFIG_INVALID';

/** A container berth saw but could not (fully) route, with the setting at fault. */
export interface ContainerIssue {
  readonly code: ContainerIssueCode;
  readonly containerId: string;
  readonly containerName: string;
  /**
   * The setting at fault as the user wrote it: `VIRTUAL_HOST`, a label name such as `berth.path`, or `network` for
   * reachability.
   */
  readonly setting: string;
  readonly value: string;
  readonly message: string;
}

/** A data plane's own finding about a container of the table it was given: that host is not served by it. */
export interface PlaneIssue extends ContainerIssue {
  readonly host: string;
}

export interface RoutingTable {
  /** Sorted by hostname. */
  readonly hosts: readonly VirtualHost[];
  /** Containers skipped (wholly or partly), sorted by container name then code. */
  readonly issues: readonly ContainerIssue[];
}

export const EMPTY_TABLE: RoutingTable = Object.freeze({ hosts: [], issues: [] });

export const DEFAULT_VIRTUAL_ROOT = '/var/www/public';

/** The nginx server_name form of a `VIRTUAL_HOST` item (already lower-cased unless a regex). */
export function hostKind(hostname: string): HostKind {
  if (hostname.startsWith('~')) return 'regex';
  if (hostname.startsWith('*.') || hostname.startsWith('.')) return 'leading-wildcard';
  if (hostname.endsWith('.*')) return 'trailing-wildcard';
  if (hostname.startsWith('[')) return 'ipv6';
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(hostname)) return 'ipv4';
  return 'exact';
}

/** A Route with nginx-proxy's defaults for every setting not given (prefix path `/`, http, round robin, keepalive auto). */
export function newRoute(fields: Partial<Route> & { readonly upstreams: readonly Upstream[] }): Route {
  const path = fields.path ?? '/';
  return {
    path,
    match: fields.match ?? { kind: 'prefix', value: path },
    proto: 'http',
    dest: '',
    networkAccess: 'external',
    loadBalance: { kind: 'round-robin' },
    keepalive: 'auto',
    ...fields,
  };
}

/** A VirtualHost with defaults for every per-host setting not given; `kind` derived from the name. */
export function newVirtualHost(fields: Partial<VirtualHost> & { readonly hostname: string; readonly routes: readonly Route[] }): VirtualHost {
  return {
    kind: hostKind(fields.hostname),
    httpPort: undefined,
    serverTokens: undefined,
    root: DEFAULT_VIRTUAL_ROOT,
    debugEndpoint: undefined,
    ...fields,
  };
}
