import type { ReadinessTracker } from '../readiness/index.ts';
import type { Route, Upstream, VirtualHost } from '../routing-table.ts';
import type { Balancers } from './balancers.ts';
import { debugDocument, type DebugSettings } from './debug-endpoint.ts';
import { absoluteLocation, returnAnswer, type ReturnDirective } from './default-root.ts';
import { WAIT, WAIT_VANISHED, type Selection } from './delivery.ts';
import { normalizeUri, proxyPassUri } from './location-uri.ts';
import { isInternalAddress } from './network-access.ts';
import { localAnswer, proxyError, type ProxyError } from './responses.ts';
import type { RouteIndex, RouteLookup } from './route-index.ts';
import type { Tombstones } from './tombstones.ts';
import { upstreamKey } from './upstream-pools.ts';

/**
 * Route selection for one request, shared by the HTTP/1 handler and the HTTP/2 (gRPC) handler: host and location
 * lookup (route-index.ts), the generated locations (DEFAULT_ROOT, /nginx-proxy-debug, nginx's auto-redirect),
 * NETWORK_ACCESS, readiness and load balancing. Re-run on every attempt and wake-up (delivery.ts), always against
 * the current table.
 *
 * Use: `const r = routedRequest({...})` once per request (undefined: answer 400), then `router.select(r, tried)`
 * as DeliveryRequest.select. An `upstream` selection carries the route, the vhost and the target to send upstream.
 */

/** A request as routing sees it. Strings are byte strings (latin1), as node:http gives them. */
export interface RoutedRequest {
  /** `$host`: lower-case, no port (parseRequestTarget). */
  readonly host: string;
  /** `$request_uri`: origin-form target as received. */
  readonly requestUri: string;
  /** `$uri`: normalised path (location-uri.ts). */
  readonly path: string;
  readonly args: string | undefined;
  /** The path had `%` escapes (VIRTUAL_DEST re-escapes the rest of the path then). */
  readonly quoted: boolean;
  /** The port the connection arrived on (`$server_port`; the listener's port, also with PROXY protocol). */
  readonly listenerPort: number;
  /** From connectionInfo (PROXY protocol source when enabled). */
  readonly clientAddress: string;
  readonly rawHeaders: readonly string[];
  /** Arrived over HTTP/2 (h2c): gRPC routes are served only then. */
  readonly http2: boolean;
}

export interface RoutedRequestFields {
  readonly host: string;
  readonly requestUri: string;
  readonly listenerPort: number;
  readonly clientAddress: string;
  readonly rawHeaders: readonly string[];
  readonly http2: boolean;
}

/** nginx's ngx_http_validate_host: a host with `/`, `\`, NUL or `..` is a 400, not a name to look up. */
const INVALID_HOST = /[/\\\0]|\.\.|\.$/;

/** Normalises the target as nginx does; undefined when nginx would answer 400 (see location-uri.ts). */
export function routedRequest(fields: RoutedRequestFields): RoutedRequest | undefined {
  if (INVALID_HOST.test(fields.host)) return undefined;
  const uri = normalizeUri(fields.requestUri);
  if (uri === undefined) return undefined;
  // Spelled out: an object spread here measured ~10 us a request on Node 20 (V8 slow path), the rest ~1 us.
  return {
    host: fields.host,
    requestUri: fields.requestUri,
    path: uri.path,
    args: uri.args,
    quoted: uri.quoted,
    listenerPort: fields.listenerPort,
    clientAddress: fields.clientAddress,
    rawHeaders: fields.rawHeaders,
    http2: fields.http2,
  };
}

export const BAD_TARGET: ProxyError = proxyError('BAD_REQUEST', 'invalid request target');

export interface RouterSettings {
  readonly defaultRoot: ReturnDirective | undefined;
  readonly debug: DebugSettings;
  /** `nginx_proxy_version` of the debug document. */
  readonly version: string;
}

export interface RouterDeps {
  /** The current index (swapped on apply). */
  readonly index: () => RouteIndex;
  readonly readiness: ReadinessTracker;
  readonly tombstones: Tombstones;
  readonly balancers: Balancers;
  readonly settings: RouterSettings;
  /** Basic auth (basic-auth/auth-store.ts): true, the answer (401), or a promise to select again on. */
  readonly auth?: { check(host: VirtualHost, route: Route, rawHeaders: readonly string[]): true | ProxyError | Promise<unknown> };
}

const GRPC_PROTOS = new Set(['grpc', 'grpcs']);

export class Router {
  readonly #d: RouterDeps;

