import type { Route, RoutingTable, VirtualHost } from '../routing-table.ts';
import { compileLocations, compilePcre, matchLocation, type CompiledLocations } from './path-match.ts';

/**
 * An immutable lookup structure built once per RoutingTable. The data plane swaps one reference per apply, so a
 * request keeps the index (and thus the routes) it started with.
 *
 * Hosts are matched per listening port, as nginx's server blocks are: a host with `httpPort` (EXTERNAL_HTTP_PORT) P
 * is served only on P, the others only on the global HTTP_PORT; DEFAULT_HOST answers unknown names only on the port
 * it is served on. Within a port, nginx `server_name` precedence: exact name (also raw IPv4 and bracketed IPv6
 * literals), then the longest leading wildcard (`*.example.com`, `.example.com`), then the longest trailing wildcard
 * (`www.*`), then regexes (`~...`) in table order. Paths: nginx location selection (path-match.ts).
 */

interface Found {
  readonly vhost: VirtualHost;
  /** The request's host matched nothing and DEFAULT_HOST answered for it. */
  readonly viaDefault: boolean;
}

export type RouteLookup =
  | (Found & { readonly kind: 'route'; readonly route: Route; readonly key: string; readonly matchedLength: number })
  /** nginx-proxy's generated `location / { return DEFAULT_ROOT; }`. */
  | (Found & { readonly kind: 'default-root' })
  /** The generated `location /nginx-proxy-debug`. */
  | (Found & { readonly kind: 'debug' })
  /** nginx's auto_redirect (301) to `location`, the proxied location's escaped name (`?args` still to append). */
  | (Found & { readonly kind: 'redirect'; readonly location: string })
  | (Found & { readonly kind: 'no-location' })
  | { readonly kind: 'no-host' };

export interface RouteIndex {
  /**
   * `host` as produced by parseRequestTarget (lower-case, no port); `path`: the normalised `$uri`; `localPort`: the
   * port the request arrived on (undefined: the global HTTP_PORT).
   */
  lookup(host: string, path: string, localPort?: number): RouteLookup;
  /** Every `host\0path` key in the table, for pruning per-route state (balancers) across generations. */
  readonly routeKeys: ReadonlySet<string>;
}

export interface RouteIndexOptions {
  readonly defaultHost?: string | undefined;
  /**
   * The global HTTP_PORT. Undefined: one host set for every port (hosts' `httpPort` ignored), which is what
   * callers that only ask "is this host known" want.
   */
  readonly httpPort?: number | undefined;
  /** DEFAULT_ROOT is set (not `none`): hosts without a `/` route get the generated `/` location. */
  readonly defaultRoot?: boolean;
  /** DEBUG_ENDPOINT: the default of each host's `debugEndpoint`. */
  readonly debugEndpoint?: boolean;
}

interface CompiledHost {
  readonly vhost: VirtualHost;
  readonly locations: CompiledLocations;
}

interface Wildcard {
  readonly affix: string;
  readonly host: CompiledHost;
}

export function routeKey(hostname: string, path: string): string {
  return `${hostname}\0${path}`;
}

/** The hosts served on one port. */
class HostSet {
  readonly exact = new Map<string, CompiledHost>();
  readonly leading: Wildcard[] = [];
  readonly trailing: Wildcard[] = [];
  readonly regexes: { re: RegExp; host: CompiledHost }[] = [];
  fallback: CompiledHost | undefined;

  add(host: CompiledHost): void {
    const vhost = host.vhost;
    const name = vhost.kind === 'regex' ? vhost.hostname : vhost.hostname.toLowerCase();
    switch (vhost.kind) {
      // nginx compiles server_name regexes caseless (NGX_REGEX_CASELESS): `~^API-\d+` matches `api-42`.
      case 'regex': {
        const re = compilePcre(name.slice(1).trim(), true);
        if (re !== undefined) this.regexes.push({ re, host });
        return;
      }
      case 'leading-wildcard':
        if (name.startsWith('*.')) {
          this.leading.push({ affix: name.slice(1), host });
        } else {
          // `.example.com` is nginx's short form of `example.com *.example.com`
          this.leading.push({ affix: name, host });
          if (!this.exact.has(name.slice(1))) this.exact.set(name.slice(1), host);
        }
        return;
      case 'trailing-wildcard':
        this.trailing.push({ affix: name.slice(0, -1), host });
        return;
      default:
        if (!this.exact.has(name)) this.exact.set(name, host);
    }
  }

  seal(): void {
    this.leading.sort((a, b) => b.affix.length - a.affix.length);
    this.trailing.sort((a, b) => b.affix.length - a.affix.length);
  }

  find(host: string): CompiledHost | undefined {
    if (host === '') return undefined;
    const e = this.exact.get(host);
    if (e) return e;
    for (const w of this.leading) if (host.endsWith(w.affix) && host.length > w.affix.length) return w.host;
    for (const w of this.trailing) if (host.startsWith(w.affix) && host.length > w.affix.length) return w.host;
    for (const r of this.regexes) if (r.re.test(host)) return r.host;
    return undefined;
  }
}

function resolve(host: CompiledHost, path: string, viaDefault: boolean): RouteLookup {
  const vhost = host.vhost;
  const m = matchLocation(host.locations, path);
  if (m.kind === 'none') return { kind: 'no-location', vhost, viaDefault };
  if (m.kind === 'redirect') return { kind: 'redirect', vhost, viaDefault, location: m.location };
  const t = m.target;
  if (t.kind !== 'route') return { kind: t.kind, vhost, viaDefault };
  return { kind: 'route', vhost, route: t.route, key: routeKey(vhost.hostname, t.route.path), matchedLength: m.matchedLength, viaDefault };
}

export function buildRouteIndex(table: RoutingTable, options: RouteIndexOptions | string = {}): RouteIndex {
  const o: RouteIndexOptions = typeof options === 'string' ? { defaultHost: options } : options;
  const ports = new Map<number | undefined, HostSet>();
  const setFor = (port: number | undefined): HostSet => {
    let set = ports.get(port);
    if (set === undefined) ports.set(port, (set = new HostSet()));
    return set;
  };
  const routeKeys = new Set<string>();
  const defaultHost = o.defaultHost === undefined || o.defaultHost === '' ? undefined : o.defaultHost.toLowerCase();
  for (const vhost of table.hosts) {
    const debug = vhost.debugEndpoint ?? o.debugEndpoint ?? false;
    const host: CompiledHost = { vhost, locations: compileLocations(vhost.routes, { defaultRoot: o.defaultRoot ?? false, debug }) };
    for (const r of vhost.routes) routeKeys.add(routeKey(vhost.hostname, r.path));
    const port = o.httpPort === undefined ? undefined : (vhost.httpPort ?? o.httpPort);
    const set = setFor(port);
    set.add(host);
    // DEFAULT_HOST only counts when it names a host of the table (nginx-proxy makes that server default_server).
    if (defaultHost !== undefined && vhost.hostname.toLowerCase() === defaultHost) set.fallback = host;
  }
  for (const set of ports.values()) set.seal();
  const single = o.httpPort === undefined;

  return {
    routeKeys,
    lookup(host: string, path: string, localPort?: number): RouteLookup {
      const set = ports.get(single ? undefined : (localPort ?? o.httpPort));
      if (set === undefined) return { kind: 'no-host' };
      const direct = set.find(host);
      if (direct !== undefined) return resolve(direct, path, false);
      return set.fallback === undefined ? { kind: 'no-host' } : resolve(set.fallback, path, true);
    },
  };
}
