import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_LOG_FORMAT, JSON_LOG_FORMAT } from '../config.ts';
import { AccessLog, compileLogFormat, escapeDefault, escapeJson, timeIso8601, timeLocal, validateLogFormat, type AccessLogEntry } from './access-log.ts';
import { waitFor } from './test-harness.ts';

const ENTRY: AccessLogEntry = {
  startMs: 1_700_000_000_000,
  method: 'GET',
  requestUri: '/a%20b?x=1',
  uri: '/a b',
  args: 'x=1',
  protocol: 'HTTP/1.1',
  host: 'app.test',
  clientAddress: '192.0.2.1',
  clientPort: 50000,
  serverPort: 8080,
  scheme: 'http',
  rawHeaders: ['User-Agent', 'curl "8"', 'Referer', 'http://r/', 'Authorization', `Basic ${Buffer.from('ann:pw').toString('base64')}`],
  status: 200,
  bytesSent: 150,
  bodyBytesSent: 20,
  upstreams: [
    { addr: '10.0.0.2:80', status: 502, timeMs: 1 },
    { addr: '10.0.0.3:80', status: 200, timeMs: 12 },
  ],
};
const NOW = ENTRY.startMs + 25;

describe('validateLogFormat', () => {
  it('accepts the built-in formats and $http_*', () => {
    assert.equal(validateLogFormat(DEFAULT_LOG_FORMAT), undefined);
    assert.equal(validateLogFormat(JSON_LOG_FORMAT), undefined);
    assert.equal(validateLogFormat('$http_x_custom ${status}x'), undefined);
  });
  it('names LOG_FORMAT and the unknown variable', () => {
    const message = validateLogFormat('$remote_addr $ssl_cipher') ?? '';
    assert.match(message, /LOG_FORMAT/);
    assert.match(message, /\$ssl_cipher/);
    assert.match(validateLogFormat('50$ off') ?? '', /LOG_FORMAT/);
  });
});

describe('compileLogFormat', () => {
  it('renders nginx-proxy\'s default format', () => {
    const line = compileLogFormat(DEFAULT_LOG_FORMAT, 'default')(ENTRY, NOW);
    assert.equal(line, `app.test 192.0.2.1 - ann [${timeLocal(NOW)}] "GET /a%20b?x=1 HTTP/1.1" 200 20 "http://r/" "curl \\x228\\x22" "10.0.0.2:80, 10.0.0.3:80"`);
  });
  it('prints - for values nginx calls not found (empty with escape=json)', () => {
    const e = { ...ENTRY, rawHeaders: [], upstreams: [], args: undefined };
    assert.equal(compileLogFormat('$remote_user|$http_referer|$upstream_addr|$upstream_status|$args|$is_args', 'default')(e, NOW), '-|-|-|-|-|');
    assert.equal(compileLogFormat('$remote_user|$upstream_addr', 'json')(e, NOW), '|');
  });
  it('renders the LOG_JSON format as valid JSON', () => {
    const doc = JSON.parse(compileLogFormat(JSON_LOG_FORMAT, 'json')(ENTRY, NOW)) as Record<string, string>;
    assert.equal(doc['http_user_agent'], 'curl "8"');
    assert.equal(doc['request_time'], '0.025');
    assert.equal(doc['upstream_response_time'], '0.001, 0.012');
    assert.match(doc['request_id'] ?? '', /^[0-9a-f]{32}$/);
    assert.equal(doc['time_local'], timeIso8601(NOW));
  });
  it('renders the other variables', () => {
    const f = compileLogFormat('$request_method $request_uri $uri $server_port $scheme $bytes_sent $upstream_status $status $remote_port', 'none');
    assert.equal(f(ENTRY, NOW), 'GET /a%20b?x=1 /a b 8080 http 150 502, 200 200 50000');
  });
  it('formats times as nginx does', () => {
    assert.match(timeLocal(NOW), /^\d\d\/[A-Z][a-z]{2}\/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}$/);
    assert.match(timeIso8601(NOW), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/);
  });
});

describe('escapes', () => {
  it('default: quotes, backslashes and non-printable bytes as \\xHH', () => {
    assert.equal(escapeDefault('a"b\\c\nd\u00e9'), 'a\\x22b\\x5Cc\\x0Ad\\xE9');
  });
  it('json: JSON string escapes, other bytes untouched', () => {
    assert.equal(escapeJson('a"b\\c\nd\u0001\u00e9'), 'a\\"b\\\\c\\nd\\u0001\u00e9');
  });
});

describe('AccessLog', () => {
  it('writes nothing when disabled', () => {
    const chunks: Buffer[] = [];
    const log = new AccessLog({ enabled: false, format: DEFAULT_LOG_FORMAT, escape: 'default' }, (c) => chunks.push(c));
    log.write(ENTRY);
    log.flush();
    assert.equal(chunks.length, 0);
    assert.equal(log.enabled, false);
  });
  it('buffers lines and writes them together on the next turn, bytes as received', async () => {
    const chunks: Buffer[] = [];
    const log = new AccessLog({ enabled: true, format: '$host $uri', escape: 'none' }, (c) => chunks.push(c));
    log.write({ ...ENTRY, uri: '/caf\u00c3\u00a9' });
    log.write(ENTRY);
    assert.equal(chunks.length, 0);
    await waitFor(() => chunks.length === 1, 1000, 'flush');
    assert.equal(chunks[0]?.toString('utf8'), 'app.test /café\napp.test /a b\n');
  });
});
