import type { ContainerIssue } from '../routing-table.ts';
import type { ContainerInfo } from './container-info.ts';

/**
 * Where each container setting can be written: nginx-proxy's env variable (or its label, for the label-only
 * settings) and berth's own label. Precedence: berth label, then nginx-proxy label, then env. A blank value counts
 * as unset, as nginx-proxy's `coalesce` does for VIRTUAL_PATH and friends.
 */
interface SettingSources {
  readonly berthLabel: string;
  readonly nginxProxyLabel?: string;
  readonly env?: string;
}

const NGINX_PROXY_LABEL = 'com.github.nginx-proxy.nginx-proxy.';

export const SETTINGS = {
  host: { berthLabel: 'berth.host', env: 'VIRTUAL_HOST' },
  port: { berthLabel: 'berth.port', env: 'VIRTUAL_PORT' },
  path: { berthLabel: 'berth.path', env: 'VIRTUAL_PATH' },
  dest: { berthLabel: 'berth.dest', env: 'VIRTUAL_DEST' },
  proto: { berthLabel: 'berth.proto', env: 'VIRTUAL_PROTO' },
  root: { berthLabel: 'berth.root', env: 'VIRTUAL_ROOT' },
  multiports: { berthLabel: 'berth.multiports', env: 'VIRTUAL_HOST_MULTIPORTS' },
  networkAccess: { berthLabel: 'berth.network-access', env: 'NETWORK_ACCESS' },
  externalHttpPort: { berthLabel: 'berth.external-http-port', env: 'EXTERNAL_HTTP_PORT' },
  serverTokens: { berthLabel: 'berth.server-tokens', env: 'SERVER_TOKENS' },
  loadBalance: { berthLabel: 'berth.loadbalance', nginxProxyLabel: `${NGINX_PROXY_LABEL}loadbalance` },
  keepalive: { berthLabel: 'berth.keepalive', nginxProxyLabel: `${NGINX_PROXY_LABEL}keepalive` },
  debugEndpoint: { berthLabel: 'berth.debug-endpoint', nginxProxyLabel: `${NGINX_PROXY_LABEL}debug-endpoint` },
} as const satisfies Record<string, SettingSources>;

export type SettingKey = keyof typeof SETTINGS;

/** A setting as one container sets it: the (trimmed) text and the name it was written under. */
export interface SettingValue {
  readonly text: string;
  /** `VIRTUAL_PATH`, `berth.path`, `com.github.nginx-proxy.nginx-proxy.loadbalance`, ... */
  readonly source: string;
}

function sourcesOf(key: SettingKey, c: ContainerInfo): SettingValue[] {
  const spec: SettingSources = SETTINGS[key];
  const found: SettingValue[] = [];
  const raw = [c.labels[spec.berthLabel], spec.nginxProxyLabel === undefined ? undefined : c.labels[spec.nginxProxyLabel], spec.env === undefined ? undefined : c.env[spec.env]];
  const names = [spec.berthLabel, spec.nginxProxyLabel, spec.env];
  for (let i = 0; i < 3; i++) {
    const text = raw[i]?.trim();
    const source = names[i];
    if (text !== undefined && text !== '' && source !== undefined) found.push({ text, source });
  }
  return found;
}

/** The value of `key` on container `c` (label wins over env), or undefined when no source sets it. */
export function readSetting(c: ContainerInfo, key: SettingKey): SettingValue | undefined {
  return sourcesOf(key, c)[0];
}

/**
 * WARN_SETTING_CONFLICT for every setting the container writes in two places with different values: the label is
 * applied, and the message names both.
 */
export function sourceConflicts(c: ContainerInfo): ContainerIssue[] {
  const issues: ContainerIssue[] = [];
  for (const key of Object.keys(SETTINGS) as SettingKey[]) {
    const [applied, ...others] = sourcesOf(key, c);
    if (applied === undefined) continue;
    for (const other of others) {
      if (other.text === applied.text) continue;
      const rule = other.source.startsWith(NGINX_PROXY_LABEL) ? "berth's own label wins over nginx-proxy's" : 'a label wins over env';
      issues.push({
        code: 'WARN_SETTING_CONFLICT',
        containerId: c.id,
        containerName: c.name,
        setting: other.source,
        value: other.text,
        message:
          `container ${c.name}: ${other.source}=${JSON.stringify(other.text)} is not applied: ` +
          `${applied.source}=${JSON.stringify(applied.text)} is also set and ${rule}`,
      });
    }
  }
  return issues;
}
