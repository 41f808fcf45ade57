import type { Route, RoutingTable, VirtualHost } from '../routing-table.ts';

/**
 * An immutable lookup structure built once per RoutingTable. The data plane swaps one reference per apply, so a
 * request keeps the index (and thus the routes) it started with. Host matching follows nginx `server_name`
 * precedence, which is what nginx-proxy users rely on: exact name, then the longest leading wildcard
 * (`*.example.com`, `.example.com`), then the longest trailing wildcard (`www.*`), then regexes (`~...`) in table order.
 */

/** `viaDefault`: the request's host matched nothing and DEFAULT_HOST answered for it. */
export type RouteLookup =
  | { readonly kind: 'route'; readonly vhost: VirtualHost; readonly route: Route; readonly key: string; readonly viaDefault: boolean }
  | { readonly kind: 'no-location'; readonly vhost: VirtualHost; readonly viaDefault: boolean }
  | { readonly kind: 'no-host' };

export interface RouteIndex {
  /** `host` as produced by parseRequestTarget (lower-case, no port); `path` without query. */
  lookup(host: string, path: string): RouteLookup;
  /** Every `host\0path` key in the table, for pruning per-route state (round robin) across generations. */
  readonly routeKeys: ReadonlySet<string>;
}

interface CompiledHost {
  readonly vhost: VirtualHost;
  /** Routes sorted by path length, longest first. */
  readonly routes: readonly Route[];
}

interface Wildcard {
  readonly affix: string;
  readonly host: CompiledHost;
}

export function routeKey(hostname: string, path: string): string {
  return `${hostname}\0${path}`;
}

function compileRegex(hostname: string): RegExp | undefined {
  try {
    return new RegExp(hostname.slice(1).trim());
  } catch {
    return undefined; // an invalid regex routes nothing; discovery reports bad names, the data plane must not throw
  }
}

function matchPath(host: CompiledHost, path: string, viaDefault: boolean): RouteLookup {
  for (const route of host.routes) {
    if (path.startsWith(route.path)) {
      return { kind: 'route', vhost: host.vhost, route, key: routeKey(host.vhost.hostname, route.path), viaDefault };
    }
  }
  return { kind: 'no-location', vhost: host.vhost, viaDefault };
}

export function buildRouteIndex(table: RoutingTable, defaultHost?: string): RouteIndex {
  const exact = new Map<string, CompiledHost>();
  const leading: Wildcard[] = [];
  const trailing: Wildcard[] = [];
  const regexes: { re: RegExp; host: CompiledHost }[] = [];
  const routeKeys = new Set<string>();
  for (const vhost of table.hosts) {
    const routes = [...vhost.routes].sort((a, b) => b.path.length - a.path.length);
    const host: CompiledHost = { vhost, routes };
    for (const r of routes) routeKeys.add(routeKey(vhost.hostname, r.path));
    const name = vhost.hostname.toLowerCase();
    if (name.startsWith('~')) {
      const re = compileRegex(name);
      if (re) regexes.push({ re, host });
    } else if (name.startsWith('*.')) {
      leading.push({ affix: name.slice(1), host });
    } else if (name.startsWith('.')) {
      leading.push({ affix: name, host });
      if (!exact.has(name.slice(1))) exact.set(name.slice(1), host);
    } else if (name.endsWith('.*')) {
      trailing.push({ affix: name.slice(0, -1), host });
    } else if (!exact.has(name)) {
      exact.set(name, host);
    }
  }
  leading.sort((a, b) => b.affix.length - a.affix.length);
  trailing.sort((a, b) => b.affix.length - a.affix.length);

  const findHost = (host: string): CompiledHost | undefined => {
    const e = exact.get(host);
    if (e) return e;
    for (const w of leading) if (host.endsWith(w.affix) && host.length > w.affix.length) return w.host;
    for (const w of trailing) if (host.startsWith(w.affix) && host.length > w.affix.length) return w.host;
    for (const r of regexes) if (r.re.test(host)) return r.host;
    return undefined;
  };
  // DEFAULT_HOST only counts when it names a host of the table (nginx-proxy makes that server default_server).
  const fallback = defaultHost === undefined || defaultHost === '' ? undefined : exact.get(defaultHost.toLowerCase());

  return {
    routeKeys,
    lookup(host: string, path: string): RouteLookup {
      const direct = host === '' ? undefined : findHost(host);
      if (direct !== undefined) return matchPath(direct, path, false);
      return fallback === undefined ? { kind: 'no-host' } : matchPath(fallback, path, true);
    },
  };
}
