import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newRoute, newVirtualHost } from '../routing-table.ts';
import { DEBUG_PATHS_STRIPPED, DEBUG_REGEX_HOSTNAME, debugDocument, upstreamName } from './debug-endpoint.ts';
import { testConfig, upstream } from './test-harness.ts';

const REQUEST = { host: 'app.test', https: '', http2: '', http3: '', ssl_cipher: '', ssl_protocol: '' };

describe('debugDocument', () => {
  it('has the shape of nginx-proxy\'s debug JSON', async () => {
    const config = await testConfig({ debugEndpoint: true, defaultHost: 'app.test' });
    const vhost = newVirtualHost({ hostname: 'app.test', routes: [newRoute({ path: '/', upstreams: [upstream(81, 'web1'), upstream(81, 'web2')] }), newRoute({ path: '/api/', dest: '/', upstreams: [upstream(82, 'api')] })] });
    const doc = JSON.parse(debugDocument(config, vhost, REQUEST, 'berth-1.0.0')) as Record<string, Record<string, unknown>>;
    assert.equal(doc['global']?.['enable_debug_endpoint'], 'true');
    assert.equal(doc['global']?.['trust_downstream_proxy'], true);
    assert.equal(doc['global']?.['default_root_response'], '404');
    assert.equal(doc['request']?.['host'], 'app.test');
    assert.equal(doc['vhost']?.['enable_debug_endpoint'], true);
    assert.equal(doc['vhost']?.['default'], true);
    assert.equal(doc['vhost']?.['hostname'], 'app.test');
    assert.equal(doc['vhost']?.['upstream_name'], 'app.test');
    const paths = doc['vhost']?.['paths'] as Record<string, Record<string, unknown>>;
    assert.deepEqual(paths['/']?.['ports'], { 81: [{ Name: 'web1' }, { Name: 'web2' }] });
    assert.equal(paths['/api/']?.['dest'], '/');
    assert.equal(paths['/api/']?.['upstream'], upstreamName(vhost, '/api/', false));
    assert.match(String(paths['/api/']?.['upstream']), /^app\.test-[0-9a-f]{40}$/);
    assert.equal(doc['warning'], undefined);
  });
  it('hides regex hostnames and strips paths from documents over 4000 characters', async () => {
    const config = await testConfig();
    const routes = Array.from({ length: 40 }, (_v, i) => newRoute({ path: `/p${i}/`, upstreams: [upstream(1000 + i, `container-${i}`)] }));
    const vhost = newVirtualHost({ hostname: '~^a\\.test$', routes });
    const text = debugDocument(config, vhost, REQUEST, 'v');
    const doc = JSON.parse(text) as Record<string, Record<string, unknown>>;
    assert.equal(doc['vhost']?.['hostname'], DEBUG_REGEX_HOSTNAME);
    assert.equal(doc['vhost']?.['is_regexp'], true);
    assert.equal(doc['vhost']?.['paths'], undefined);
    assert.equal(doc['warning'], DEBUG_PATHS_STRIPPED);
    assert.ok(text.length < 4000);
  });
});
