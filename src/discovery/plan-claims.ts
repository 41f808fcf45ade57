import type { UpstreamProto } from '../routing-table.ts';
import { EXPOSE_LABEL } from './build-options.ts';
import type { ContainerInfo } from './container-info.ts';
import { readSetting, type SettingKey, type SettingValue } from './container-settings.ts';
import { parseVirtualHost } from './parse-host.ts';
import { parseMultiports } from './parse-multiports.ts';
import { DEFAULT_PATH, parseDest, parsePath, type ParsedPath } from './parse-path.ts';
import { parseProto, resolvePort } from './parse-settings.ts';
import { WARN_SETTING_IGNORED, type PlanIssues, type Setter } from './plan-issues.ts';

/**
 * The host/paths a container claims: from VIRTUAL_HOST/PORT/PATH/DEST/PROTO, or from VIRTUAL_HOST_MULTIPORTS, which
 * replaces those five on its container. undefined when a setting is invalid (the issue is in `issues`).
 */

/** A host + path the container asks to be routed at. */
export interface Claim {
  readonly hostname: string;
  readonly path: Setter<ParsedPath>;
  /** The container sets no path (`/` by default): it does not take part in deciding the path's form (`/` or `^~ /`). */
  readonly defaultPath?: boolean;
  readonly port: number;
  readonly proto: Setter<UpstreamProto> | undefined;
  readonly dest: Setter<string> | undefined;
  /** EXTERNAL_HTTP_PORT and/or the multiports `external_http_port` of this host. */
  readonly httpPorts: readonly Setter<number>[];
}

const setter = <T>(value: T, text: string, source: string, rank: 0 | 1 = 1): Setter<T> => ({ value, text, source, rank });

export function plainClaims(
  c: ContainerInfo,
  hostText: string | undefined,
  httpPort: Setter<number> | undefined,
  issues: PlanIssues,
): Claim[] | undefined {
  const hostSource = readSetting(c, 'host')?.source ?? EXPOSE_LABEL;
  const names = parseVirtualHost(hostText);
  if (names !== undefined && !names.ok) {
    issues.add('ERR_VIRTUAL_HOST_INVALID', hostSource, hostText ?? '', `is invalid: ${names.reason}; container skipped`);
  }
  const portValue = readSetting(c, 'port');
  const port = resolvePort(portValue?.text, c.exposedPorts);
  if (!port.ok) issues.add('ERR_VIRTUAL_PORT_INVALID', portValue?.source ?? 'VIRTUAL_PORT', portValue?.text ?? '', `is invalid: ${port.reason}; container skipped`);
  const pathValue = readSetting(c, 'path');
  const parsedPath = parsePath(pathValue?.text);
  let path: ParsedPath = DEFAULT_PATH;
  if (parsedPath.ok) path = parsedPath.value;
  else issues.add('ERR_VIRTUAL_PATH_INVALID', pathValue?.source ?? 'VIRTUAL_PATH', pathValue?.text ?? '', `is invalid: ${parsedPath.reason}; container skipped`);
  const destValue = readSetting(c, 'dest');
  const dest = destValue === undefined || !parsedPath.ok ? undefined : issues.check(destValue, parseDest(destValue.text, path), 'ERR_VIRTUAL_DEST_INVALID');
  const proto = issues.parse('proto', parseProto, 'ERR_VIRTUAL_PROTO_INVALID');
  if (names === undefined || !names.ok || !port.ok || !parsedPath.ok) return undefined;
  const pathSetter = setter(path, path.text, pathValue?.source ?? 'VIRTUAL_PATH');
  return names.value.map((hostname) => ({
    hostname,
    path: pathSetter,
    ...(pathValue === undefined ? { defaultPath: true } : {}),
    port: port.value,
    proto,
    dest,
    httpPorts: httpPort === undefined ? [] : [httpPort],
  }));
}

const REPLACED: readonly SettingKey[] = ['host', 'port', 'path', 'dest', 'proto'];

export function multiportsClaims(
  c: ContainerInfo,
  multiports: SettingValue,
  httpPort: Setter<number> | undefined,
  issues: PlanIssues,
): Claim[] | undefined {
  const parsed = parseMultiports(multiports.text);
  if (!parsed.ok) {
    issues.add('ERR_MULTIPORTS_INVALID', multiports.source, multiports.text, `is invalid: ${parsed.reason}; container skipped`);
    return undefined;
  }
  for (const key of REPLACED) {
    const v = readSetting(c, key);
    if (v === undefined) continue;
    issues.add(WARN_SETTING_IGNORED, v.source, v.text,
      `is not applied: ${multiports.source} is set on this container and replaces VIRTUAL_HOST, VIRTUAL_PORT, VIRTUAL_PATH, VIRTUAL_DEST and VIRTUAL_PROTO (as in nginx-proxy)`);
  }
  const defaultPort = resolvePort(undefined, c.exposedPorts);
  const claims: Claim[] = [];
  for (const host of parsed.value) {
    if (host.httpsPort !== undefined) {
      issues.add(WARN_SETTING_IGNORED, multiports.source, multiports.text,
        `sets external_https_port ${host.httpsPort} for host ${host.hostname}, which is not applied: berth does not serve HTTPS yet`);
    }
    const httpPorts: Setter<number>[] = [];
    if (host.httpPort !== undefined) httpPorts.push(setter(host.httpPort, String(host.httpPort), multiports.source, 0));
    if (httpPort !== undefined) httpPorts.push(httpPort);
    for (const p of host.paths) {
      claims.push({
        hostname: host.hostname,
        path: setter(p.path, p.path.text, multiports.source),
        port: p.port ?? (defaultPort.ok ? defaultPort.value : 80),
        proto: p.proto === undefined ? undefined : setter(p.proto, p.proto, multiports.source),
        dest: p.dest === undefined ? undefined : setter(p.dest, p.dest, multiports.source),
        httpPorts,
      });
    }
  }
  return claims;
}
