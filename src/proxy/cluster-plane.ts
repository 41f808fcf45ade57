import cluster, { type Worker } from 'node:cluster';
import { BerthError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { RoutingTable } from '../routing-table.ts';
import type { NodeDataPlane, ProxyConfig } from './node-data-plane.ts';

/**
 * BERTH_WORKERS > 1: the Node data plane in N worker processes (node:cluster; the primary accepts connections and
 * hands them out round robin, Node 20 has no SO_REUSEPORT for cluster HTTP servers). The primary keeps discovery,
 * the admin endpoint and its own readiness tracker; every routing table is sent to every worker over IPC (structured
 * clone), and each worker runs its own readiness tracker (probes and passive health per worker) and a one-process
 * Node data plane (cluster-worker.ts). A worker that dies is replaced and gets the latest table first.
 *
 * Listening: every worker runs the whole listener set (listeners.ts: HTTP_PORT, each EXTERNAL_HTTP_PORT of the table,
 * PROXY protocol, h2c sniffing); node:cluster makes the primary own each listening socket, created when the first
 * worker listens on it and closed when the last worker closes it, so extra ports open and close with the tables the
 * workers get. A port that cannot be bound is logged by every worker. `port` is HTTP_PORT.
 *
 * Messages: primary -> worker `{ type: 'init', config }` (the primary's settings: a worker reads no environment),
 * `{ type: 'table', table }`, `{ type: 'stop', graceMs }`; worker -> primary `{ type: 'hello' }` (its handler is
 * installed: IPC messages sent before that, e.g. at cluster's `online`, would be lost while the module loads),
 * `{ type: 'listening' }`, `{ type: 'failed', message }`.
 */

export type ToWorker =
  | { readonly type: 'init'; readonly config: ProxyConfig }
  | { readonly type: 'table'; readonly table: RoutingTable }
  | { readonly type: 'stop'; readonly graceMs: number };
export type FromWorker = { readonly type: 'hello' } | { readonly type: 'listening' } | { readonly type: 'failed'; readonly message: string };

export interface ClusterPlaneOptions {
  readonly config: ProxyConfig;
  readonly logger: Logger;
}

function workerScript(): string {
  // Development runs the .ts sources through tsx (inherited execArgv); the image runs the compiled .js.
  const extension = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
  return new URL(`./cluster-worker.${extension}`, import.meta.url).pathname;
}

class ClusterPlane implements NodeDataPlane {
  readonly name = 'node' as const;
  readonly waiting = 0;
  readonly #options: ClusterPlaneOptions;
  readonly #log: Logger;
  readonly #workers = new Set<Worker>();
  #table: RoutingTable | undefined;
  #stopping = false;

  constructor(options: ClusterPlaneOptions) {
    this.#options = options;
    this.#log = options.logger.child({ module: 'proxy' });
  }

  get port(): number {
    return this.#options.config.httpPort;
  }

  async apply(table: RoutingTable): Promise<void> {
    this.#table = table;
    for (const worker of this.#workers) send(worker, { type: 'table', table });
  }

  async start(): Promise<void> {
    cluster.setupPrimary({ exec: workerScript(), serialization: 'advanced' });
    const started = Array.from({ length: this.#options.config.workers }, () => this.#fork());
    await Promise.all(started);
    this.#log.debug({ workers: this.#workers.size, port: this.port }, 'listening (cluster)');
  }

  #fork(): Promise<void> {
    const worker = cluster.fork();
    this.#workers.add(worker);
    let listening = false;
    worker.on('exit', (code, signal) => {
      this.#workers.delete(worker);
      // A worker that never listened failed at start: start() reports it (no restart loop on a busy port).
      if (this.#stopping || !listening) return;
      this.#log.error({ worker: worker.process.pid, code, signal }, 'proxy worker exited; starting a new one');
      this.#fork().catch((err: unknown) => this.#log.error({ err }, 'could not replace a proxy worker'));
    });
    return new Promise<void>((resolve, reject) => {
      worker.on('message', (message: FromWorker) => {
        if (message.type === 'hello') {
          send(worker, { type: 'init', config: { ...this.#options.config, workers: 1 } });
          if (this.#table !== undefined) send(worker, { type: 'table', table: this.#table });
        } else if (message.type === 'listening') {
          listening = true;
          resolve();
        }
        else reject(new BerthError('ERR_LISTEN_FAILED', message.message));
      });
      worker.once('exit', () => reject(new BerthError('ERR_LISTEN_FAILED', 'a proxy worker exited before it listened')));
    });
  }

  async stop(graceMs: number): Promise<void> {
    this.#stopping = true;
    const exits = [...this.#workers].map(
      (worker) =>
        new Promise<void>((resolve) => {
          if (worker.isDead()) {
            resolve();
            return;
          }
          const timer = setTimeout(() => worker.process.kill('SIGKILL'), graceMs + 2000);
          worker.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          send(worker, { type: 'stop', graceMs });
        }),
    );
    await Promise.all(exits);
  }
}

function send(worker: Worker, message: ToWorker): void {
  if (worker.isConnected()) worker.send(message);
}

export function createClusterPlane(options: ClusterPlaneOptions): NodeDataPlane {
  return new ClusterPlane(options);
}
