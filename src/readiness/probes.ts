import http from 'node:http';
import net from 'node:net';
import type { ReadinessProbe } from '../routing-table.ts';

/** One probe attempt: resolves true when the backend is ready, false otherwise. Never rejects. */
export type ProbeFn = (address: string, port: number, probe: ReadinessProbe) => Promise<boolean>;

function tcpProbe(address: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: address, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function httpProbe(address: string, port: number, path: string, timeoutMs: number, expect: readonly [number, number]): Promise<boolean> {
  return new Promise((resolve) => {
    const host = address.includes(':') ? `[${address}]` : address;
    const req = http.get({ host: address, port, path, agent: false, timeout: timeoutMs, headers: { host: `${host}:${port}`, 'user-agent': 'berth-readiness' } }, (res) => {
      const status = res.statusCode ?? 0;
      res.resume();
      req.destroy();
      resolve(status >= expect[0] && status <= expect[1]);
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(false));
  });
}

export const probeBackend: ProbeFn = (address, port, probe) =>
  probe.kind === 'tcp' ? tcpProbe(address, port, probe.timeoutMs) : httpProbe(address, port, probe.path, probe.timeoutMs, probe.expectStatus);
