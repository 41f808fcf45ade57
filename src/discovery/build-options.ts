import type { ContainerInfo } from './container-info.ts';
import { readSetting } from './container-settings.ts';

export interface BuildOptions {
  /**
   * Opt-in nip.io names: a container labelled `berth.expose=true` without VIRTUAL_HOST is routed at
   * `<container-name>.<hostIp>.nip.io` (Traefik's default rule, with a name that resolves without any DNS setup).
   */
  readonly nipIoHostIp?: string;
  /**
   * The data plane the table is for (BERTH_MODE). `node`: containers asking for what the Node data plane cannot do
   * (uwsgi/fastcgi, a hash key it cannot evaluate) get ERR_SETTING_UNSUPPORTED instead of a route. `nginx` or
   * undefined: no plane-specific check here (the nginx plane checks its own limits, such as grpc port sharing).
   */
  readonly plane?: 'node' | 'nginx';
  /** PREFER_IPV6_NETWORK: reach dual-stack backends on their IPv6 address. */
  readonly preferIpv6?: boolean;
}

export const EXPOSE_LABEL = 'berth.expose';

/** A container name as a DNS label: lower case, `_` and `.` become `-`, anything else dropped. */
export function dnsLabel(name: string): string {
  return name.toLowerCase().replace(/[_.]/g, '-').replace(/[^a-z0-9-]/g, '').replace(/^-+|-+$/g, '').slice(0, 63);
}

/**
 * The VIRTUAL_HOST value berth uses for a container (`berth.host` label, else VIRTUAL_HOST env), or its nip.io name
 * when exposed by label; undefined when it sets none.
 */
export function virtualHostValue(c: ContainerInfo, options: BuildOptions): string | undefined {
  const own = readSetting(c, 'host')?.text;
  if (own !== undefined) return own;
  if (options.nipIoHostIp === undefined || c.labels[EXPOSE_LABEL]?.trim().toLowerCase() !== 'true') return undefined;
  const label = dnsLabel(c.name);
  return label === '' ? undefined : `${label}.${options.nipIoHostIp}.nip.io`;
}
