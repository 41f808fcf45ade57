#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { loadConfig } from './config.ts';
import { BerthError, errorMessage } from './errors.ts';
import { createLogger } from './logger.ts';
import { checkDockerSocket, createDiscoveryFor, exitCodeFor, run } from './main.ts';
import { createDockerEngine } from './discovery/index.ts';
import { renderNginxConfig } from './nginx/index.ts';

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
  berth render       print the nginx config berth would write for the current Docker state, touching nothing
  berth --version    print the version
  berth --help       this text (also: berth <command> --help)

Settings come from the environment (DOCKER_HOST, HTTP_PORT, BERTH_MODE, DEFAULT_HOST, ...): see README.md.
`;

const HELP: Record<string, string> = {
  run: `berth run: watch the Docker engine (DOCKER_HOST) and serve every running container that sets VIRTUAL_HOST,
on HTTP_PORT, through the data plane chosen by BERTH_MODE (node or nginx). Stops gracefully on SIGTERM/SIGINT.
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
  if (rest.length > 0) {
    process.stderr.write(`berth ${command}: unexpected argument ${JSON.stringify(rest[0])}\n`);
    return 2;
  }
  const config = loadConfig(process.env);
  const pretty = config.logFormat === 'pretty' || (config.logFormat === 'auto' && process.stdout.isTTY === true);
  if (command === 'render') {
    const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, pretty);
    checkDockerSocket(config);
    const table = await createDiscoveryFor(config, logger, createDockerEngine(config.dockerHost)).snapshot();
    for (const issue of table.issues) process.stderr.write(`warning: ${issue.message}\n`);
    const result = await renderNginxConfig(table, config);
    process.stdout.write(result.text);
    return 0;
  }
  const logger = createLogger(config.logLevel, pretty);
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
