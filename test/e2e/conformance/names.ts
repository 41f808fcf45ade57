import { createServer, type Server } from 'node:net';
import type { Names } from './types.ts';

/**
 * Names and ports for the scenarios. Ports come from a pool reserved once per run (every socket of the pool is
 * held open until all are bound, so the ports are distinct), because scenario builders are synchronous.
 */

export async function reservePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i += 1) {
      const server = createServer();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '0.0.0.0', () => resolve());
      });
      servers.push(server);
    }
    return servers.map((s) => {
      const address = s.address();
      return typeof address === 'object' && address !== null ? address.port : 0;
    });
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}

export class PortPool {
  private next = 0;
  constructor(private readonly ports: readonly number[]) {}
  take(): number {
    const port = this.ports[this.next];
    if (port === undefined) throw new Error(`the conformance port pool (${this.ports.length}) is exhausted: reserve more in conformance.test.ts`);
    this.next += 1;
    return port;
  }
}

/** Names for one row: `<row id>.<run>.test` and ports by key. */
export function namesFor(rowId: string, run: string, pool: PortPool): Names {
  const domain = `${rowId}.${run}.test`;
  const ports = new Map<string, number>();
  return {
    rowId,
    run,
    domain,
    host: (sub) => (sub === undefined || sub === '' ? domain : `${sub}.${domain}`),
    port: (key) => {
      let port = ports.get(key);
      if (port === undefined) {
        port = pool.take();
        ports.set(key, port);
      }
      return port;
    },
  };
}

/** Names for listing the table without running it (scripts/compat-table.ts): ports are placeholders. */
export function placeholderNames(rowId: string): Names {
  let fake = 40000;
  return namesFor(rowId, 'run', { take: () => (fake += 1) } as unknown as PortPool);
}
