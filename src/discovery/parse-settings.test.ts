import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { nodeUnsupportedHashKey, parseLoadBalance } from './parse-loadbalance.ts';
import {
  parseDebugEndpoint, parseKeepalive, parseNetworkAccess, parsePort, parseProto, parseRoot, parseServerTokens, type Parsed,
} from './parse-settings.ts';

function table<T>(name: string, parse: (v: string) => Parsed<T>, good: Array<[string, T]>, bad: string[]): void {
  describe(name, () => {
    for (const [text, value] of good) it(`${JSON.stringify(text)} -> ${JSON.stringify(value)}`, () => assert.deepEqual(parse(text), { ok: true, value }));
    for (const text of bad) {
      it(`refuses ${JSON.stringify(text)}, quoting it`, () => {
        const parsed = parse(text);
        assert.equal(parsed.ok, false);
        if (!parsed.ok) assert.ok(parsed.reason.includes(JSON.stringify(text)), parsed.reason);
      });
    }
  });
}

table('parseProto', parseProto,
  [['http', 'http'], ['HTTPS', 'https'], [' grpc ', 'grpc'], ['grpcs', 'grpcs'], ['uwsgi', 'uwsgi'], ['FastCGI', 'fastcgi']],
  ['ftp', 'http2', 'h2c', '']);
table('parseNetworkAccess', parseNetworkAccess, [['internal', 'internal'], ['External', 'external']], ['private', 'local']);
table('parseServerTokens', parseServerTokens, [['on', 'on'], ['OFF', 'off'], ['build', 'build']], ['MyServer', 'true']);
table('parseDebugEndpoint', parseDebugEndpoint, [['true', true], ['False', false]], ['yes', '1', 'on']);
table('parseKeepalive', parseKeepalive, [['auto', 'auto'], ['Disabled', 'disabled'], ['1', 1], ['64', 64], ['10000', 10000]], ['0', '10001', '-1', 'off', '2.5']);
table('parsePort', parsePort, [['80', 80], [' 8080 ', 8080], ['65535', 65535]], ['0', '65536', 'http', '80/tcp']);
table('parseRoot', parseRoot, [['/var/www/app', '/var/www/app'], ['/srv/public/', '/srv/public/']], ['var/www', '/a b', '/a;b']);

table('parseLoadBalance', parseLoadBalance,
  [
    ['least_conn;', { kind: 'least_conn' }],
    ['least_conn', { kind: 'least_conn' }],
    [' ip_hash ; ', { kind: 'ip_hash' }],
    ['hash $remote_addr;', { kind: 'hash', key: '$remote_addr', consistent: false }],
    ['hash  $request_uri  consistent;', { kind: 'hash', key: '$request_uri', consistent: true }],
    ['hash $http_x_user$remote_addr;', { kind: 'hash', key: '$http_x_user$remote_addr', consistent: false }],
    ['hash $scheme$request_uri;', { kind: 'hash', key: '$scheme$request_uri', consistent: false }],
    ['random;', { kind: 'random', two: false }],
    ['random two;', { kind: 'random', two: true }],
    ['random two least_conn;', { kind: 'random', two: true }],
  ],
  ['round_robin;', 'least_conn; keepalive 16;', 'hash;', 'hash $a $b;', 'hash $a inconsistent;', 'random three;', 'random two least_time=header;',
    'least_conn now;', 'hash "$a";', ';', 'sticky cookie srv_id;']);

describe('nodeUnsupportedHashKey', () => {
  for (const key of ['$remote_addr', '$binary_remote_addr', '$request_uri', '$uri', '$host', '$http_x_user', '$cookie_SESSION', '$arg_id', '$remote_addr$request_uri']) {
    it(`evaluates ${key}`, () => assert.equal(nodeUnsupportedHashKey(key), undefined));
  }
  const cases: Array<[string, RegExp]> = [
    ['$scheme', /cannot evaluate \$scheme.*BERTH_MODE=nginx/],
    ['$http_', /cannot evaluate \$http_/],
    ['$remote_addr$server_name', /cannot evaluate \$server_name/],
    ['user-$remote_addr', /only on variables written one after the other.*"user-\$remote_addr"/],
    ['$remote_addr:$uri', /only on variables/],
    ['static', /only on variables/],
  ];
  for (const [key, reason] of cases) it(`refuses ${key}`, () => assert.match(nodeUnsupportedHashKey(key) ?? '', reason));
});
