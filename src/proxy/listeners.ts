import type { Config } from '../config.ts';
import { BerthError, errorMessage } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { RoutingTable } from '../routing-table.ts';
import { PortListener, type PortSettings, type RequestHandlers } from './port-listener.ts';
import { errorCode } from './responses.ts';

/**
 * The Node data plane's listening ports: HTTP_PORT always, plus every EXTERNAL_HTTP_PORT of the current table
 * (nginx-proxy listens on each vhost's port in addition to the global one). `update(table)` opens the ports a table
 * adds and closes, gracefully, the ones no host uses any more. A port that cannot be bound is logged as an error
 * naming the port and its hosts; the other ports and the apply carry on, and the next table tries it again. Only
 * HTTP_PORT failing at start is fatal (ERR_LISTEN_FAILED), as before.
 *
 * BERTH_WORKERS: each worker runs its own Listeners; node:cluster makes the primary own every listening socket
 * (HTTP_PORT and extra ports alike) and hand connections out round robin, so extra ports need nothing special.
 */

export type ListenerSettings = PortSettings & Pick<Config, 'httpPort' | 'shutdownTimeoutMs'>;

export interface ListenersOptions {
  readonly settings: ListenerSettings;
  readonly handlers: RequestHandlers;
  readonly log: Logger;
  /** Called with every table given to start/update (the HTTP/2 forwarder retires backend sessions there). */
  readonly onTable?: (table: RoutingTable) => void;
}

/** Every port to listen on, with the hosts served there (HTTP_PORT's hosts are the ones without their own port). */
export function listenPorts(table: RoutingTable, httpPort: number): ReadonlyMap<number, readonly string[]> {
  const ports = new Map<number, string[]>([[httpPort, []]]);
  for (const host of table.hosts) {
    const port = host.httpPort ?? httpPort;
    const hosts = ports.get(port);
    if (hosts === undefined) ports.set(port, [host.hostname]);
    else hosts.push(host.hostname);
  }
  return ports;
}

export class Listeners {
  readonly #options: ListenersOptions;
  readonly #log: Logger;
  readonly #ports = new Map<number, PortListener>();
  /** Ports closing because no host uses them any more (stop waits for them too). */
  readonly #retiring = new Set<Promise<unknown>>();
  readonly #retiringListeners = new Set<PortListener>();
  #queue: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(options: ListenersOptions) {
    this.#options = options;
    this.#log = options.log;
  }

  /** The bound HTTP_PORT (undefined before start). */
  get port(): number | undefined {
    return this.#ports.get(this.#options.settings.httpPort)?.port;
  }

  /** Ports currently listened on, sorted (requested numbers; tests and logs). */
  get ports(): readonly number[] {
    return [...this.#ports.keys()].sort((a, b) => a - b);
  }

  /** Client connections open on every port, closing ones included. */
  get connections(): number {
    let n = 0;
    for (const listener of [...this.#ports.values(), ...this.#retiringListeners]) n += listener.connections;
    return n;
  }

  /** Listens on HTTP_PORT (or throws ERR_LISTEN_FAILED) and on the table's other ports. */
  async start(table: RoutingTable): Promise<void> {
    const s = this.#options.settings;
    const main = new PortListener(s.httpPort, s, this.#options.handlers, this.#log);
    try {
      await main.open();
    } catch (err) {
      throw new BerthError('ERR_LISTEN_FAILED', `cannot listen on ${s.listenAddress ?? '*'}:${s.httpPort}: ${errorMessage(err)}`, { cause: err });
    }
    this.#ports.set(s.httpPort, main);
    this.#log.debug({ port: main.port, address: s.listenAddress }, 'listening');
    await this.update(table);
  }

  /** Opens and closes ports to match the table; never throws. Calls are serialised. */
  update(table: RoutingTable): Promise<void> {
    this.#options.onTable?.(table);
    this.#queue = this.#queue.then(() => this.#update(table));
    return this.#queue;
  }

  async #update(table: RoutingTable): Promise<void> {
    if (this.#stopped) return;
    const s = this.#options.settings;
    const wanted = listenPorts(table, s.httpPort);
    for (const [port, listener] of this.#ports) {
      if (port === s.httpPort || wanted.has(port)) continue;
      this.#ports.delete(port);
      this.#retire(port, listener);
    }
    for (const [port, hosts] of wanted) {
      if (this.#ports.has(port)) continue;
      const listener = new PortListener(port, s, this.#options.handlers, this.#log);
      try {
        await listener.open();
        this.#ports.set(port, listener);
        this.#log.info({ port, hosts }, 'listening on an extra port (EXTERNAL_HTTP_PORT)');
      } catch (err) {
        this.#log.error({ err, port, hosts, code: errorCode(err) }, `cannot listen on port ${port} for ${hosts.join(', ')}; those hosts are not served`);
      }
    }
  }

  #retire(port: number, listener: PortListener): void {
    this.#log.info({ port }, 'no host uses this port any more: closing it');
    this.#retiringListeners.add(listener);
    const closing = listener.close(this.#options.settings.shutdownTimeoutMs).then((outcome) => {
      if (outcome === 'timeout') this.#log.warn({ port }, 'closed connections still open on a port no host uses any more');
    });
    this.#retiring.add(closing);
    void closing.finally(() => {
      this.#retiring.delete(closing);
      this.#retiringListeners.delete(listener);
    });
  }

  /** Graceful stop of every port (see PortListener.close); 'timeout' when connections had to be cut. */
  async stop(graceMs: number): Promise<'closed' | 'timeout'> {
    this.#stopped = true;
    await this.#queue;
    const listeners = [...this.#ports.values(), ...this.#retiringListeners];
    this.#ports.clear();
    const outcomes = await Promise.all(listeners.map((l) => l.close(graceMs)));
    await Promise.all(this.#retiring);
    return outcomes.includes('timeout') ? 'timeout' : 'closed';
  }
}
