import http from 'node:http';
import { BerthError } from '../errors.ts';

/** GET a path of the running berth's admin endpoint; rejects with ERR_ADMIN_UNREACHABLE when nothing answers. */
export function adminGet(endpoint: string, path: string, timeoutMs = 3000): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const target: http.RequestOptions = endpoint.startsWith('unix://')
      ? { socketPath: endpoint.slice('unix://'.length) }
      : (() => {
          const u = new URL(endpoint.replace(/^tcp:/, 'http:'));
          return { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port) };
        })();
    const req = http.get({ ...target, path, timeout: timeoutMs, headers: { host: 'berth-admin' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as unknown });
        } catch {
          reject(new BerthError('ERR_ADMIN_UNREACHABLE', `the admin endpoint ${endpoint} answered something that is not JSON`));
        }
      });
    });
    req.once('timeout', () => req.destroy(new Error('timed out')));
    req.once('error', (err) =>
      reject(new BerthError('ERR_ADMIN_UNREACHABLE', `no berth answers on ${endpoint} (${err.message}): is berth running, with the same BERTH_ADMIN?`)),
    );
  });
}
