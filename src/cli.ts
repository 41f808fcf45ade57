#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { loadConfig } from './config.ts';
import { BerthError, errorMessage, exitCodeFor } from './errors.ts';
import { adminGet } from './admin/admin-client.ts';
import { formatExplanation, formatRoutes } from './admin/format.ts';
import type { RoutesView } from './admin/admin-server.ts';
import type { Explanation } from './discovery/explain-container.ts';
// The daemon's modules (discovery, data planes, pino) are imported only by the commands that need them, so that
// `berth healthcheck`, run by Docker every few seconds, starts fast.

/** package.json sits one level up from src/cli.ts and two from dist/src/cli.js. */
function readVersion(): string {
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      return (JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { version: string }).version;
    } catch {
      // not at this level
    }
  }
  return 'unknown';
}

const VERSION = readVersion();

const USAGE = `berth ${VERSION}: a Docker-native reverse proxy with service discovery

Usage:
  berth [run]        watch Docker and serve every container that has VIRTUAL_HOST (the default command)
  berth routes       the live routing table of the running berth: host, path, backends and their state
  berth explain C    why container C (name or id) is or is not routed
  berth render       print the nginx config berth would write for the current Docker state, touching nothing
  berth healthcheck  exit 0 when the running berth is up and serving its routing table (for HEALTHCHECK)
  berth --version    print the version
  berth --help       this text (also: berth <command> --help)

Settings come from the environment (DOCKER_HOST, HTTP_PORT, BERTH_MODE, DEFAULT_HOST, ...): see README.md.
`;

const HELP: Record<string, string> = {
  run: `berth run: watch the Docker engine (DOCKER_HOST) and serve every running container that sets VIRTUAL_HOST,
on HTTP_PORT, through the data plane chosen by BERTH_MODE (node or nginx). Stops gracefully on SIGTERM/SIGINT.
`,
  routes: `berth routes [--json]: ask the running berth (over its admin endpoint, BERTH_ADMIN) for its live routing
table: every host and path, each backend container with its address and state (ready, starting, draining,
unhealthy), and the containers that were not routed with the reason.
`,
  explain: `berth explain <container> [--json]: ask the running berth why a container (name, or id prefix of at least
4 characters) is or is not routed: no VIRTUAL_HOST, a setting that failed to parse, no shared network, a port that is
not exposed or not listening, a HEALTHCHECK that is not healthy yet, stopping.
`,
  healthcheck: `berth healthcheck: exit 0 when the running berth answers on its admin endpoint and serves its first
routing table, 1 otherwise. The image's HEALTHCHECK uses it.
`,
  render: `berth render: list the running containers once, build the routing table and print the nginx config
berth would write for it (BERTH_MODE does not matter). Warnings about skipped containers go to stderr.
`,
};

async function main(argv: string[]): Promise<number> {
  const [command = 'run', ...rest] = argv;
  if (command === '--version' || command === '-v') {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  if (command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (!(command in HELP)) {
    process.stderr.write(`berth: unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(HELP[command] ?? USAGE);
    return 0;
  }
  const json = rest.includes('--json');
  const args = rest.filter((a) => a !== '--json');
  const arity = command === 'explain' ? 1 : 0;
  if (args.length !== arity || (json && command !== 'routes' && command !== 'explain')) {
    process.stderr.write(`berth ${command}: ${args.length < arity ? 'missing the container name' : `unexpected argument ${JSON.stringify(args[arity] ?? '--json')}`}\n\n${HELP[command] ?? ''}`);
    return 2;
  }
  const config = loadConfig(process.env);
  if (command === 'routes' || command === 'explain') {
    const path = command === 'routes' ? '/routes' : `/explain?container=${encodeURIComponent(args[0] ?? '')}`;
    const { body } = await adminGet(config.admin, path);
    if (json) process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
    else process.stdout.write(command === 'routes' ? formatRoutes(body as RoutesView) : formatExplanation(body as Explanation));
    return 0;
  }
  if (command === 'healthcheck') {
    const { status } = await adminGet(config.admin, '/healthz', 2000).catch(() => ({ status: 0 }));
    process.stdout.write(status === 200 ? 'berth is ready\n' : status === 0 ? 'berth is not answering\n' : 'berth is starting or stopping\n');
    return status === 200 ? 0 : 1;
  }
  const pretty = config.logFormat === 'pretty' || (config.logFormat === 'auto' && process.stdout.isTTY === true);
  if (command === 'render') {
    const [{ createLogger }, { checkDockerSocket, createDiscoveryFor }, { createDockerEngine }, { renderNginxConfig }] = await Promise.all([
      import('./logger.ts'),
      import('./main.ts'),
      import('./discovery/index.ts'),
      import('./nginx/index.ts'),
    ]);
    const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, pretty, !config.noColor);
    checkDockerSocket(config);
    const table = await createDiscoveryFor(config, logger, createDockerEngine(config.dockerHost)).snapshot();
    for (const issue of table.issues) process.stderr.write(`warning: ${issue.message}\n`);
    const result = await renderNginxConfig(table, config);
    process.stdout.write(result.text);
    return 0;
  }
  const [{ createLogger }, { run }] = await Promise.all([import('./logger.ts'), import('./main.ts')]);
  const logger = createLogger(config.logLevel, pretty, !config.noColor);
  try {
    return await run(config, logger, VERSION);
  } catch (err) {
    logger.fatal({ code: err instanceof BerthError ? err.code : undefined }, errorMessage(err));
    logger.flush();
    return exitCodeFor(err);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const code = err instanceof BerthError ? `${err.code}: ` : '';
    process.stderr.write(`berth: ${code}${errorMessage(err)}\n`);
    process.exitCode = exitCodeFor(err);
  },
);
