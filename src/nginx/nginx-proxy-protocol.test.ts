import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { baselineTracker, captureLogger, echoBackend, freePort, rawExchange, until, up, type Echo, type LogRecord, NGINX, nginxPlaneEnv } from '../../test/fixtures/nginx/plane-helpers.ts';
import { route } from '../../test/fixtures/nginx/scenario-helpers.ts';
import { loadConfig } from '../config.ts';
import type { DataPlane } from '../data-plane.ts';
import { newVirtualHost } from '../routing-table.ts';
import { createNginxDataPlane } from './nginx-data-plane.ts';

/**
 * ENABLE_PROXY_PROTOCOL in the nginx data plane (real nginx): the PROXY header's source is the client everywhere
 * (X-Real-IP, X-Forwarded-For, NETWORK_ACCESS, the LOG_JSON access log), its destination port is the port the
 * client used (X-Forwarded-Port, Host), and a connection without the header gets no answer.
 */


function proxied(source: string, path: string, headers = ''): string {
  return `PROXY TCP4 ${source} 127.0.0.1 40000 8080\r\nGET ${path} HTTP/1.1\r\nHost: pp.test\r\n${headers}Connection: close\r\n\r\n`;
}

function parse(raw: string): { status: number; body: string } {
  const [head = '', ...rest] = raw.split('\r\n\r\n');
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), body: rest.join('\r\n\r\n') };
}

describe('nginx data plane with ENABLE_PROXY_PROTOCOL (real nginx)', { skip: !existsSync(NGINX) }, () => {
  const logs: LogRecord[] = [];
  let dir = '';
  let port = 0;
  let plane: DataPlane;
  let backend: { server: http.Server; port: number };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-pp-'));
    [port, backend] = await Promise.all([freePort(), echoBackend('pp')]);
    const config = loadConfig({
      HTTP_PORT: String(port),
      BERTH_LISTEN_ADDRESS: '127.0.0.1',
      ENABLE_PROXY_PROTOCOL: 'true',
      LOG_JSON: 'true',
      ...nginxPlaneEnv(dir),
    });
    const logger = captureLogger(logs);
    plane = createNginxDataPlane({ config, logger, readiness: baselineTracker(logger), nginxStdout: 'ignore', accessLog: join(dir, 'access.log') });
    const routes = [route('/', [up('pp-1', backend.port)]), route('/internal/', [up('pp-1', backend.port)], { networkAccess: 'internal' })];
    await plane.apply({ hosts: [newVirtualHost({ hostname: 'pp.test', routes })], issues: [] });
    await plane.start();
  });

  after(async () => {
    await plane.stop(1000).catch(() => undefined);
    backend.server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('the PROXY header source is the client: X-Real-IP, X-Forwarded-For (appended when trusted), port from the header', async () => {
    const r = parse(await rawExchange(port, proxied('8.8.8.8', '/x', 'X-Forwarded-For: 1.1.1.1\r\n')));
    assert.equal(r.status, 200, r.body);
    const { headers } = JSON.parse(r.body) as Echo;
    assert.equal(headers['x-real-ip'], '8.8.8.8');
    assert.equal(headers['x-forwarded-for'], '1.1.1.1, 8.8.8.8');
    assert.equal(headers['x-forwarded-port'], '8080');
    assert.equal(headers.host, 'pp.test:8080');
  });

  it('NETWORK_ACCESS=internal judges the PROXY header source: public 403, private 200', async () => {
    assert.equal(parse(await rawExchange(port, proxied('8.8.8.8', '/internal/'))).status, 403);
    assert.equal(parse(await rawExchange(port, proxied('10.1.2.3', '/internal/'))).status, 200);
  });

  it('a connection without a PROXY header gets no response', async () => {
    assert.equal(await rawExchange(port, 'GET / HTTP/1.1\r\nHost: pp.test\r\nConnection: close\r\n\r\n'), '');
  });

  it('LOG_JSON: one JSON object per request, client_ip from the PROXY header', async () => {
    await rawExchange(port, proxied('9.9.9.9', '/json-logged'));
    const line = await until('the JSON access log line', async () => {
      const text = await readFile(join(dir, 'access.log'), 'utf8').catch(() => '');
      return text.split('\n').find((l) => l.includes('/json-logged'));
    });
    const entry = JSON.parse(line) as Record<string, string>;
    assert.equal(entry['client_ip'], '9.9.9.9');
    assert.equal(entry['request'], 'GET /json-logged HTTP/1.1');
    assert.equal(entry['status'], '200');
  });
});
