import type { ContainerIssue, Route, RoutingTable, Upstream, VirtualHost } from '../routing-table.ts';
import { DEFAULT_VIRTUAL_ROOT, newRoute, newVirtualHost } from '../routing-table.ts';
import type { BuildOptions } from './build-options.ts';
import { decide, type Candidate } from './conflicts.ts';
import type { ContainerInfo, ProxyPlacement } from './container-info.ts';
import { planContainer, type ContainerPlan } from './container-plan.ts';
import type { ParsedPath } from './parse-path.ts';
import type { Claim } from './plan-claims.ts';
import { containerIssue, type Setter } from './plan-issues.ts';
import { selectAddress } from './select-address.ts';

export { dnsLabel, EXPOSE_LABEL, virtualHostValue, type BuildOptions } from './build-options.ts';
export { selectAddress } from './select-address.ts';

/**
 * containers + placement -> RoutingTable. Pure: no I/O, no clock. Everything is sorted, so equal inputs give
 * deep-equal tables and the caller can compare snapshots. A container whose settings cannot be parsed is skipped
 * with an issue naming it and the setting; every other container is still routed. Containers of the same host and
 * path share one route; per-host and per-path settings they disagree on are decided by the conflict rule
 * (conflicts.ts).
 */

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** One container's claim on a host/path, with its upstream (undefined: the container is unreachable). */
interface Entry {
  readonly plan: ContainerPlan;
  readonly claim: Claim;
  readonly upstream: Upstream | undefined;
}

function candidates<T>(entries: readonly Entry[], get: (e: Entry) => readonly (Setter<T> | undefined)[]): Candidate<T>[] {
  const seen = new Set<string>();
  const list: Candidate<T>[] = [];
  for (const e of entries) {
    for (const setter of get(e)) {
      if (setter === undefined) continue;
      const key = `${e.plan.container.id}\0${setter.source}\0${setter.rank}\0${setter.text}`;
      if (seen.has(key)) continue;
      seen.add(key);
      list.push({ container: e.plan.container, setter });
    }
  }
  return list;
}

/** Locations nginx treats as the same: `/x` and `^~ /x` are one prefix location (nginx refuses both). */
function routeKey(path: ParsedPath): string {
  const m = path.match;
  return m.kind === 'prefix' || m.kind === 'prefix-no-regex' ? `prefix ${m.value}` : m.kind === 'exact' ? `= ${m.value}` : path.text;
}

function buildRoute(hostname: string, entries: readonly Entry[], issues: ContainerIssue[]): Route {
  const first = entries[0]?.claim.path.value;
  const where = first?.match.kind === 'regex' ? first.text : (first?.match.value ?? '/');
  const setting = entries.filter((e) => e.claim.defaultPath !== true);
  const path = decide('VIRTUAL_PATH', `host ${hostname}, path ${where}`, candidates(setting.length > 0 ? setting : entries, (e) => [e.claim.path]), issues) as ParsedPath;
  const scope = `host ${hostname}, path ${path.text}`;
  const settings = (e: Entry) => e.plan.pathSettings;
  const upstreams = entries
    .flatMap((e) => (e.upstream === undefined ? [] : [e.upstream]))
    .sort((a, b) => byString(a.containerName, b.containerName) || byString(a.containerId, b.containerId));
  return newRoute({
    path: path.text,
    match: path.match,
    proto: decide('VIRTUAL_PROTO', scope, candidates(entries, (e) => [e.claim.proto]), issues) ?? 'http',
    dest: decide('VIRTUAL_DEST', scope, candidates(entries, (e) => [e.claim.dest]), issues) ?? '',
    networkAccess: decide('NETWORK_ACCESS', scope, candidates(entries, (e) => [settings(e).networkAccess]), issues) ?? 'external',
    loadBalance: decide('loadbalance', scope, candidates(entries, (e) => [settings(e).loadBalance]), issues) ?? { kind: 'round-robin' },
    keepalive: decide('keepalive', scope, candidates(entries, (e) => [settings(e).keepalive]), issues) ?? 'auto',
    upstreams,
  });
}

