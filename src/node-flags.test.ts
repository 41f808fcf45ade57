import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { NODE_FLAGS } from './node-flags.ts';

const root = new URL('../', import.meta.url);
const read = (file: string): string => readFileSync(new URL(file, root), 'utf8');

/** Every way the daemon is started passes the same Node flags (the bench's planes import NODE_FLAGS). */
describe('the Node flags berth runs with (node-flags.ts)', () => {
  it('npm start passes them before the entry point', () => {
    const start = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts.start;
    assert.equal(start, `node ${NODE_FLAGS.join(' ')} --import tsx src/cli.ts`);
  });

  it("the image's ENTRYPOINT and its berth wrapper pass them", () => {
    const dockerfile = read('Dockerfile');
    const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)?.[1];
    assert.ok(entrypoint !== undefined, 'Dockerfile has an ENTRYPOINT in exec form');
    assert.deepEqual(JSON.parse(entrypoint) as string[], ['node', ...NODE_FLAGS, '/app/dist/src/cli.js']);
    assert.ok(dockerfile.includes(`exec node ${NODE_FLAGS.join(' ')} /app/dist/src/cli.js "$@"`), 'the /usr/local/bin/berth wrapper');
  });

  it('are flags this Node accepts (it refuses unknown ones: "bad option")', () => {
    const run = spawnSync(process.execPath, [...NODE_FLAGS, '-e', 'process.exit(0)'], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.notEqual(spawnSync(process.execPath, ['--no-such-flag-here', '-e', '0']).status, 0, 'the check itself can fail');
  });

  it('keep the young generation at its full 16 MB from the start (V8 would start it at 1 MB)', () => {
    const newSpace = (flags: readonly string[]): number => {
      const script = "process.stdout.write(String(require('node:v8').getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size))";
      const run = spawnSync(process.execPath, [...flags, '-e', script], { encoding: 'utf8' });
      assert.equal(run.status, 0, run.stderr);
      return Number(run.stdout);
    };
    assert.equal(newSpace(NODE_FLAGS), 16 * 1024 * 1024);
    assert.ok(newSpace([]) < 16 * 1024 * 1024, 'without the flags it starts smaller');
  });
});
