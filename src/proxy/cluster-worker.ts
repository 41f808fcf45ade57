/**
 * Entry point of one BERTH_WORKERS worker process (forked by cluster-plane.ts): a one-process Node data plane built
 * from the primary's settings (`init`) and fed with routing tables over IPC. Signals are the primary's business: a
 * worker ignores SIGTERM/SIGINT (a terminal's Ctrl-C reaches the whole process group) and stops when told to, or
 * when the primary goes away (IPC disconnect).
 */
import { errorMessage } from '../errors.ts';
import { createLogger } from '../logger.ts';
import { ReadinessTracker } from '../readiness/index.ts';
import type { RoutingTable } from '../routing-table.ts';
import type { FromWorker, ToWorker } from './cluster-plane.ts';
import { createNodeDataPlane, type NodeDataPlane, type ProxyConfig } from './node-data-plane.ts';

interface Running {
  readonly config: ProxyConfig;
  readonly readiness: ReadinessTracker;
  readonly plane: NodeDataPlane;
}

let running: Running | undefined;
let started = false;
let stopping = false;
let queue: Promise<void> = Promise.resolve();

function reply(message: FromWorker): void {
  if (process.connected) process.send?.(message);
}

function init(config: ProxyConfig): Running {
  const pretty = config.logFormat === 'pretty' || (config.logFormat === 'auto' && process.stdout.isTTY === true);
  const logger = createLogger(config.logLevel, pretty).child({ worker: process.pid });
  const readiness = new ReadinessTracker({ logger, admission: config.admission, drain: config.drain, circuitOpenMs: config.circuitBreakMs });
  return { config, readiness, plane: createNodeDataPlane({ config: { ...config, workers: 1 }, logger, readiness }) };
}

async function onTable(table: RoutingTable): Promise<void> {
  if (running === undefined) return;
  running.readiness.update(table);
  await running.plane.apply(table);
  if (started) return;
  started = true;
  try {
    await running.plane.start();
    reply({ type: 'listening' });
  } catch (err) {
    reply({ type: 'failed', message: errorMessage(err) });
    process.exit(1);
  }
}

async function stop(graceMs: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  if (running !== undefined) {
    await running.plane.stop(graceMs);
    running.readiness.stop();
  }
  process.exit(0);
}

function handle(message: ToWorker): Promise<void> {
  if (message.type === 'init') {
    running ??= init(message.config);
    return Promise.resolve();
  }
  return message.type === 'table' ? onTable(message.table) : stop(message.graceMs);
}

process.on('message', (message: ToWorker) => {
  queue = queue.then(() => handle(message));
});
process.on('disconnect', () => void stop(running?.config.shutdownTimeoutMs ?? 0));
process.on('SIGTERM', () => undefined);
process.on('SIGINT', () => undefined);
reply({ type: 'hello' });
