import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WriteBudget, type Clock } from '../../../src/aws/budget.ts';

/** A clock that only moves when a caller sleeps, recording each sleep. */
function fakeClock(): Clock & { sleeps: number[]; t: number } {
  const c = {
    t: 0,
    sleeps: [] as number[],
    now: () => c.t,
    sleep: (ms: number) => {
      c.sleeps.push(Math.round(ms));
      return Promise.resolve();
    },
  };
  return c;
}

describe('WriteBudget', () => {
  it('lets a burst through, then spaces writes at the rate, in order', async () => {
    const clock = fakeClock();
    const budget = new WriteBudget(5, 2, clock);
    await Promise.all(Array.from({ length: 6 }, () => budget.take()));
    // two from the burst, then each later caller waits one more 200 ms slot
    assert.deepEqual(clock.sleeps, [200, 400, 600, 800]);
  });

  it('refills with time and never above the burst', async () => {
    const clock = fakeClock();
    const budget = new WriteBudget(10, 3, clock);
    for (let i = 0; i < 3; i++) await budget.take();
    clock.t += 10_000;
    for (let i = 0; i < 4; i++) await budget.take();
    assert.deepEqual(clock.sleeps, [100]);
  });

  it('never waits with rate 0 (no limit)', async () => {
    const clock = fakeClock();
    const budget = new WriteBudget(0, 1, clock);
    for (let i = 0; i < 100; i++) await budget.take();
    assert.deepEqual(clock.sleeps, []);
  });
});
