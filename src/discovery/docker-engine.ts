import Docker from 'dockerode';
import { BerthError, errorMessage } from '../errors.ts';
import { toContainerInfo, type ContainerInfo, type InspectLike, type ProxyPlacement } from './container-info.ts';
import { readContainerIdCandidates } from './own-container.ts';

/**
 * berth's view of the Docker Engine API: the only module that talks to dockerode. Everything it returns is already
 * normalised (ContainerInfo), so the rest of discovery is testable without an engine.
 */

/** Container and network events that can change routing; each one only triggers a debounced full relist. */
export const WATCHED_EVENTS = [
  'start', 'die', 'stop', 'kill', 'destroy', 'pause', 'unpause', 'health_status', 'rename', 'connect', 'disconnect',
] as const;

export interface EngineEvent {
  readonly type: string;
  readonly action: string;
  readonly id: string;
  readonly name: string;
  /** For `kill`: the signal, as the engine reports it (a number such as `15`, or a name). */
  readonly signal?: string;
}

export type ContainerFilters = Readonly<Record<string, readonly string[]>>;

export interface EventSubscription {
  close(): void;
}

export interface DockerEngine {
  version(): Promise<string>;
  /**
   * Running containers, inspected. `filters` (DOCKER_CONTAINER_FILTERS, Engine API list filters) are ANDed with
   * status=running; a `status` key in them is replaced, because berth routes running containers only.
   */
  listRunning(filters?: ContainerFilters): Promise<ContainerInfo[]>;
  /** Where berth runs (null: on the host), or where the nginx container runs when `nginxLabel` is given. */
  placement(nginxLabel?: string): Promise<ProxyPlacement | null>;
  subscribe(onEvent: (e: EngineEvent) => void, onEnd: (err: Error | undefined) => void): Promise<EventSubscription>;
  /** Sends `signal` to every running container carrying `label`; returns how many were signalled. */
  signalByLabel(label: string, signal: string): Promise<number>;
}

export function dockerOptions(dockerHost: string): Docker.DockerOptions {
  if (dockerHost.startsWith('unix://')) return { socketPath: dockerHost.slice('unix://'.length) };
  const url = new URL(dockerHost.replace(/^tcp:/, 'http:'));
  return { protocol: 'http', host: url.hostname, port: Number(url.port || 2375) };
}

function isNotFound(err: unknown): boolean {
  return (err as { statusCode?: number }).statusCode === 404;
}

export function createDockerEngine(dockerHost: string): DockerEngine {
  const docker = new Docker(dockerOptions(dockerHost));
  let ownIds: Promise<string[]> | undefined;

  async function inspect(id: string): Promise<InspectLike | undefined> {
    try {
      return (await docker.getContainer(id).inspect()) as unknown as InspectLike;
    } catch (err) {
      if (isNotFound(err)) return undefined; // gone between list and inspect
      throw err;
    }
  }

  async function toPlacement(raw: InspectLike): Promise<ProxyPlacement> {
    const info = toContainerInfo(raw);
    if (info.networkMode === 'host' || info.networks.length === 0) return { hostNetwork: info.networkMode === 'host', networks: info.networks };
    // Whether a network is --internal is not in the container's inspect: it decides which gateway reaches the host.
    const internal = new Set((await docker.listNetworks()).filter((n) => n.Internal === true).map((n) => n.Name));
    return { hostNetwork: false, networks: info.networks.map((n) => ({ ...n, internal: internal.has(n.name) })) };
  }

  return {
    async version() {
      const v = await docker.version();
      return `${v.Version} (API ${v.ApiVersion})`;
    },
    async listRunning(filters = {}) {
      const list = await docker.listContainers({ filters: { ...filters, status: ['running'] } });
      const inspected = await Promise.all(list.map((c) => inspect(c.Id)));
      return inspected.filter((c): c is InspectLike => c !== undefined).map(toContainerInfo);
    },
    async placement(nginxLabel) {
      if (nginxLabel !== undefined) {
        const [first] = await docker.listContainers({ filters: { label: [nginxLabel], status: ['running'] } });
        const raw = first ? await inspect(first.Id) : undefined;
        if (raw) return toPlacement(raw);
      }
      ownIds ??= readContainerIdCandidates();
      for (const id of await ownIds) {
        const raw = await inspect(id);
        if (raw) return toPlacement(raw);
      }
      return null;
    },
    async subscribe(onEvent, onEnd) {
      const stream = (await docker.getEvents({
        filters: { type: ['container', 'network'], event: [...WATCHED_EVENTS] },
      })) as NodeJS.ReadableStream & { destroy(): void };
      let buffer = '';
      let ended = false;
      const end = (err: Error | undefined): void => {
        if (ended) return;
        ended = true;
        onEnd(err);
      };
      stream.on('data', (chunk: Buffer) => {
        buffer += chunk.toString('utf8');
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, nl).trim();
          buffer = buffer.slice(nl + 1);
          if (line === '') continue;
          try {
            const e = JSON.parse(line) as { Type?: string; Action?: string; Actor?: { ID?: string; Attributes?: Record<string, string> } };
            const attributes = e.Actor?.Attributes ?? {};
            const signal = attributes['signal'];
            onEvent({
              type: e.Type ?? '',
              action: e.Action ?? '',
              id: e.Actor?.ID ?? '',
              name: attributes['name'] ?? '',
              ...(signal === undefined ? {} : { signal }),
            });
          } catch {
            // A malformed line must not stop the stream; the periodic resync covers anything missed.
          }
        }
      });
      stream.on('end', () => end(new BerthError('ERR_DOCKER_UNAVAILABLE', 'the Docker event stream ended')));
      stream.on('error', (err: Error) => end(err));
      stream.on('close', () => end(new BerthError('ERR_DOCKER_UNAVAILABLE', 'the Docker event stream closed')));
      return {
        close() {
          ended = true;
          stream.destroy();
        },
      };
    },
    async signalByLabel(label, signal) {
      const list = await docker.listContainers({ filters: { label: [label], status: ['running'] } });
      await Promise.all(list.map((c) => docker.getContainer(c.Id).kill({ signal })));
      return list.length;
    },
  };
}

export function describeEngineError(err: unknown): string {
  const code = (err as { code?: string }).code;
  if (code === 'ENOENT') return 'the Docker socket does not exist';
  if (code === 'ECONNREFUSED') return 'the Docker engine refused the connection (is dockerd running?)';
  if (code === 'EACCES') return 'permission denied on the Docker socket';
  return errorMessage(err);
}
