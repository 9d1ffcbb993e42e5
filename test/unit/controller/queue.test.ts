import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import type { QueueVerdict } from '../../../src/controller/outcome.ts';
import { backoffDelay, WorkQueue } from '../../../src/controller/queue.ts';

const DONE: QueueVerdict = { kind: 'done' };
const ALMOST_ONE = 0.9999999999;

/** A promise this test resolves itself. */
function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  const { promise, resolve } = Promise.withResolvers<T>();
  return { promise, resolve };
}

/** Waits for `p`, failing the test instead of hanging when it does not settle in time. */
async function within<T>(p: Promise<T>, what: string, ms = 5000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
    }, ms);
  });
  try {
    return await Promise.race([p, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

describe('backoffDelay', () => {
  const cases: { name: string; n: number; base: number; max: number; random: number; want: number }[] = [
    { name: 'first retry, lowest jitter', n: 1, base: 100, max: 10_000, random: 0, want: 50 },
    { name: 'first retry, highest jitter', n: 1, base: 100, max: 10_000, random: ALMOST_ONE, want: 100 },
    { name: 'second retry doubles', n: 2, base: 100, max: 10_000, random: 0, want: 100 },
    { name: 'second retry, highest jitter', n: 2, base: 100, max: 10_000, random: ALMOST_ONE, want: 200 },
    { name: 'fourth retry', n: 4, base: 100, max: 10_000, random: 0, want: 400 },
    { name: 'fourth retry, highest jitter', n: 4, base: 100, max: 10_000, random: ALMOST_ONE, want: 800 },
    { name: 'half jitter', n: 3, base: 100, max: 10_000, random: 0.5, want: 300 },
    { name: 'capped, lowest jitter', n: 10, base: 100, max: 5000, random: 0, want: 2500 },
    { name: 'capped, highest jitter', n: 10, base: 100, max: 5000, random: ALMOST_ONE, want: 5000 },
    { name: 'exactly at the cap', n: 6, base: 100, max: 3200, random: ALMOST_ONE, want: 3200 },
    { name: 'huge n stays finite and capped', n: 10_000, base: 5, max: 300_000, random: ALMOST_ONE, want: 300_000 },
    { name: 'base 1 ms', n: 1, base: 1, max: 1000, random: 0, want: 1 },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      assert.equal(
        backoffDelay(tc.n, tc.base, tc.max, () => tc.random),
        tc.want,
      );
    });
  }

  it('never exceeds the cap nor falls under half of it once capped', () => {
    for (let n = 1; n <= 80; n++) {
      for (const r of [0, 0.25, 0.5, ALMOST_ONE]) {
        const d = backoffDelay(n, 10, 1000, () => r);
        assert.ok(d <= 1000 && d >= Math.min(1000, 10 * 2 ** (n - 1)) / 2, `n=${n} r=${r}: ${d}`);
      }
    }
  });
});

describe('WorkQueue', () => {
  it('runs a key added 5 times while waiting once', async () => {
    const calls: string[] = [];
    const blockerStarted = deferred();
    const gate = deferred();
    const end = deferred();
    const q = new WorkQueue(
      async (key) => {
        calls.push(key);
        if (key === 'blocker') {
          blockerStarted.resolve();
          await gate.promise;
        }
        if (key === 'end') end.resolve();
        return DONE;
      },
      { concurrency: 1, baseDelayMs: 1, maxDelayMs: 1 },
    );
    q.start();
    q.add('blocker');
    await within(blockerStarted.promise, 'the blocker to start');
    for (let i = 0; i < 5; i++) q.add('a');
    assert.equal(q.depth, 1);
    q.add('end');
    assert.equal(q.depth, 2);
    gate.resolve();
    await within(end.promise, 'the end marker');
    assert.deepEqual(calls, ['blocker', 'a', 'end']);
    assert.equal(q.depth, 0);
    await q.shutdown();
  });

  it('runs nothing before start, then each waiting key once', async () => {
    const calls: string[] = [];
    const end = deferred();
    const q = new WorkQueue(
      (key) => {
        calls.push(key);
        if (key === 'end') end.resolve();
        return Promise.resolve(DONE);
      },
      { concurrency: 1, baseDelayMs: 1, maxDelayMs: 1 },
    );
    q.add('a');
    q.add('b');
    q.add('a');
    q.add('end');
    assert.equal(q.depth, 3);
    await tick();
    assert.deepEqual(calls, []);
    q.start();
    await within(end.promise, 'the end marker');
    assert.deepEqual(calls, ['a', 'b', 'end']);
    await q.shutdown();
  });

  it('runs a key added while it runs exactly once more, after', async () => {
    let aRuns = 0;
    let concurrentA = 0;
    let maxConcurrentA = 0;
    const firstStarted = deferred();
    const gate = deferred();
    const end = deferred<{ depth: number; aRuns: number }>();
    const q: WorkQueue = new WorkQueue(
      async (key) => {
        if (key === 'end') {
          end.resolve({ depth: q.depth, aRuns });
          return DONE;
        }
        aRuns++;
        concurrentA++;
        maxConcurrentA = Math.max(maxConcurrentA, concurrentA);
        if (aRuns === 1) {
          firstStarted.resolve();
          await gate.promise;
        } else {
          // Queued behind this run: a third run of "a" would wait after it.
          q.add('end');
        }
        concurrentA--;
        return DONE;
      },
      { concurrency: 1, baseDelayMs: 1, maxDelayMs: 1 },
    );
    q.start();
    q.add('a');
    await within(firstStarted.promise, 'the first run');
    q.add('a');
    q.add('a');
    q.add('a');
    assert.equal(q.depth, 0, 'a running key is marked dirty, not queued');
    gate.resolve();
    const seen = await within(end.promise, 'the end marker');
    assert.deepEqual(seen, { depth: 0, aRuns: 2 });
    assert.equal(maxConcurrentA, 1);
    await q.shutdown();
  });

  it('never runs one key twice at once, while other keys run alongside', async () => {
    const inFlight = new Map<string, number>();
    let maxSameKey = 0;
    let aRuns = 0;
    const aStarted = deferred();
    const gateA = deferred();
    const bRan = deferred<{ aInFlight: number; aRuns: number }>();
    const aSecondDone = deferred();
    const q = new WorkQueue(
      async (key) => {
        const n = (inFlight.get(key) ?? 0) + 1;
        inFlight.set(key, n);
        maxSameKey = Math.max(maxSameKey, n);
        if (key === 'a') {
          aRuns++;
          if (aRuns === 1) {
            aStarted.resolve();
            await gateA.promise;
          } else {
            aSecondDone.resolve();
          }
        }
        if (key === 'b') bRan.resolve({ aInFlight: inFlight.get('a') ?? 0, aRuns });
        inFlight.set(key, (inFlight.get(key) ?? 1) - 1);
        return DONE;
      },
      { concurrency: 3, baseDelayMs: 1, maxDelayMs: 1 },
    );
    q.start();
    q.add('a');
    await within(aStarted.promise, 'a to start');
    q.add('a');
    q.add('b');
    const atB = await within(bRan.promise, 'b to run while a runs');
    assert.deepEqual(atB, { aInFlight: 1, aRuns: 1 });
    assert.equal(aRuns, 1, 'the second run of a waits for the first');
    gateA.resolve();
    await within(aSecondDone.promise, 'the second run of a');
    assert.equal(aRuns, 2);
    assert.equal(maxSameKey, 1);
    await q.shutdown();
  });

  it('runs at most `concurrency` keys at once', async () => {
    const started: string[] = [];
    const gate = deferred();
    const twoStarted = deferred();
    const q = new WorkQueue(
      async (key) => {
        started.push(key);
        if (started.length === 2) twoStarted.resolve();
        await gate.promise;
        return DONE;
      },
      { concurrency: 2, baseDelayMs: 1, maxDelayMs: 1 },
    );
    q.start();
    q.add('a');
    q.add('b');
    q.add('c');
    await within(twoStarted.promise, 'two keys to start');
    await tick();
    assert.deepEqual(started, ['a', 'b']);
    assert.equal(q.depth, 1);
    gate.resolve();
    await q.shutdown();
  });

  it('re-runs a key after its backoff on a retry verdict, and on a throw', async () => {
    let runs = 0;
    let randomCalls = 0;
    const third = deferred();
    const q = new WorkQueue(
      (key) => {
        assert.equal(key, 'k');
        runs++;
        if (runs === 1) return Promise.resolve<QueueVerdict>({ kind: 'retry' });
        if (runs === 2) return Promise.reject(new Error('boom'));
        third.resolve();
        return Promise.resolve(DONE);
      },
      {
        concurrency: 1,
        baseDelayMs: 1,
        maxDelayMs: 2,
        random: () => {
          randomCalls++;
          return 0;
        },
      },
    );
    q.start();
    q.add('k');
    await within(third.promise, 'the third run');
    assert.equal(runs, 3);
    assert.equal(randomCalls, 2, 'one backoff per failure');
    await q.shutdown();
  });

  it('re-runs a key after the delay of an "after" verdict', async () => {
    let runs = 0;
    const second = deferred();
    const q = new WorkQueue(
      () => {
        runs++;
        if (runs === 1) return Promise.resolve<QueueVerdict>({ kind: 'after', delayMs: 1 });
        second.resolve();
        return Promise.resolve(DONE);
      },
      { concurrency: 1, baseDelayMs: 1000, maxDelayMs: 1000 },
    );
    q.start();
    q.add('k');
    await within(second.promise, 'the second run');
    assert.equal(runs, 2);
    await q.shutdown();
  });

  it('waits exactly the backoff before each retry, and resets it after success (mock timers)', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    const RETRY: QueueVerdict = { kind: 'retry' };
    const verdicts: QueueVerdict[] = [RETRY, RETRY, RETRY, DONE, RETRY];
    let runs = 0;
    const q = new WorkQueue(() => Promise.resolve(verdicts[runs++] ?? DONE), {
      concurrency: 1,
      baseDelayMs: 100,
      maxDelayMs: 300,
      random: () => 0,
    });
    q.start();
    q.add('k');
    // tick() lets the run settle (microtasks, then one real setImmediate); only t.mock.timers.tick moves the clock.
    await tick();
    assert.equal(runs, 1);
    // [backoff, runs before it]: 50 (n=1: 100 halved), 100 (n=2: 200 halved), 150 (n=3: 400 capped to 300, halved).
    for (const [wait, before] of [
      [50, 1],
      [100, 2],
      [150, 3],
    ] as const) {
      t.mock.timers.tick(wait - 1);
      await tick();
      assert.equal(runs, before, `not before ${wait} ms`);
      t.mock.timers.tick(1);
      await tick();
      assert.equal(runs, before + 1, `after ${wait} ms`);
    }
    // Run 4 was done: the next failure starts from the first backoff again.
    q.add('k');
    await tick();
    assert.equal(runs, 5);
    t.mock.timers.tick(49);
    await tick();
    assert.equal(runs, 5);
    t.mock.timers.tick(1);
    await tick();
    assert.equal(runs, 6);
    await q.shutdown();
  });

  it('"after" waits its delay, 0 means now, "drop" never comes back (mock timers)', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    const verdicts: QueueVerdict[] = [{ kind: 'after', delayMs: 30 }, { kind: 'after', delayMs: 0 }, { kind: 'drop' }];
    let runs = 0;
    let randomCalls = 0;
    const q = new WorkQueue(() => Promise.resolve(verdicts[runs++] ?? DONE), {
      concurrency: 1,
      baseDelayMs: 10,
      maxDelayMs: 10,
      random: () => {
        randomCalls++;
        return 0;
      },
    });
    q.start();
    q.add('k');
    await tick();
    assert.equal(runs, 1);
    t.mock.timers.tick(29);
    await tick();
    assert.equal(runs, 1);
    t.mock.timers.tick(1);
    await tick();
    await tick();
    assert.equal(runs, 3, 'after 0 runs again at once, then drop');
    t.mock.timers.tick(3_600_000);
    await tick();
    assert.equal(runs, 3);
    assert.equal(randomCalls, 0, 'no backoff was computed');
    q.add('k');
    await tick();
    assert.equal(runs, 4, 'a dropped key runs on its next add');
    await q.shutdown();
  });

  it('keeps the earlier of two delayed adds (mock timers)', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    let runs = 0;
    const q = new WorkQueue(
      () => {
        runs++;
        return Promise.resolve(DONE);
      },
      { concurrency: 1, baseDelayMs: 1, maxDelayMs: 1 },
    );
    q.start();
    q.addAfter('k', 100);
    q.addAfter('k', 50);
    q.addAfter('k', 200);
    t.mock.timers.tick(49);
    await tick();
    assert.equal(runs, 0);
    t.mock.timers.tick(1);
    await tick();
    assert.equal(runs, 1);
    t.mock.timers.tick(1000);
    await tick();
    assert.equal(runs, 1, 'the later timers were replaced, not added');
    await q.shutdown();
  });

  it('shutdown waits for the running key and then takes no more', async () => {
    const started = deferred();
    const gate = deferred();
    let runs = 0;
    const q = new WorkQueue(
      async () => {
        runs++;
        started.resolve();
        await gate.promise;
        return DONE;
      },
      { concurrency: 1, baseDelayMs: 1, maxDelayMs: 1 },
    );
    q.start();
    q.add('a');
    q.add('b');
    await within(started.promise, 'a to start');
    let stopped = false;
    const stopping = q.shutdown().then(() => {
      stopped = true;
    });
    await tick();
    assert.equal(stopped, false, 'shutdown resolves only after the running key');
    assert.equal(q.depth, 0, 'waiting keys are dropped');
    q.add('c');
    assert.equal(q.depth, 0, 'adds after shutdown are ignored');
    gate.resolve();
    await within(stopping, 'shutdown');
    assert.equal(runs, 1);
  });
});

