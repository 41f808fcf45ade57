import type { ContainerIssue, Route, RoutingTable, Upstream, VirtualHost } from '../routing-table.ts';
import { newRoute, newVirtualHost } from '../routing-table.ts';
import type { ContainerInfo, ContainerNetwork, ProxyPlacement } from './container-info.ts';
import { parseReadinessProbe, parseVirtualHost, resolvePort } from './parse-settings.ts';

/**
 * containers + placement -> RoutingTable. Pure: no I/O, no clock. Everything is sorted, so equal inputs give
 * deep-equal tables and the caller can compare snapshots. A container whose settings cannot be parsed is skipped
 * with an issue naming it and the setting; every other container is still routed.
 */

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

interface Address {
  readonly address: string;
  readonly network: string;
}

/** The network berth reaches a container on, following nginx-proxy's walk (networks in name order, `ingress` skipped). */
export function selectAddress(container: ContainerInfo, placement: ProxyPlacement | null): Address | string {
  if (container.networkMode === 'host') {
    if (placement === null || placement.hostNetwork) return { address: '127.0.0.1', network: 'host' };
    // A host-network backend listens on the host: reach it through the gateway of berth's own network.
    const gw = placement.networks.find((n) => n.gateway !== '');
    return gw ? { address: gw.gateway, network: 'host' } : 'it uses the host network and berth has no network gateway to reach the host through';
  }
  const candidates = container.networks.filter((n) => n.name !== 'ingress' && (n.ipAddress !== '' || n.ipv6Address !== ''));
  const reachable = (n: ContainerNetwork): boolean =>
    placement === null || placement.hostNetwork || placement.networks.some((p) => p.name === n.name);
  const chosen = candidates.find(reachable);
  if (chosen) return { address: chosen.ipAddress !== '' ? chosen.ipAddress : chosen.ipv6Address, network: chosen.name };
  if (candidates.length === 0) {
    return `it has no address on any network (network mode ${container.networkMode}; a stopping container loses its addresses)`;
  }
  const names = candidates.map((n) => n.name).join(', ');
  const mine = placement?.networks.map((n) => n.name).join(', ') || 'none';
  return `it shares no network with berth (container networks: ${names}; berth's networks: ${mine}); connect them with docker network connect`;
}

function issue(c: ContainerInfo, code: ContainerIssue['code'], setting: string, value: string, reason: string): ContainerIssue {
  return {
    code,
    containerId: c.id,
    containerName: c.name,
    setting,
    value,
    message: `container ${c.name}: ${setting} ${reason}`,
  };
}

export interface BuildOptions {
  /**
   * Opt-in nip.io names: a container labelled `berth.expose=true` without VIRTUAL_HOST is routed at
   * `<container-name>.<hostIp>.nip.io` (Traefik's default rule, with a name that resolves without any DNS setup).
   */
  readonly nipIoHostIp?: string;
}

export const EXPOSE_LABEL = 'berth.expose';

/** A container name as a DNS label: lower case, `_` and `.` become `-`, anything else dropped. */
export function dnsLabel(name: string): string {
  return name.toLowerCase().replace(/[_.]/g, '-').replace(/[^a-z0-9-]/g, '').replace(/^-+|-+$/g, '').slice(0, 63);
}

/** The VIRTUAL_HOST value berth uses for a container: its own, or its nip.io name when exposed by label. */
export function virtualHostValue(c: ContainerInfo, options: BuildOptions): string | undefined {
  const own = c.env['VIRTUAL_HOST'];
  if (own !== undefined && own.trim() !== '') return own;
  if (options.nipIoHostIp === undefined || c.labels[EXPOSE_LABEL]?.trim().toLowerCase() !== 'true') return own;
  const label = dnsLabel(c.name);
  return label === '' ? own : `${label}.${options.nipIoHostIp}.nip.io`;
}

export function buildRoutingTable(
  containers: readonly ContainerInfo[],
  placement: ProxyPlacement | null,
  options: BuildOptions = {},
): RoutingTable {
  const issues: ContainerIssue[] = [];
  const hosts = new Map<string, Upstream[]>();
  for (const c of containers) {
    const hostValue = virtualHostValue(c, options);
    const names = parseVirtualHost(hostValue);
    if (names === undefined) continue;
    if (!names.ok) {
      issues.push(issue(c, 'ERR_VIRTUAL_HOST_INVALID', 'VIRTUAL_HOST', hostValue ?? '', `is invalid: ${names.reason}; container skipped`));
      continue;
    }
    const port = resolvePort(c.env['VIRTUAL_PORT'], c.exposedPorts);
    if (!port.ok) {
      issues.push(issue(c, 'ERR_VIRTUAL_PORT_INVALID', 'VIRTUAL_PORT', c.env['VIRTUAL_PORT'] ?? '', `is invalid: ${port.reason}; container skipped`));
      continue;
    }
    const probe = parseReadinessProbe(c.labels);
    if (!probe.ok) {
      const label = probe.label ?? 'berth.readiness';
      issues.push(issue(c, 'ERR_READINESS_LABEL_INVALID', label, c.labels[label] ?? '', `is invalid: ${probe.reason}; container skipped`));
      continue;
    }
    const address = selectAddress(c, placement);
    // A container being stopped loses its addresses before it dies: that is not a misconfiguration to warn about.
    if (typeof address === 'string' && c.stopping) continue;
    for (const name of names.value) {
      const list = hosts.get(name) ?? [];
      hosts.set(name, list);
      if (typeof address === 'string') continue;
      list.push({
        containerId: c.id,
        containerName: c.name,
        ...address,
        port: port.value,
        health: c.health,
        draining: c.stopping,
        probe: probe.value,
      });
    }
    if (typeof address === 'string') {
      issues.push(issue(c, 'ERR_NO_REACHABLE_NETWORK', 'network', c.networks.map((n) => n.name).join(','), `is unreachable: ${address}`));
    }
  }
  const virtualHosts: VirtualHost[] = [...hosts.keys()].sort(byString).map((hostname) => {
    const upstreams = (hosts.get(hostname) ?? []).sort(
      (a, b) => byString(a.containerName, b.containerName) || byString(a.containerId, b.containerId),
    );
    const route: Route = newRoute({ path: '/', upstreams });
    return newVirtualHost({ hostname, routes: [route] });
  });
  issues.sort((a, b) => byString(a.containerName, b.containerName) || byString(a.code, b.code));
  return { hosts: virtualHosts, issues };
}
