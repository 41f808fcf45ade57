import type { ContainerIssue, RoutingTable, VirtualHost } from './routing-table.ts';

/** What changed between two tables, for one log line per routing change and one warning per new issue. */
export interface HostChange {
  readonly host: string;
  readonly change: 'added' | 'updated' | 'removed';
  /** `container@address:port` per backend, in table order; empty when removed or when no backend is reachable. */
  readonly backends: readonly string[];
}

function backends(host: VirtualHost): string[] {
  return host.routes.flatMap((r) =>
    r.upstreams.map((u) => `${u.containerName}@${u.address.includes(':') ? `[${u.address}]` : u.address}:${u.port}${r.path === '/' ? '' : ` (${r.path})`}`),
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