  constructor(deps: RouterDeps) {
    this.#d = deps;
  }

  /** A ready upstream not in `tried` (upstreamKey), a final answer (`error`), or `wait`. */
  select(req: RoutedRequest, tried: ReadonlySet<string>): Selection {
    const d = this.#d;
    const found = d.index().lookup(req.host, req.path, req.listenerPort);
    if (found.kind === 'no-host' || found.viaDefault) {
      if (d.tombstones.has(req.host)) return WAIT_VANISHED;
      if (found.kind === 'no-host') return { kind: 'error', error: proxyError('NO_ROUTE', `no route for host ${JSON.stringify(req.host)}`) };
    }
    if (found.kind !== 'route') return { kind: 'error', error: this.#answer(found, req) };
    const { vhost, route } = found;
    if (route.networkAccess === 'internal' && !isInternalAddress(req.clientAddress)) {
      return { kind: 'error', error: proxyError('FORBIDDEN', `${where(vhost, route)} is internal (NETWORK_ACCESS=internal); client ${req.clientAddress} is outside the private ranges`) };
    }
    // After the network check, as nginx (a denied address gets 403 without being asked for a password).
    const auth = d.auth === undefined ? true : d.auth.check(vhost, route, req.rawHeaders);
    if (auth !== true) return auth instanceof Promise ? { kind: 'pending', until: auth } : { kind: 'error', error: auth };
    if (route.proto !== 'http') {
      const grpc = GRPC_PROTOS.has(route.proto);
      if (grpc ? !req.http2 : route.proto !== 'https') return { kind: 'error', error: protoError(where(vhost, route), route.proto) };
    }
    if (route.upstreams.length === 0) {
      // Host claimed by running containers none of which is reachable: a configuration problem, not a transition.
      return { kind: 'error', error: proxyError('NO_BACKEND', `no backend available for host ${JSON.stringify(vhost.hostname)}`) };
    }
    const readiness = d.readiness;
    // Inline (not a named const): tsx's keepNames wraps named closures in a defineProperty call per request.
    const upstream = d.balancers.pick(found.key, route, (u: Upstream) => readiness.isReady(u) && (tried.size === 0 || !tried.has(upstreamKey(u))), req);
    if (upstream === undefined) return WAIT;
    const target = route.dest === '' ? req.requestUri : proxyPassUri(route.dest, found.matchedLength, req, req.requestUri);
    return { kind: 'upstream', upstream, route, vhost, target };
  }

  /** The proxy's own answers for the generated locations and for paths no location matches. */
  #answer(found: Exclude<RouteLookup, { kind: 'route' } | { kind: 'no-host' }>, req: RoutedRequest): ProxyError {
    const { vhost } = found;
    const host = req.host === '' ? vhost.hostname : req.host;
    switch (found.kind) {
      case 'redirect': {
        const location = req.args === undefined || req.args === '' ? found.location : `${found.location}?${req.args}`;
        return localAnswer('REDIRECT', 301, '301 Moved Permanently\n', { location: absoluteLocation(location, 'http', host, req.listenerPort), latin1: true });
      }
      case 'debug': {
        const request = { host, https: '', http2: req.http2 ? 'h2c' : '', http3: '', ssl_cipher: '', ssl_protocol: '' };
        const s = this.#d.settings;
        return localAnswer('DEBUG', 200, debugDocument(s.debug, vhost, request, s.version), { contentType: 'application/json' });
      }
      case 'default-root': {
        const directive = this.#d.settings.defaultRoot;
        if (directive !== undefined) {
          const vars = { ...req, host, scheme: 'http', serverPort: req.listenerPort };
          return returnAnswer(directive, vars);
        }
        break;
      }
      default:
    }
    return proxyError('NO_LOCATION', `no location for path ${JSON.stringify(req.path)} on host ${JSON.stringify(vhost.hostname)}`);
  }
}

function where(vhost: VirtualHost, route: Route): string {
  return `host ${JSON.stringify(vhost.hostname)} path ${JSON.stringify(route.path)}`;
}

/** gRPC reached over HTTP/1, or uwsgi/fastcgi (which discovery reports at the container for the Node plane). */
function protoError(where: string, proto: string): ProxyError {
  if (GRPC_PROTOS.has(proto)) return proxyError('PROTO_UNSUPPORTED', `${where} speaks gRPC: use HTTP/2`);
  return proxyError('PROTO_UNSUPPORTED', `${where} speaks ${proto}, which the Node data plane does not (use BERTH_MODE=nginx)`);
}
