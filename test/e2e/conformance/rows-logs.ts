import assert from 'node:assert/strict';
import { once, routed } from './clients.ts';
import { accessLine, accessLines, BOTH, escapeRegex } from './row-helpers.ts';
import type { Row } from './types.ts';

/**
 * Section 1.3 access log settings. Both planes write one line per request to berth's stdout (the nginx plane through
 * nginx's access_log /dev/stdout); the harness sends berth's stdout to a file, as Docker sends a container's to a
 * pipe (see proxy.ts).
 */

/** Shared by the LOG_FORMAT and LOG_FORMAT_ESCAPE rows: one berth for both. */
const LOG_ENV = { LOG_FORMAT: 'conformance $host $status $request_method "$http_x_conformance"', LOG_FORMAT_ESCAPE: 'json' };

export const LOG_ROWS: readonly Row[] = [
  {
    id: 'access-log-default-format',
    section: '1.3',
    setting: 'Access log (default `vhost` format)',
    nginxProxy: '`$host $remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" "$upstream_addr"` on stdout',
    planes: BOTH,
    scenario: (n) => ({
      containers: [{ key: 'app', env: { VIRTUAL_HOST: n.domain } }],
      check: async (ctx) => {
        await routed(ctx, n.domain);
        await once(ctx, n.domain, '/logged?x=1', { headers: { 'user-agent': 'conformance-ua/1.0' } });
        const line = new RegExp(`^${escapeRegex(n.domain)} 127\\.0\\.0\\.1 - - \\[[^\\]]+\\] "GET /logged\\?x=1 HTTP/1\\.1" 200 \\d+ "-" "conformance-ua/1\\.0" "\\d+\\.\\d+\\.\\d+\\.\\d+:80"$`);
        await accessLine(ctx, (text) => line.test(text));
      },
    }),
  },
  {
    id: 'log-format',
    section: '1.3',
    setting: 'LOG_FORMAT',
    nginxProxy: 'Replaces the `vhost` log format (nginx variables)',
    planes: BOTH,
    scenario: (n) => ({
      proxyEnv: LOG_ENV,
      containers: [{ key: 'app', env: { VIRTUAL_HOST: n.domain } }],
      check: async (ctx) => {
        await routed(ctx, n.domain);
        await once(ctx, n.domain, '/', { headers: { 'x-conformance': 'plain' } });
        await accessLine(ctx, (text) => text === `conformance ${n.domain} 200 GET "plain"`);
      },
    }),
  },
  {
    id: 'log-format-escape',
    section: '1.3',
    setting: 'LOG_FORMAT_ESCAPE=json',
    nginxProxy: '`log_format vhost escape=json`: `"` and `\\` in values are written `\\"` and `\\\\`',
    planes: BOTH,
    scenario: (n) => ({
      proxyEnv: LOG_ENV,
      containers: [{ key: 'app', env: { VIRTUAL_HOST: n.domain } }],
      check: async (ctx) => {
        await routed(ctx, n.domain);
        await once(ctx, n.domain, '/', { headers: { 'x-conformance': 'a"b\\c' } });
        await accessLine(ctx, (text) => text === `conformance ${n.domain} 200 GET "a\\"b\\\\c"`);
      },
    }),
  },
  {
    id: 'log-json',
    section: '1.3',
    setting: 'LOG_JSON=true',
    nginxProxy: 'The access log is one JSON object per request (time_local, client_ip, request, status, upstream_addr, ...), escape json',
    planes: BOTH,
    scenario: (n) => ({
      proxyEnv: { LOG_JSON: 'true' },
      containers: [{ key: 'app', env: { VIRTUAL_HOST: n.domain } }],
      check: async (ctx) => {
        await routed(ctx, n.domain);
        await once(ctx, n.domain, '/json-logged', { headers: { 'user-agent': 'conformance-ua/"json"' } });
        const text = await accessLine(ctx, (_text, l) => l.raw !== true && l['request'] === 'GET /json-logged HTTP/1.1');
        const entry = JSON.parse(text) as Record<string, string>;
        assert.equal(entry['status'], '200');
        assert.equal(entry['client_ip'], '127.0.0.1');
        assert.equal(entry['http_user_agent'], 'conformance-ua/"json"');
        assert.match(entry['upstream_addr'] ?? '', /^\d+\.\d+\.\d+\.\d+:80$/);
        assert.ok('time_local' in entry && 'request_time' in entry && 'body_bytes_sent' in entry, text);
      },
    }),
  },
  {
    id: 'disable-access-logs',
    section: '1.3',
    setting: 'DISABLE_ACCESS_LOGS',
    nginxProxy: 'Any value: no access_log lines',
    planes: BOTH,
    scenario: (n) => ({
      proxyEnv: { DISABLE_ACCESS_LOGS: 'true' },
      containers: [{ key: 'app', env: { VIRTUAL_HOST: n.domain } }],
      check: async (ctx) => {
        await routed(ctx, n.domain);
        for (let i = 0; i < 3; i += 1) await once(ctx, n.domain, '/disabled-marker');
        // A later table change, fully served, proves the earlier requests' log lines would have been written by now.
        const sentinel = n.host(`sentinel-${ctx.plane}`);
        await ctx.start({ key: 'sentinel', env: { VIRTUAL_HOST: sentinel } });
        await routed(ctx, sentinel);
        const logged = (await accessLines(ctx)).filter((l) => JSON.stringify(l).includes('disabled-marker'));
        assert.deepEqual(logged, [], 'no access log line');
      },
    }),
  },
];
