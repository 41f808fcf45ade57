import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from './config.ts';
import type { DataPlane } from './data-plane.ts';
import { createDiscovery, createDockerEngine, describeEngineError, type Discovery, type DockerEngine } from './discovery/index.ts';
import { BerthError } from './errors.ts';
import type { Logger } from './logger.ts';
import { createNginxDataPlane } from './nginx/index.ts';
import { createNodeDataPlane, validateLogFormat } from './proxy/index.ts';
import { ReadinessTracker } from './readiness/index.ts';
import { EMPTY_TABLE, type RoutingTable } from './routing-table.ts';
import { startAdminServer, type AdminState } from './admin/index.ts';
import { explainContainer } from './discovery/explain-container.ts';
import { detectHostIp } from './host-ip.ts';
import { hostChanges, newIssues, withPlaneIssues } from './table-changes.ts';

/** Refuses to start when a unix socket is not there, with the fix in the message (the most common setup error). */
export function checkDockerSocket(config: Config): void {
  if (!config.dockerHost.startsWith('unix://')) return;
  const path = config.dockerHost.slice('unix://'.length);
  if (existsSync(path)) return;
  throw new BerthError(
    'ERR_DOCKER_SOCKET_MISSING',
    `Docker socket ${path} not found. Mount it into berth's container with ` +
      `-v /var/run/docker.sock:/tmp/docker.sock:ro, or point DOCKER_HOST at the engine (unix:///path or tcp://host:port)`,
  );
}

/** The host address of nip.io names, when BERTH_NIP_IO is on. */
export function nipIoHostIp(config: Config, logger: Logger): string | undefined {
  if (!config.nipIo) return undefined;
  if (config.hostIp !== undefined) return config.hostIp;
  const { ip, detected } = detectHostIp();
  if (!detected) logger.info({ hostIp: ip }, 'BERTH_NIP_IO: the host address could not be detected (berth runs in a container?); set BERTH_HOST_IP');
  return ip;
}

export function createDiscoveryFor(config: Config, logger: Logger, engine: DockerEngine, hostIp = nipIoHostIp(config, logger)): Discovery {
  return createDiscovery({
    ...(hostIp === undefined ? {} : { nipIoHostIp: hostIp }),
    engine,
    logger,
    debounceMinMs: config.debounceMinMs,
    debounceMaxMs: config.debounceMaxMs,
    resyncIntervalMs: config.resyncIntervalMs,
    plane: config.mode,
    preferIpv6: config.preferIpv6Network,
    containerFilters: config.containerFilters,
    ...(config.mode === 'nginx' && config.nginx.external ? { nginxContainerLabel: config.nginx.containerLabel } : {}),
  });
}

function createPlane(config: Config, logger: Logger, engine: DockerEngine, readiness: ReadinessTracker): DataPlane {
  if (config.mode === 'node') return createNodeDataPlane({ config, logger, readiness });
  const label = config.nginx.containerLabel;
  return createNginxDataPlane({
    config,
    logger,
    readiness,
    notifyExternal: async () => {
      const n = await engine.signalByLabel(label, 'SIGHUP');
      if (n === 0) logger.warn({ module: 'nginx', label }, 'no running nginx container carries the label; nothing reloaded');
    },
  });
}

function logTable(logger: Logger, prev: RoutingTable, next: RoutingTable): void {
  for (const c of hostChanges(prev, next)) {
    logger.info({ module: 'routes', host: c.host, change: c.change, backends: c.backends }, `route ${c.change}: ${c.host} -> ${c.backends.join(', ') || (c.change === 'removed' ? 'gone' : 'no reachable backend (502)')}`);
  }
  for (const i of newIssues(prev, next)) {
    logger.warn({ module: 'routes', code: i.code, container: i.containerName, setting: i.setting, value: i.value }, i.message);
  }
}

/**
 * The composition root's main loop: discovery -> whole tables -> data plane, latest wins, one apply at a time.
 * Resolves with the exit code once a signal stopped everything.
 */
