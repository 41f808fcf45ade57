import type { PlaneIssue, Route, Upstream, VirtualHost } from '../routing-table.ts';

/** A container left out of the nginx config because one of its values cannot be written safely. */
export interface DroppedContainer {
  /** Empty when the dropped host had no containers (host known, no reachable backend), or for a proxy-wide setting. */
  readonly containerId: string;
  readonly containerName: string;
  /** Empty for a proxy-wide setting (DEFAULT_ROOT, LOG_FORMAT, RESOLVERS). */
  readonly host: string;
  /** The setting at fault: `VIRTUAL_HOST`, `VIRTUAL_PATH`, `VIRTUAL_PROTO`, `address`, a label, a proxy-wide variable. */
  readonly setting: string;
  readonly value: string;
  readonly message: string;
  /** Logged code: ERR_NGINX_CONFIG_INVALID (cannot be written) unless the nginx plane does not support it at all. */
  readonly code?: 'ERR_NGINX_CONFIG_INVALID' | 'ERR_SETTING_UNSUPPORTED';
}

/** Every container of `routes` dropped from `host` because `setting`=`value` cannot be written (`reason`). */
export function dropRoutes(host: VirtualHost, routes: readonly Route[], setting: string, value: string, reason: string): DroppedContainer[] {
  const what = `${setting} ${JSON.stringify(value)} cannot be written into nginx config: ${reason}`;
  return dropWith(host, routes, setting, value, what);
}

/** Like dropRoutes, with the whole explanation given (`what` is followed by "; dropped from host ..."). */
export function dropWith(host: VirtualHost, routes: readonly Route[], setting: string, value: string, what: string): DroppedContainer[] {
  const containers = new Map<string, Upstream>();
  for (const r of routes) for (const u of r.upstreams) containers.set(u.containerId, u);
  if (containers.size === 0) {
    return [{ containerId: '', containerName: '', host: host.hostname, setting, value, message: `host ${host.hostname}: ${what}; host dropped` }];
  }
  return [...containers.values()].map((u) => ({
    containerId: u.containerId,
    containerName: u.containerName,
    host: host.hostname,
    setting,
    value,
    message: `container ${u.containerName}: ${what}; dropped from host ${host.hostname}`,
  }));
}

/** A proxy-wide setting that cannot be written: `instead` says what is rendered in its place. */
export function droppedSetting(setting: string, value: string, reason: string, instead: string): DroppedContainer {
  return {
    containerId: '',
    containerName: '',
    host: '',
    setting,
    value,
    message: `${setting} ${JSON.stringify(value)} cannot be written into nginx config: ${reason}; ${instead}`,
  };
}

/** The dropped containers as the plane's findings for `berth explain` / `berth routes` (hosts with no container left out). */
export function planeIssues(dropped: readonly DroppedContainer[]): PlaneIssue[] {
  return dropped
    .filter((d) => d.containerId !== '')
    .map((d) => ({
      code: d.code ?? 'ERR_NGINX_CONFIG_INVALID',
      containerId: d.containerId,
      containerName: d.containerName,
      host: d.host,
      setting: d.setting,
      value: d.value,
      message: d.message,
    }));
}
