/**
 * One berth data plane in its own process for bench/throughput, driven through the module API the way main.ts drives
 * it (readiness.update(table) -> plane.apply(table) -> plane.start()), with a hand-built routing table of one host
 * (bench.test) and one upstream (the local backend). Docker discovery is left out on purpose: it is not on the
 * request path, and a local backend keeps the comparison with nginx exact (same backend process for every path).
 *
 *   node --import tsx bench/throughput-plane.ts <node|nginx> <port> <backendPort> <stateDir> [extraEnvJson]
 *
 * Access logs are off (as for every nginx of the bench); readiness probes are the real ones (TCP connect).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../src/config.ts';
import type { DataPlane } from '../src/data-plane.ts';
import { createLogger } from '../src/logger.ts';
import { createNginxDataPlane } from '../src/nginx/index.ts';
import { createNodeDataPlane } from '../src/proxy/index.ts';
import { ReadinessTracker } from '../src/readiness/index.ts';
import { newRoute, newVirtualHost, type RoutingTable } from '../src/routing-table.ts';

const [mode = 'node', port = '0', backendPort = '0', stateDir = '/tmp/berth-bench-plane', extra = '{}'] = process.argv.slice(2);
mkdirSync(stateDir, { recursive: true });
const config = loadConfig(
  {
    ...(JSON.parse(extra) as Record<string, string>),
    BERTH_MODE: mode,
    HTTP_PORT: port,
    BERTH_LISTEN_ADDRESS: '127.0.0.1',
    LOG_LEVEL: 'warn',
    BERTH_STATE_DIR: stateDir,
    BERTH_VHOST_DIR: join(stateDir, 'vhost.d'),
    BERTH_CONF_DIR: join(stateDir, 'conf.d'),
    BERTH_PROXY_CONF: join(stateDir, 'proxy.conf'),
    BERTH_NGINX_BINARY: '/usr/sbin/nginx',
    DOCKER_HOST: 'unix:///var/run/docker.sock',
    // Every proxy in the bench runs without an access log (the nginx configs say access_log off).
    DISABLE_ACCESS_LOGS: 'true',
  },
  () => true,
);
const logger = createLogger(config.logLevel, false);
const table: RoutingTable = {
  hosts: [
    newVirtualHost({
      hostname: 'bench.test',
      routes: [
        newRoute({
          upstreams: [
            {
              containerId: 'bench-backend',
              containerName: 'bench-backend',
              address: '127.0.0.1',
              port: Number(backendPort),
              network: 'bridge',
              health: 'none',
              draining: false,
              probe: { kind: 'tcp', intervalMs: 2000, timeoutMs: 1000 },
            },
          ],
        }),
      ],
    }),
  ],
  issues: [],
};
const readiness = new ReadinessTracker({ logger, admission: config.admission, drain: config.drain, circuitOpenMs: config.circuitBreakMs });
const plane: DataPlane =
  mode === 'nginx' ? createNginxDataPlane({ config, logger, readiness, accessLog: 'off', nginxStdout: 'ignore' }) : createNodeDataPlane({ config, logger, readiness });
readiness.update(table);
await plane.apply(table);
await plane.start();

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  void plane.stop(2000).then(() => {
    readiness.stop();
    process.exit(0);
  });
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
