import type { ContainerIssue, RoutingTable, Upstream } from '../routing-table.ts';
import { EXPOSE_LABEL, type BuildOptions, virtualHostValue } from './build-options.ts';
import type { ContainerInfo, ProxyPlacement } from './container-info.ts';
import { readSetting } from './container-settings.ts';

/**
 * "Why is my container (not) routed?" Pure: from the containers and placement the table was built from, the table,
 * and each backend's live state (from the data plane's readiness tracker). The most asked question of every peer.
 */
export type BackendStateName = 'ready' | 'starting' | 'draining' | 'unhealthy';

export interface ExplainedBackend {
  readonly host: string;
  readonly path: string;
  readonly address: string;
  readonly port: number;
  readonly network: string;
  readonly state: BackendStateName;
  /** Why it is in that state, in words. */
  readonly detail: string;
}

export interface Explanation {
  readonly query: string;
  readonly container: { readonly id: string; readonly name: string } | undefined;
  /** True when at least one backend of the container is ready for new requests. */
  readonly routed: boolean;
  readonly backends: readonly ExplainedBackend[];
  /** Findings, most important first: each a sentence a user can act on. */
  readonly findings: readonly string[];
}

export function findContainer(query: string, containers: readonly ContainerInfo[]): ContainerInfo | undefined {
  const q = query.replace(/^\//, '');
  return (
    containers.find((c) => c.name === q) ??
    (q.length >= 4 ? containers.find((c) => c.id.startsWith(q.toLowerCase())) : undefined)
  );
}

function stateDetail(u: Upstream, state: BackendStateName): string {
  const target = `${u.address}:${u.port}`;
  switch (state) {
    case 'ready':
      return u.health === 'healthy' ? 'HEALTHCHECK reports healthy' : `readiness probe passes (${describeProbe(u)})`;
    case 'draining':
      return 'stopping: a stop signal was received, so it gets no new requests while in-flight ones finish';
    case 'starting':
      return u.health === 'starting'
        ? 'waiting for its Docker HEALTHCHECK to report healthy'
        : `waiting for its readiness probe (${describeProbe(u)}) to pass: is the app listening on ${target}?`;
    case 'unhealthy':
      return u.health === 'unhealthy'
        ? 'its Docker HEALTHCHECK reports unhealthy'
        : `its readiness probe (${describeProbe(u)}) fails, or repeated connection failures opened its circuit breaker`;
  }
}

function describeProbe(u: Upstream): string {
  return u.probe.kind === 'tcp'
    ? `TCP connect to ${u.address}:${u.port}`
    : `HTTP GET ${u.probe.path} on ${u.address}:${u.port} expecting ${u.probe.expectStatus[0]}-${u.probe.expectStatus[1]}`;
}

function portFindings(c: ContainerInfo, backends: readonly ExplainedBackend[]): string[] {
  const findings: string[] = [];
  const ports = [...new Set(backends.map((b) => b.port))];
  const exposed = c.exposedPorts;
  for (const port of ports) {
    if (exposed.length > 0 && !exposed.includes(port)) {
      findings.push(`port ${port} is not among the ports the container exposes (${exposed.join(', ')}); set VIRTUAL_PORT if the app listens elsewhere`);
    }
  }
  const [port] = ports;
  const explicit = readSetting(c, 'port') !== undefined || readSetting(c, 'multiports') !== undefined;
  if (port !== undefined && !explicit && exposed.length > 1) {
    findings.push(`the container exposes several ports (${exposed.join(', ')}) and sets no VIRTUAL_PORT, so berth uses ${port}`);
  }
  return findings;
}

/**
 * Conflicts this container won: the warning sits on the container whose value lost, but whoever asks about the
 * winner should learn that another container disagrees with it.
 */
function conflictsWon(c: ContainerInfo, table: RoutingTable): string[] {
  return table.issues
    .filter((i) => i.code === 'WARN_SETTING_CONFLICT' && i.containerId !== c.id && i.message.includes(`: container ${c.name} sets `))
    .map((i) => `its value applies over another container's: ${i.message} [${i.code}]`);
}

export function explainContainer(
  query: string,
  current: { readonly containers: readonly ContainerInfo[]; readonly placement: ProxyPlacement | null },
  table: RoutingTable,
  stateOf: (u: Upstream) => BackendStateName,
  options: BuildOptions & { readonly nipIo?: boolean } = {},
): Explanation {
  const c = findContainer(query, current.containers);
  if (c === undefined) {
    return {
      query, container: undefined, routed: false, backends: [],
      findings: [`no running container is named ${JSON.stringify(query)} or has an id starting with it (stopped containers are never routed; see docker ps)`],
    };
  }
  const findings: string[] = [];
  const hostValue = virtualHostValue(c, options);
  if ((hostValue === undefined || hostValue.trim() === '') && readSetting(c, 'multiports') === undefined) {
    const exposedByLabel = c.labels[EXPOSE_LABEL]?.trim().toLowerCase() === 'true';
    findings.push(
      exposedByLabel
        ? `it has the label ${EXPOSE_LABEL}=true but BERTH_NIP_IO is off, and no VIRTUAL_HOST: set one of them`
        : 'it has no VIRTUAL_HOST: berth routes only containers that set VIRTUAL_HOST, VIRTUAL_HOST_MULTIPORTS or the label berth.host (for example -e VIRTUAL_HOST=app.127.0.0.1.nip.io)',
    );
  }
  const issues: ContainerIssue[] = table.issues.filter((i) => i.containerId === c.id);
  for (const i of issues) findings.push(`${i.message} [${i.code}]`);
  const backends: ExplainedBackend[] = [];
  for (const host of table.hosts) {
    for (const route of host.routes) {
      for (const u of route.upstreams) {
        if (u.containerId !== c.id) continue;
        const state = stateOf(u);
        backends.push({ host: host.hostname, path: route.path, address: u.address, port: u.port, network: u.network, state, detail: stateDetail(u, state) });
      }
    }
  }
  findings.push(...conflictsWon(c, table));
  findings.push(...portFindings(c, backends));
  const routed = backends.some((b) => b.state === 'ready');
  if (backends.length > 0 && !routed) findings.unshift(`it is in the routing table but gets no new requests: ${backends[0]?.detail}`);
  return { query, container: { id: c.id, name: c.name }, routed, backends, findings };
}
