import { describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { createDebouncer } from './debounce.ts';

describe('createDebouncer', () => {
  it('fires once after the floor when events stop', () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      let calls = 0;
      const d = createDebouncer(() => calls++, 100, 500);
      d.trigger();
      mock.timers.tick(50);
      d.trigger();
      mock.timers.tick(99);
      assert.equal(calls, 0);
      mock.timers.tick(1);
      assert.equal(calls, 1);
      mock.timers.tick(1000);
      assert.equal(calls, 1, 'the ceiling timer was cancelled');
    } finally {
      mock.timers.reset();
    }
  });

  it('fires at the ceiling during a continuous burst', () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      let calls = 0;
      const d = createDebouncer(() => calls++, 100, 500);
      for (let t = 0; t < 600; t += 60) {
        d.trigger();
        mock.timers.tick(60);
      }
      assert.equal(calls, 1, 'fired at 500 ms although events kept coming');
      mock.timers.tick(100);
      assert.equal(calls, 2, 'the trigger at 540 ms started a new burst, fired after its floor');
    } finally {
      mock.timers.reset();
    }
  });

  it('cancel drops a pending call', () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      let calls = 0;
      const d = createDebouncer(() => calls++, 100, 500);
      d.trigger();
      d.cancel();
      mock.timers.tick(1000);
      assert.equal(calls, 0);
    } finally {
      mock.timers.reset();
    }
  });
});
