import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseMultiports } from './parse-multiports.ts';

const root = { text: '/', match: { kind: 'prefix', value: '/' } };
const at = (p: string) => ({ text: p, match: { kind: 'prefix', value: p } });

describe('parseMultiports: accepted forms', () => {
  const cases: Array<[string, string, unknown]> = [
    ['empty host entry means { "/": {} }', 'a.example:', [{ hostname: 'a.example', httpPort: undefined, httpsPort: undefined, paths: [{ path: root, port: undefined, proto: undefined, dest: undefined }] }]],
    ['YAML with ports, protos and dests',
      'B.example:\n  external_http_port: 8080\n  /:\n    port: 8000\n  /api/:\n    port: "9000"\n    proto: HTTPS\n    dest: /v1/\na.example:\n',
      [
        { hostname: 'a.example', httpPort: undefined, httpsPort: undefined, paths: [{ path: root, port: undefined, proto: undefined, dest: undefined }] },
        { hostname: 'b.example', httpPort: 8080, httpsPort: undefined, paths: [
          { path: root, port: 8000, proto: undefined, dest: undefined },
          { path: at('/api/'), port: 9000, proto: 'https', dest: '/v1/' },
        ] },
      ]],
    ['JSON', '{"a.example": {"/": {"port": 81}, "/grpc": {"port": 50051, "proto": "grpc"}}}',
      [{ hostname: 'a.example', httpPort: undefined, httpsPort: undefined, paths: [
        { path: root, port: 81, proto: undefined, dest: undefined },
        { path: at('/grpc'), port: 50051, proto: 'grpc', dest: undefined },
      ] }]],
    ['host with only an external port gets /', '"*.example.com": {external_http_port: 81}',
      [{ hostname: '*.example.com', httpPort: 81, httpsPort: undefined, paths: [{ path: root, port: undefined, proto: undefined, dest: undefined }] }]],
    ['external_https_port is kept for a warning', 'a.example: {external_https_port: 8443}',
      [{ hostname: 'a.example', httpPort: undefined, httpsPort: 8443, paths: [{ path: root, port: undefined, proto: undefined, dest: undefined }] }]],
    ['null path values', 'a.example:\n  /x: ~\n  /y: {}\n',
      [{ hostname: 'a.example', httpPort: undefined, httpsPort: undefined, paths: [
        { path: at('/x'), port: undefined, proto: undefined, dest: undefined },
        { path: at('/y'), port: undefined, proto: undefined, dest: undefined },
      ] }]],
  ];
  for (const [label, text, expected] of cases) {
    it(label, () => assert.deepEqual(parseMultiports(text), { ok: true, value: expected }));
  }
});

describe('parseMultiports: invalid values say what and where', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['invalid YAML', 'a.example: [1', /is not valid YAML: .*line 1/],
    ['duplicate hosts (YAML)', 'a.example:\na.example:\n', /is not valid YAML: Map keys must be unique/],
    ['duplicate paths (JSON)', '{"a.example": {"/": {}, "/": {"port": 81}}}', /Map keys must be unique/],
    ['duplicate host after lower-casing', 'a.example:\nA.example:\n', /host "A.example" is listed twice/],
    ['not a map', 'a.example', /must be a YAML or JSON map of host names, got "a.example"/],
    ['a list', '- a.example', /must be a YAML or JSON map/],
    ['no host', '{}', /lists no host/],
    ['bad host', '"a.example:81":', /host "a.example:81" has a port/],
    ['unknown host key', 'a.example: {externl_http_port: 81}', /host "a.example": unknown key "externl_http_port"/],
    ['unknown path key', 'a.example: {/: {prot: https}}', /host "a.example", path "\/": unknown key\(s\) "prot" \(expected port, proto, dest\)/],
    ['regex path key', 'a.example: {"~ ^/a": {}}', /unknown key "~ \^\/a"/],
    ['bad path', 'a.example: {"/a b": {}}', /path "\/a b": "\/a b" is not a location path/],
    ['bad port', 'a.example: {/: {port: 0}}', /path "\/": port is 0, not a port number/],
    ['bad port type', 'a.example: {/: {port: [80]}}', /port is a list/],
    ['circular alias (host value)', 'a.example: &x [*x]', /host "a.example": expected a map of paths \(or nothing\), got a list/],
    ['circular alias (root)', '&x [*x]', /must be a YAML or JSON map of host names, got a list/],
    ['circular alias (port)', 'a.example: {"/": &y {port: *y}}', /port is a map, not a port number/],
    ['alias bomb', `a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c]`, /is not usable YAML: .*alias/i],
    ['bad proto', 'a.example: {/: {proto: ftp}}', /path "\/": proto "ftp" is not one of http, https, grpc, grpcs, uwsgi, fastcgi/],
    ['bad dest', 'a.example: {/: {dest: x}}', /path "\/": dest "x" is not a URI path/],
    ['bad external port', 'a.example: {external_http_port: http}', /host "a.example": external_http_port is "http"/],
    ['host value not a map', 'a.example: 8080', /host "a.example": expected a map of paths/],
    ['path value not a map', 'a.example: {/: 8080}', /path "\/": expected a map of port, proto, dest/],
  ];
  for (const [label, text, reason] of cases) {
    it(label, () => {
      const parsed = parseMultiports(text);
      assert.equal(parsed.ok, false);
      if (!parsed.ok) assert.match(parsed.reason, reason);
    });
  }
});
