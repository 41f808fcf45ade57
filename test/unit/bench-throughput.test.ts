import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseWrk, roundOrder, targetVerdict, type Row } from '../../bench/throughput-wrk.ts';

const ALL = ['direct', 'berth-node', 'berth-nginx', 'nginx-proxy', 'nginx-ka256'];

function rotation(paths: readonly string[], round: number): string[] {
  return paths.map((_, i) => paths[(i + round) % paths.length] as string);
}

function row(path: string, rounds: readonly number[], p99Rounds: readonly number[], errors = 0): Row {
  return { path, rps: 0, p50Ms: 0, p99Ms: 0, rssMb: undefined, errors, rounds, p99Rounds, cpuUsPerRequest: 0 };
}

describe('roundOrder (bench/throughput-wrk.ts)', () => {
  it('runs every path exactly once per round', () => {
    for (const paths of [ALL, [...ALL, 'berth-node-w2', 'undici-minimal'], ['berth-node', 'nginx-ka256']]) {
      for (let round = 0; round < 12; round++) assert.deepEqual([...roundOrder(paths, round)].sort(), [...paths].sort(), `round ${round}`);
    }
  });

  it('puts nginx-ka256 right before berth-node in even rounds and right after it in odd rounds', () => {
    for (const paths of [ALL, [...ALL].reverse(), ['nginx-ka256', 'direct', 'berth-node', 'berth-node-before', 'h1-minimal']]) {
      for (let round = 0; round < 12; round++) {
        const order = roundOrder(paths, round);
        const delta = order.indexOf('berth-node') - order.indexOf('nginx-ka256');
        assert.equal(delta, round % 2 === 0 ? 1 : -1, `${order.join(',')} (round ${round})`);
      }
    }
  });

  it('still rotates the others: each path leads some round', () => {
    const leaders = new Set(Array.from({ length: 10 }, (_, round) => roundOrder(ALL, round)[0]));
    assert.deepEqual([...leaders].sort(), [...ALL].sort());
  });

  it('is the plain rotation when the pair is not both there', () => {
    for (const paths of [['direct', 'berth-node', 'berth-nginx', 'nginx-proxy'], ['direct', 'nginx-ka256', 'nginx-proxy'], ['direct']]) {
      for (let round = 0; round < 6; round++) assert.deepEqual(roundOrder(paths, round), rotation(paths, round));
    }
  });

  it('alternates with just the two paths', () => {
    const pair = ['berth-node', 'nginx-ka256'];
    assert.deepEqual(roundOrder(pair, 0), ['nginx-ka256', 'berth-node']);
    assert.deepEqual(roundOrder(pair, 1), ['berth-node', 'nginx-ka256']);
    assert.deepEqual(roundOrder(pair, 2), ['nginx-ka256', 'berth-node']);
    assert.deepEqual(roundOrder(['nginx-ka256', 'berth-node'], 3), ['berth-node', 'nginx-ka256']);
  });

  it('does not modify its input', () => {
    const paths = Object.freeze([...ALL]);
    roundOrder(paths, 1);
    assert.deepEqual(paths, ALL);
  });
});

describe('targetVerdict (bench/throughput-wrk.ts)', () => {
  it('says met when both medians of same-round ratios are within the targets', () => {
    const text = targetVerdict(row('berth-node', [5800, 6300, 6100], [1.5, 3.0, 2.2]), row('nginx-ka256', [10000, 10000, 10000], [1.0, 1.5, 1.2]));
    const lines = text.split('\n');
    assert.match(lines[0] ?? '', /^targets \(issue #7\), berth-node vs nginx-ka256, median of same-round ratios over 3 rounds:$/);
    assert.match(lines[1] ?? '', /requests\/s 61% of nginx \(target >= 50%\): met\s+per round: 58 63 61$/);
    assert.match(lines[2] ?? '', /p99 1\.83x nginx's \(target <= 2x\): met\s+per round: 1\.50 2\.00 1\.83$/);
    assert.equal(lines.length, 3);
  });

  it('says not met plainly, and never rounds a miss onto the threshold', () => {
    const text = targetVerdict(row('berth-node', [4970, 4000, 6000], [2.01, 3, 1]), row('nginx-ka256', [10000, 10000, 10000], [1, 1, 1]));
    assert.match(text, /requests\/s 49\.7% of nginx \(target >= 50%\): not met/);
    assert.match(text, /p99 2\.01x nginx's \(target <= 2x\): not met/);
    const edge = targetVerdict(row('berth-node', [5000], [2.004]), row('nginx-ka256', [10000], [1]));
    assert.match(edge, /requests\/s 50% of nginx \(target >= 50%\): met/);
    assert.match(edge, /p99 2\.004x nginx's \(target <= 2x\): not met/);
  });

  it('reports errors when either path had some', () => {
    const text = targetVerdict(row('berth-node', [6000], [1], 3), row('nginx-ka256', [10000], [1]));
    assert.match(text, /errors \(socket \+ non-2xx\/3xx\): berth-node 3, nginx-ka256 0/);
  });

  it('names the paths it needs when a row is missing', () => {
    const node = row('berth-node', [6000], [1]);
    for (const text of [targetVerdict(node, undefined), targetVerdict(undefined, node), targetVerdict(undefined, undefined)]) {
      assert.equal(text.split('\n').length, 1);
      assert.match(text, /berth-node/);
      assert.match(text, /nginx-ka256/);
      assert.doesNotMatch(text, /\bmet\b/);
    }
  });
});

const WRK_OK = `Running 4s test @ http://127.0.0.1:41235/
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.41ms    1.02ms  21.34ms   91.23%
    Req/Sec    21.12k     1.05k   22.90k    72.50%
  Latency Distribution
     50%    2.21ms
     75%    2.55ms
     90%    3.02ms
     99%    6.87ms
  84123 requests in 4.00s, 20.45MB read
Requests/sec:  21024.57
Transfer/sec:      5.11MB
`;

const WRK_ERRORS = `Running 4s test @ http://127.0.0.1:41235/
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.20ms  102.31ms    1.99s    99.12%
    Req/Sec    10.50k     2.31k   14.02k    65.00%
  Latency Distribution
     50%  812.00us
     75%    1.01ms
     90%    1.48ms
     99%    1.02s
  41873 requests in 4.00s, 10.12MB read
  Socket errors: connect 0, read 12, write 1, timeout 4
  Non-2xx or 3xx responses: 3
Requests/sec:  10466.81
Transfer/sec:      2.53MB
`;

describe('parseWrk (bench/throughput-wrk.ts) on wrk 4.x --latency output', () => {
  it('reads requests/s and the 50th and 99th percentiles in ms', () => {
    assert.deepEqual(parseWrk(WRK_OK), { rps: 21024.57, p50Ms: 2.21, p99Ms: 6.87, errors: 0 });
  });

  it('converts us and s, and counts socket errors plus non-2xx/3xx responses', () => {
    const r = parseWrk(WRK_ERRORS);
    assert.equal(r.rps, 10466.81);
    assert.ok(Math.abs(r.p50Ms - 0.812) < 1e-9, String(r.p50Ms));
    assert.equal(r.p99Ms, 1020);
    assert.equal(r.errors, 12 + 1 + 4 + 3);
  });

  it('does not take the Latency thread stat for a percentile, and gives NaN when the block is absent', () => {
    const r = parseWrk(WRK_OK.replace(/ {2}Latency Distribution[\s\S]*?(?= {2}\d+ requests)/, ''));
    assert.ok(Number.isNaN(r.p50Ms) && Number.isNaN(r.p99Ms));
    assert.equal(r.rps, 21024.57);
  });
});
