import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../config.ts';
import { explainNginxError } from './explain-nginx-error.ts';
import { renderNginxConfig } from './render-nginx-config.ts';
import { newRoute, newVirtualHost } from '../routing-table.ts';

const up = (name: string, address: string) => ({ containerId: `${name}-id`, containerName: name, address, port: 80, network: 'bridge', health: 'none' as const, draining: false, probe: { kind: 'tcp' as const, intervalMs: 2000, timeoutMs: 1000 } });

describe('explainNginxError', () => {
  it('maps a line of the generated file to the host (and containers) whose block it is in', async () => {
    const config = loadConfig({ HTTP_PORT: '80', BERTH_VHOST_DIR: '/v' }, () => false);
    const table = {
      hosts: [
        newVirtualHost({ hostname: 'a.test', routes: [newRoute({ path: '/', upstreams: [up('a-1', '10.0.0.1')] })] }),
        newVirtualHost({ hostname: 'b.test', routes: [newRoute({ path: '/', upstreams: [up('b-1', '10.0.0.2')] })] }),
      ],
      issues: [],
    };
    const { text, model } = await renderNginxConfig(table, config, { exists: () => false });
    const lines = text.split('\n');
    const serverLine = lines.findIndex((l) => l.includes('proxy_pass http://b.test;')) + 1;
    const upstreamLine = lines.findIndex((l) => l.includes('server 10.0.0.1:80 ')) + 1;
    const out = (n: number): string => `nginx: [emerg] something wrong in /s/candidate/berth.conf:${n}\nnginx: configuration file /s/candidate/nginx.conf test failed`;
    const inServer = explainNginxError(out(serverLine), '/s/candidate/berth.conf', text, model, ['/v']);
    assert.equal(inServer.kind, 'generated');
    assert.deepEqual(inServer.hosts, ['b.test']);
    assert.deepEqual(inServer.containers, ['b-1']);
    const inUpstream = explainNginxError(out(upstreamLine), '/s/candidate/berth.conf', text, model, ['/v']);
    assert.deepEqual(inUpstream.hosts, ['a.test']);
    const atTop = explainNginxError(out(1), '/s/candidate/berth.conf', text, model, ['/v']);
    assert.deepEqual(atTop.hosts, []);
  });

  it('names a snippet file and the hosts that include it', async () => {
    const config = loadConfig({ HTTP_PORT: '80', BERTH_VHOST_DIR: '/v' }, () => false);
    const table = { hosts: [newVirtualHost({ hostname: 'a.test', routes: [newRoute({ path: '/', upstreams: [up('a-1', '10.0.0.1')] })] })], issues: [] };
    const { text, model } = await renderNginxConfig(table, config, { exists: (p) => p === '/v/a.test' });
    const culprit = explainNginxError('nginx: [emerg] unknown directive "x" in /v/a.test:3', '/s/c.conf', text, model, ['/v']);
    assert.equal(culprit.kind, 'snippet');
    assert.equal(culprit.file, '/v/a.test');
    assert.equal(culprit.line, 3);
    assert.deepEqual(culprit.hosts, ['a.test']);
  });
});