/** Non-regex routes by path, then regex routes by path text (the order regexes are tried in). */
function compareRoutes(a: Route, b: Route): number {
  const ra = a.match.kind === 'regex' ? 1 : 0;
  const rb = b.match.kind === 'regex' ? 1 : 0;
  if (ra !== rb) return ra - rb;
  return (ra === 0 ? byString(a.match.value, b.match.value) : 0) || byString(a.path, b.path);
}

function buildHost(hostname: string, entries: readonly Entry[], issues: ContainerIssue[]): VirtualHost {
  const scope = `host ${hostname}`;
  const host = (e: Entry) => e.plan.hostSettings;
  const groups = new Map<string, Entry[]>();
  for (const e of entries) {
    const key = routeKey(e.claim.path.value);
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [e]);
    else group.push(e);
  }
  const routes = [...groups.values()].map((group) => buildRoute(hostname, group, issues)).sort(compareRoutes);
  return newVirtualHost({
    hostname,
    httpPort: decide('EXTERNAL_HTTP_PORT', scope, candidates(entries, (e) => e.claim.httpPorts), issues),
    serverTokens: decide('SERVER_TOKENS', scope, candidates(entries, (e) => [host(e).serverTokens]), issues),
    root: decide('VIRTUAL_ROOT', scope, candidates(entries, (e) => [host(e).root]), issues) ?? DEFAULT_VIRTUAL_ROOT,
    debugEndpoint: decide('debug-endpoint', scope, candidates(entries, (e) => [host(e).debugEndpoint]), issues),
    routes,
  });
}

function upstreamOf(plan: ContainerPlan, claim: Claim, address: { address: string; network: string }): Upstream {
  const c = plan.container;
  return {
    containerId: c.id,
    containerName: c.name,
    ...address,
    port: claim.port,
    health: c.health,
    draining: c.stopping,
    probe: plan.probe,
  };
}

function sortedIssues(issues: readonly ContainerIssue[]): ContainerIssue[] {
  const unique = new Map(issues.map((i) => [JSON.stringify(i), i]));
  return [...unique.values()].sort(
    (a, b) => byString(a.containerName, b.containerName) || byString(a.code, b.code) || byString(a.setting, b.setting) || byString(a.message, b.message),
  );
}

/**
 * A parser bug on one container's settings must never stop routing for everyone (a throw here would freeze the
 * table): it skips that container with an issue instead.
 */
function planSafely(c: ContainerInfo, options: BuildOptions): ReturnType<typeof planContainer> {
  try {
    return planContainer(c, options);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    return { plan: undefined, issues: [containerIssue(c, 'ERR_SETTING_INVALID', 'settings', '', `could not be read (${reason}); container skipped`)] };
  }
}

export function buildRoutingTable(
  containers: readonly ContainerInfo[],
  placement: ProxyPlacement | null,
  options: BuildOptions = {},
): RoutingTable {
  const issues: ContainerIssue[] = [];
  const byHost = new Map<string, Entry[]>();
  for (const c of containers) {
    const { plan, issues: found } = planSafely(c, options);
    issues.push(...found);
    if (plan === undefined) continue;
    const address = selectAddress(c, placement, options);
    // A container being stopped loses its addresses before it dies: that is not a misconfiguration to warn about.
    if (typeof address === 'string' && c.stopping) continue;
    if (typeof address === 'string') {
      issues.push(containerIssue(c, 'ERR_NO_REACHABLE_NETWORK', 'network', c.networks.map((n) => n.name).join(','), `is unreachable: ${address}`));
    }
    for (const claim of plan.claims) {
      const upstream = typeof address === 'string' ? undefined : upstreamOf(plan, claim, address);
      const list = byHost.get(claim.hostname);
      if (list === undefined) byHost.set(claim.hostname, [{ plan, claim, upstream }]);
      else list.push({ plan, claim, upstream });
    }
  }
  const hosts = [...byHost.keys()].sort(byString).map((hostname) => buildHost(hostname, byHost.get(hostname) ?? [], issues));
  return { hosts, issues: sortedIssues(issues) };
}