/** Proxy-wide nginx-proxy settings that only the nginx data plane has a use for: said once, never silently ignored. */
export function warnNginxOnlySettings(config: Config, logger: Logger): void {
  if (config.mode !== 'node') return;
  const nginxOnly: [string, boolean][] = [
    ['SHA1_UPSTREAM_NAME', config.sha1UpstreamName],
    ['RESOLVERS', config.resolvers !== undefined],
  ];
  for (const [setting, set] of nginxOnly) {
    if (set) logger.warn({ setting, code: 'WARN_SETTING_IGNORED' }, `${setting} only affects the nginx data plane (BERTH_MODE=nginx); the Node data plane has no use for it`);
  }
  // nginx-proxy's snippets are nginx directives: present files are named, so moving from nginx-proxy says what is left.
  const { vhostDir, confDir, proxyConf } = config.nginx;
  const snippets: [string, string[]][] = [
    ['BERTH_VHOST_DIR', listFiles(vhostDir, () => true)],
    ['BERTH_CONF_DIR', listFiles(confDir, (name) => name.endsWith('.conf'))],
    ['BERTH_PROXY_CONF', existsSync(proxyConf) ? [proxyConf] : []],
  ];
  for (const [setting, files] of snippets) {
    if (files.length === 0) continue;
    logger.warn({ setting, files, code: 'WARN_SETTING_IGNORED' }, `nginx snippets (${files.join(', ')}) only apply in the nginx data plane (BERTH_MODE=nginx); the Node data plane does not read them`);
  }
}

function listFiles(dir: string, wanted: (name: string) => boolean): string[] {
  try {
    return readdirSync(dir)
      .filter((name) => !name.startsWith('.') && wanted(name))
      .map((name) => join(dir, name))
      .sort();
  } catch {
    return [];
  }
}

export async function run(config: Config, logger: Logger, version: string): Promise<number> {
  // LOG_FORMAT is nginx syntax in both planes; a variable the Node plane cannot fill is a start error in both, so
  // switching BERTH_MODE never changes what the access log says.
  const badLogFormat = config.accessLog.enabled ? validateLogFormat(config.accessLog.format) : undefined;
  if (badLogFormat !== undefined) throw new BerthError('ERR_CONFIG_INVALID', badLogFormat);
  checkDockerSocket(config);
  warnNginxOnlySettings(config, logger);
  const engine = createDockerEngine(config.dockerHost);
  const hostIp = nipIoHostIp(config, logger);
  const discovery = createDiscoveryFor(config, logger, engine, hostIp);
  const readiness = new ReadinessTracker({ logger, admission: config.admission, drain: config.drain, circuitOpenMs: config.circuitBreakMs });
  const plane = createPlane(config, logger, engine, readiness);
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal, graceMs: config.shutdownTimeoutMs }, 'shutting down: no new connections, letting in-flight requests finish');
    discovery.stop();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  let prev = EMPTY_TABLE;
  let started = false;
  const adminState: AdminState = {
    ready: () => started && !stopping,
    routes: () => {
      const served = withPlaneIssues(prev, plane.issues?.() ?? []);
      const hosts = served.hosts.map((h) => ({
        hostname: h.hostname,
        routes: h.routes.map((r) => ({
          path: r.path,
          backends: r.upstreams.map((u) => ({ container: u.containerName, address: u.address, port: u.port, network: u.network, state: readiness.state(u), health: u.health })),
        })),
      }));
      return { hosts, issues: served.issues };
    },
    explain: (query) =>
      explainContainer(query, discovery.current() ?? { containers: [], placement: null }, withPlaneIssues(prev, plane.issues?.() ?? []), (u) => readiness.state(u), {
        ...(hostIp === undefined ? {} : { nipIoHostIp: hostIp }),
        plane: config.mode,
        preferIpv6: config.preferIpv6Network,
      }),
  };
  const admin = await startAdminServer(config.admin, adminState, logger);
  for await (const table of discovery.tables()) {
    logTable(logger, prev, table);
    prev = table;
    readiness.update(table);
    await plane.apply(table);
    if (!started) {
      await plane.start();
      started = true;
      const engineVersion = await engine.version().catch((err: unknown) => `unknown (${describeEngineError(err)})`);
      logger.info(
        { mode: config.mode, httpPort: config.httpPort, engine: engineVersion, docker: config.dockerHost, version, hosts: table.hosts.length },
        'berth ready',
      );
    }
  }
  if (started) await plane.stop(config.shutdownTimeoutMs);
  readiness.stop();
  await admin?.close();
  logger.info('stopped');
  return 0;
}
