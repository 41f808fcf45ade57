import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newRoute, type PathMatch, type Route } from '../routing-table.ts';
import { compileLocations, compilePcre, matchLocation, pcreDollar } from './path-match.ts';
import { upstream } from './test-harness.ts';

function r(path: string, match: PathMatch): Route {
  return newRoute({ path, match, upstreams: [upstream(1)] });
}
const prefix = (v: string): Route => r(v, { kind: 'prefix', value: v });
const noRegex = (v: string): Route => r(`^~ ${v}`, { kind: 'prefix-no-regex', value: v });
const exact = (v: string): Route => r(`= ${v}`, { kind: 'exact', value: v });
const regex = (v: string, i = false): Route => r(`${i ? '~*' : '~'} ${v}`, { kind: 'regex', value: v, caseInsensitive: i });

// Routes in builder order: non-regex by path, then regexes in match order.
const ROUTES = [
  exact('/exact'),
  prefix('/'),
  prefix('/api/'),
  prefix('/documents/'),
  noRegex('/images/'),
  regex('\\.(gif|jpg|png)$', true),
  regex('^/api/v[0-9]+/'),
];
const compiled = compileLocations(ROUTES, { defaultRoot: false, debug: false });

function which(path: string): string {
  const m = matchLocation(compiled, path);
  if (m.kind === 'none') return 'none';
  if (m.kind === 'redirect') return `301 ${m.location}`;
  return m.target.kind === 'route' ? `${m.target.route.path}@${m.matchedLength}` : m.target.kind;
}

describe('matchLocation (nginx location selection)', () => {
  const cases: [string, string][] = [
    ['/exact', '= /exact@6'],
    ['/exact/more', '/@1'], // exact only matches exactly
    ['/', '/@1'],
    ['/x', '/@1'],
    ['/api/x', '/api/@5'],
    ['/api/v2/x', '~ ^/api/v[0-9]+/@0'], // a regex beats a plain prefix
    ['/documents/a.JPG', '~* \\.(gif|jpg|png)$@0'], // case-insensitive regex, first match in order
    ['/images/a.gif', '^~ /images/@8'], // ^~ stops the regex search
    ['/api', '301 /api/'], // auto_redirect of a proxied location ending in /
    ['/images', '301 /images/'],
  ];
  for (const [path, want] of cases) it(`${path} -> ${want}`, () => assert.equal(which(path), want));

  it('does not redirect when a location is named exactly like the path', () => {
    const c = compileLocations([prefix('/a'), prefix('/a/')], { defaultRoot: false, debug: false });
    const m = matchLocation(c, '/a');
    assert.equal(m.kind === 'location' && m.target.kind === 'route' ? m.target.route.path : m.kind, '/a');
    const e = compileLocations([exact('/a'), prefix('/a/')], { defaultRoot: false, debug: false });
    const me = matchLocation(e, '/a');
    assert.equal(me.kind === 'location' && me.target.kind === 'route' ? me.target.route.path : me.kind, '= /a');
  });

  it('redirects before trying regexes (nginx returns NGX_DONE from the static tree)', () => {
    const c = compileLocations([prefix('/app/'), regex('^/app')], { defaultRoot: false, debug: false });
    assert.deepEqual(matchLocation(c, '/app'), { kind: 'redirect', location: '/app/' });
  });

  it('answers none when nothing matches, and adds the generated locations', () => {
    const c = compileLocations([prefix('/api/')], { defaultRoot: false, debug: false });
    assert.equal(matchLocation(c, '/x').kind, 'none');
    const g = compileLocations([prefix('/api/')], { defaultRoot: true, debug: true });
    const root = matchLocation(g, '/x');
    assert.equal(root.kind === 'location' ? root.target.kind : root.kind, 'default-root');
    const debug = matchLocation(g, '/nginx-proxy-debug');
    assert.equal(debug.kind === 'location' ? debug.target.kind : debug.kind, 'debug');
    const withRoot = compileLocations([prefix('/')], { defaultRoot: true, debug: false });
    const own = matchLocation(withRoot, '/x');
    assert.equal(own.kind === 'location' ? own.target.kind : own.kind, 'route');
  });

  it('matches UTF-8 location names against percent-decoded bytes', () => {
    const c = compileLocations([prefix('/café/')], { defaultRoot: false, debug: false });
    const bytes = Buffer.from('/café/x', 'utf8').toString('latin1');
    assert.equal(matchLocation(c, bytes).kind, 'location');
  });
});

describe('compilePcre', () => {
  it('translates PCRE named groups and (?i), refuses what JS cannot compile', () => {
    assert.ok(compilePcre('^/(?P<id>[0-9]+)$', false)?.test('/12'));
    assert.ok(compilePcre('(?i)^/ABC', false)?.test('/abc'));
    assert.equal(compilePcre('(', false), undefined);
  });
  it('gives $ PCRE meaning: end, or before a final newline; not inside classes or when escaped', () => {
    assert.equal(pcreDollar('^/a$'), '^/a(?=\\n?$)');
    assert.equal(pcreDollar('^/[$]\\$'), '^/[$]\\$');
    const re = compilePcre('^/admin$', false);
    assert.ok(re?.test('/admin'));
    assert.ok(re?.test('/admin\n'), 'PCRE: $ matches before a final newline (nginx picks this location for /admin%0A)');
    assert.ok(!re?.test('/admin\nx'));
    assert.ok(!re?.test('/adminx'));
  });
});
