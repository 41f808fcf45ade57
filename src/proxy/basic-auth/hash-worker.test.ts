import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import bcrypt from 'bcryptjs';
import { stopHashWorker, verifyInWorker } from './hash-worker.ts';
import { verifyPassword } from './password-hash.ts';

/** Slow password checks run in a worker thread: the event loop keeps serving while one is computed. */

describe('hash worker', () => {
  after(() => stopHashWorker());

  it('checks a bcrypt password (cost 11) while the event loop keeps running', async () => {
    const hash = bcrypt.hashSync('secret', 11);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    try {
      const [right, wrong] = await Promise.all([verifyPassword('secret', hash), verifyPassword('secrets', hash)]);
      assert.deepEqual([right, wrong], [true, false]);
    } finally {
      clearInterval(timer);
    }
    // Two cost-11 checks take ~250 ms here; on the event loop (bcryptjs's own compare) the timer would tick ~twice.
    assert.ok(ticks >= 10, `the event loop ran ${ticks} timer callbacks during the checks`);
  });

  it('starts a new thread after the old one was stopped, refusing what it had not answered', async () => {
    const apr1 = '$apr1$saltsalt$LrttParrLPdxvgutaSXWJ0'; // openssl passwd -apr1 -salt saltsalt secret
    const inFlight = verifyInWorker('secret', bcrypt.hashSync('x', 12));
    await stopHashWorker();
    assert.equal(await inFlight, false);
    assert.equal(await verifyInWorker('secret', apr1), true);
  });
});
