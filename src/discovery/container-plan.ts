import type { ContainerIssue, Keepalive, LoadBalance, NetworkAccess, ReadinessProbe } from '../routing-table.ts';
import { virtualHostValue, type BuildOptions } from './build-options.ts';
import type { ContainerInfo } from './container-info.ts';
import { readSetting, sourceConflicts } from './container-settings.ts';
import { nodeUnsupportedHashKey, parseLoadBalance } from './parse-loadbalance.ts';
import {
  parseDebugEndpoint, parseKeepalive, parseNetworkAccess, parsePort, parseReadinessProbe, parseRoot, parseServerTokens,
} from './parse-settings.ts';
import { multiportsClaims, plainClaims, type Claim } from './plan-claims.ts';
import { containerIssue, PlanIssues, type Setter } from './plan-issues.ts';

/**
 * One container's settings, parsed and validated, before the containers are merged into a table: the host/paths it
 * claims and every per-host and per-path value it sets (with where it was written, for the conflict rule). Pure.
 */

export interface HostSettings {
  readonly serverTokens?: Setter<string>;
  readonly root?: Setter<string>;
  readonly debugEndpoint?: Setter<boolean>;
}

export interface PathSettings {
  readonly networkAccess?: Setter<NetworkAccess>;
  readonly loadBalance?: Setter<LoadBalance>;
  readonly keepalive?: Setter<Keepalive>;
}

export interface ContainerPlan {
  readonly container: ContainerInfo;
  readonly claims: readonly Claim[];
  readonly probe: ReadinessProbe;
  readonly hostSettings: HostSettings;
  readonly pathSettings: PathSettings;
}

function nodePlaneChecks(plan: ContainerPlan, issues: PlanIssues): ContainerPlan {
  const lb = plan.pathSettings.loadBalance;
  if (lb !== undefined && lb.value.kind === 'hash') {
    const why = nodeUnsupportedHashKey(lb.value.key);
    if (why !== undefined) issues.add('ERR_SETTING_UNSUPPORTED', lb.source, lb.text, `is not supported: ${why}; container skipped`);
  }
  // Only the host/paths speaking uwsgi/fastcgi are left out: a multiports container may have others.
  const claims = plan.claims.filter((claim) => {
    const proto = claim.proto;
    if (proto === undefined || (proto.value !== 'uwsgi' && proto.value !== 'fastcgi')) return true;
    const fromMultiports = proto.source === readSetting(plan.container, 'multiports')?.source;
    const what = fromMultiports ? `asks for proto ${proto.value} for host ${claim.hostname}, path ${claim.path.value.text}, which is` : 'is';
    issues.list.push(containerIssue(plan.container, 'ERR_SETTING_UNSUPPORTED', proto.source, proto.text,
      `${what} not supported: the Node data plane does not speak ${proto.value}; use BERTH_MODE=nginx; not routed`));
    return false;
  });
  return { ...plan, claims };
}

/**
 * The container's plan, or undefined when it is not routed: it asks for nothing (no VIRTUAL_HOST, no
 * VIRTUAL_HOST_MULTIPORTS), or a setting is invalid (ERR issue naming the container and the setting). `issues` also
 * carries WARN issues for a routed container.
 */
export function planContainer(c: ContainerInfo, options: BuildOptions): { plan: ContainerPlan | undefined; issues: ContainerIssue[] } {
  const hostText = virtualHostValue(c, options);
  const multiports = readSetting(c, 'multiports');
  if (hostText === undefined && multiports === undefined) return { plan: undefined, issues: [] };
  const issues = new PlanIssues(c);
  issues.list.push(...sourceConflicts(c));
  const hostSettings: HostSettings = {
    serverTokens: issues.parse('serverTokens', parseServerTokens),
    root: issues.parse('root', parseRoot),
    debugEndpoint: issues.parse('debugEndpoint', parseDebugEndpoint),
  };
  const pathSettings: PathSettings = {
    networkAccess: issues.parse('networkAccess', parseNetworkAccess),
    loadBalance: issues.parse('loadBalance', parseLoadBalance),
    keepalive: issues.parse('keepalive', parseKeepalive),
  };
  const httpPort = issues.parse('externalHttpPort', parsePort);
  const probe = parseReadinessProbe(c.labels);
  if (!probe.ok) {
    const label = probe.label ?? 'berth.readiness';
    issues.add('ERR_READINESS_LABEL_INVALID', label, c.labels[label] ?? '', `is invalid: ${probe.reason}; container skipped`);
  }
  const claims = multiports === undefined ? plainClaims(c, hostText, httpPort, issues) : multiportsClaims(c, multiports, httpPort, issues);
  if (issues.failed || claims === undefined || !probe.ok) return { plan: undefined, issues: issues.list };
  let plan: ContainerPlan = { container: c, claims, probe: probe.value, hostSettings, pathSettings };
  if (options.plane === 'node') plan = nodePlaneChecks(plan, issues);
  return { plan: issues.failed || plan.claims.length === 0 ? undefined : plan, issues: issues.list };
}
