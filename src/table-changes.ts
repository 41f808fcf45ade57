import type { ContainerIssue, PlaneIssue, RoutingTable, VirtualHost } from './routing-table.ts';

/** What changed between two tables, for one log line per routing change and one warning per new issue. */
export interface HostChange {
  readonly host: string;
  readonly change: 'added' | 'updated' | 'removed';
  /** `container@address:port [state]` per backend, in table order; empty when removed or when no backend is reachable. */
  readonly backends: readonly string[];
}

/**
 * `container@address:port`, plus what the table knows of its state: `[draining]`, or the HEALTHCHECK state when it
 * has one. Without it, a health change or a stop signal would log "route updated" with nothing visibly updated.
 */
function backends(host: VirtualHost): string[] {
  return host.routes.flatMap((r) =>
    r.upstreams.map((u) => {
      const address = u.address.includes(':') ? `[${u.address}]` : u.address;
      const state = u.draining ? ' [draining]' : u.health === 'none' ? '' : ` [${u.health}]`;
      return `${u.containerName}@${address}:${u.port}${r.path === '/' ? '' : ` (${r.path})`}${state}`;
    }),
  );
}

export function hostChanges(prev: RoutingTable, next: RoutingTable): HostChange[] {
  const before = new Map(prev.hosts.map((h) => [h.hostname, h]));
  const changes: HostChange[] = [];
  for (const host of next.hosts) {
    const old = before.get(host.hostname);
    before.delete(host.hostname);
    if (old === undefined) changes.push({ host: host.hostname, change: 'added', backends: backends(host) });
    else if (JSON.stringify(old) !== JSON.stringify(host)) changes.push({ host: host.hostname, change: 'updated', backends: backends(host) });
  }
  for (const host of before.keys()) changes.push({ host, change: 'removed', backends: [] });
  return changes;
}

const issueKey = (i: ContainerIssue): string => `${i.containerId}|${i.code}|${i.value}`;

/** Issues in `next` that were not in `prev`: warned once, not at every relist. */
export function newIssues(prev: RoutingTable, next: RoutingTable): ContainerIssue[] {
  const seen = new Set(prev.issues.map(issueKey));
  return next.issues.filter((i) => !seen.has(issueKey(i)));
}

/**
 * The table as served: `table` with what the data plane could not serve removed (the container's backends on that
 * host) and the plane's findings added to the issues, for `berth explain` and `berth routes`.
 */
export function withPlaneIssues(table: RoutingTable, planeIssues: readonly PlaneIssue[]): RoutingTable {
  if (planeIssues.length === 0) return table;
  const dropped = new Set(planeIssues.map((i) => `${i.host}\0${i.containerId}`));
  return {
    hosts: table.hosts.map((h) => ({
      ...h,
      routes: h.routes.map((r) => ({ ...r, upstreams: r.upstreams.filter((u) => !dropped.has(`${h.hostname}\0${u.containerId}`)) })),
    })),
    issues: [...table.issues, ...planeIssues.map(({ host: _host, ...issue }) => issue)],
  };
}
