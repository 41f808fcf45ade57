import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { cell, compatTable, README_PATH, readmeTable, supportText, withTable } from '../../scripts/compat-table.ts';
import { ROWS } from '../e2e/conformance/rows.ts';
import { PLANES } from '../e2e/conformance/types.ts';

describe('the README compatibility table (scripts/compat-table.ts)', () => {
  it('is the one generated from the conformance table', () => {
    const current = readmeTable(readFileSync(README_PATH, 'utf8'));
    assert.ok(current !== undefined, 'README.md has the <!-- compat-table:start --> ... <!-- compat-table:end --> markers');
    assert.equal(current, compatTable(), 'README.md is stale: run `node --import tsx scripts/compat-table.ts --write`');
  });

  it('has one line per row, with four cells', () => {
    const lines = compatTable().split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| setting '));
    assert.equal(lines.length, ROWS.length);
    for (const line of lines) assert.equal(line.replace(/\\\|/g, '').split('|').length, 6, line);
  });

  it('says per plane: yes, no with the reason, or the TLS issue', () => {
    assert.equal(supportText('supported'), 'yes');
    assert.equal(supportText('tls'), 'not yet (TLS issue)');
    assert.equal(supportText({ supported: 'with a note' }), 'yes: with a note');
    assert.equal(supportText({ unsupported: 'why', expect: { kind: 'ignored', host: '' } }), 'no: why');
    assert.equal(supportText({ coveredBy: 'test/e2e/x.test.ts' }), 'yes (tested in `test/e2e/x.test.ts`)');
  });

  it('escapes pipes and joins lines inside a cell', () => {
    assert.equal(cell('~ ^/(a|b)/\n  next'), '~ ^/(a\\|b)/ next');
  });

  it('replaces only the text between the markers', () => {
    const readme = 'before\n<!-- compat-table:start -->\nold\n<!-- compat-table:end -->\nafter\n';
    const next = withTable(readme, 'new');
    assert.equal(next, 'before\n<!-- compat-table:start -->\nnew\n<!-- compat-table:end -->\nafter\n');
    assert.equal(readmeTable(next), 'new');
    assert.throws(() => withTable('no markers', 'x'), /markers/);
  });
});

describe('the conformance table (test/e2e/conformance/rows.ts)', () => {
  it('runs every non-TLS row in both planes, or says where it is tested', () => {
    for (const row of ROWS) {
      const tls = PLANES.every((p) => row.planes[p] === 'tls');
      const elsewhere = PLANES.some((p) => typeof row.planes[p] === 'object' && 'coveredBy' in (row.planes[p] as object));
      if (!tls) assert.ok(row.scenario !== undefined || elsewhere, `${row.id}: a non-TLS row needs a scenario`);
      if (tls) assert.equal(row.scenario, undefined, `${row.id}: TLS rows are listed, not run`);
    }
  });

  it('covers every environment variable and label of nginx-proxy sections 1.1-1.3', () => {
    const settings = ROWS.map((r) => r.setting).join('\n');
    const contract = [
      'VIRTUAL_HOST', 'VIRTUAL_PORT', 'VIRTUAL_PROTO', 'VIRTUAL_PATH', 'VIRTUAL_DEST', 'VIRTUAL_ROOT', 'VIRTUAL_HOST_MULTIPORTS',
      'CERT_NAME', 'HTTPS_METHOD', 'HSTS', 'NETWORK_ACCESS', 'SSL_POLICY', 'SERVER_TOKENS', 'ACME_HTTP_CHALLENGE_LOCATION',
      'ENABLE_HTTP_ON_MISSING_CERT', 'EXTERNAL_HTTP_PORT', 'EXTERNAL_HTTPS_PORT', 'LETSENCRYPT_',
      'loadbalance', 'keepalive', 'http2.enable', 'http3.enable', 'debug-endpoint', 'non-get-redirect', 'ssl_verify_client',
      'trust-default-cert', '`nginx` label',
      'DEFAULT_HOST', 'DEFAULT_ROOT', 'HTTP_PORT', 'HTTPS_PORT', 'NON_GET_REDIRECT', 'TRUST_DEFAULT_CERT', 'TRUST_DOWNSTREAM_PROXY',
      'ENABLE_IPV6', 'PREFER_IPV6_NETWORK', 'ENABLE_HTTP2', 'ENABLE_HTTP3', 'ENABLE_PROXY_PROTOCOL', 'ACME_HTTP_CHALLENGE_ACCEPT_UNKNOWN_HOST',
      'DEBUG_ENDPOINT', 'SHA1_UPSTREAM_NAME', 'LOG_FORMAT', 'LOG_FORMAT_ESCAPE', 'LOG_JSON', 'DISABLE_ACCESS_LOGS', 'RESOLVERS',
      'NGINX_CONTAINER_LABEL', 'DHPARAM_BITS', 'DHPARAM_SKIP', 'NO_COLOR', 'NGINX_PROXY_VERSION', 'DOCKER_HOST', 'DOCKER_TLS_VERIFY',
      'DOCKER_CONTAINER_FILTERS',
    ];
    for (const name of contract) assert.ok(settings.includes(name), `no row for ${name}`);
  });
});