describe('WorkQueue onPickup', () => {
  it('reports how long each key waited since it was added or became due (mock timers)', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    const picked: [string, number][] = [];
    const gate = deferred();
    let aRuns = 0;
    const q = new WorkQueue(
      async (key) => {
        if (key === 'a' && ++aRuns === 1) return { kind: 'after', delayMs: 100 };
        if (key === 'blocker') await gate.promise;
        return DONE;
      },
      { concurrency: 1, baseDelayMs: 1, maxDelayMs: 1, onPickup: (key, ms) => picked.push([key, ms]) },
    );
    q.add('a');
    t.mock.timers.tick(40);
    q.start();
    await tick();
    assert.deepEqual(picked, [['a', 40]], 'waited from its add until a worker was free');
    t.mock.timers.tick(100);
    await tick();
    assert.deepEqual(
      picked,
      [
        ['a', 40],
        ['a', 0],
      ],
      'a delayed key waits from when it became due',
    );
    q.add('blocker');
    await tick();
    q.add('b');
    t.mock.timers.tick(10);
    q.add('b');
    t.mock.timers.tick(15);
    gate.resolve();
    await tick();
    assert.deepEqual(
      picked.slice(2),
      [
        ['blocker', 0],
        ['b', 25],
      ],
      'b waited behind the blocker from its first add',
    );
    await q.shutdown();
  });

  it('loses no key when the callback throws', async () => {
    const end = deferred();
    const calls: string[] = [];
    const q = new WorkQueue(
      (key) => {
        calls.push(key);
        if (key === 'end') end.resolve();
        return Promise.resolve(DONE);
      },
      {
        concurrency: 1,
        baseDelayMs: 1,
        maxDelayMs: 1,
        onPickup: () => {
          throw new Error('observer failed');
        },
      },
    );
    q.start();
    q.add('a');
    q.add('end');
    await within(end.promise, 'the end marker');
    assert.deepEqual(calls, ['a', 'end']);
    await q.shutdown();
  });
});
