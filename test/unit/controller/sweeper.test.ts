import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DriftSweeper } from '../../../src/controller/sweeper.ts';
import { makeLogger } from '../../../src/log.ts';
import { Metrics } from '../../../src/metrics.ts';

const denied = Object.assign(new Error('User is not authorized to perform: iam:GetAccountAuthorizationDetails'), { name: 'AccessDenied' });

async function metric(m: Metrics, name: string): Promise<string[]> {
  return (await m.registry.metrics()).split('\n').filter((l) => l.startsWith(name));
}

function sweeper(results: (() => Promise<{ drifted: string[]; inSync: number }>)[], busy = () => false) {
  const enqueued: string[] = [];
  const lines: string[] = [];
  const log = makeLogger('info', true);
  const capture = (level: string) => (message: string) => void lines.push(`${level} ${message}`);
  Object.assign(log, { info: capture('info'), warn: capture('warn') });
  const metrics = new Metrics();
  let i = 0;
  const next = () => results[Math.min(i++, results.length - 1)] ?? (() => Promise.resolve({ drifted: [], inSync: 0 }));
  let sweeps = 0;
  const sweepDrift = () => {
    sweeps++;
    return next()();
  };
  const s = new DriftSweeper({ sweepDrift }, { allObjects: () => [] }, (k) => enqueued.push(k), metrics, log, busy);
  return { s, enqueued, lines, metrics, sweeps: () => sweeps };
}

describe('DriftSweeper', () => {
  it('a periodic sweep waits while the queue has work, at most half a period', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'] });
    // The mocked clock jumps to the end of a tick before the timers run: advance a second at a
    // time, and let each second's sweep settle.
    const advance = async (ms: number) => {
      for (let i = 0; i < ms / 1000; i++) {
        t.mock.timers.tick(1000);
        await new Promise(setImmediate);
      }
    };
    let busy = true;
    const { s, sweeps } = sweeper([() => Promise.resolve({ drifted: [], inSync: 0 })], () => busy);
    s.start(60_000);
    await advance(40_000); // the first sweep was due at 30 s
    assert.equal(sweeps(), 0, 'waits while the queue is busy');
    busy = false;
    await advance(1_000);
    assert.equal(sweeps(), 1, 'sweeps once the queue is idle');
    busy = true;
    await advance(77_000); // 118 s: the next one was due at 90 s, and the queue stays busy
    assert.equal(sweeps(), 1);
    await advance(3_000);
    assert.equal(sweeps(), 2, 'half a period late, it sweeps anyway');
    await s.stop();
  });

  it('enqueues what a sweep finds and says once that sweeps are on', async () => {
    const ok = () => Promise.resolve({ drifted: ['team/a', 'team/b'], inSync: 3 });
    const { s, enqueued, lines, metrics } = sweeper([ok]);
    await s.tick();
    await s.tick();
    assert.deepEqual(enqueued, ['team/a', 'team/b', 'team/a', 'team/b']);
    assert.equal(lines.filter((l) => l.includes('account-wide sweeps')).length, 1);
    assert.deepEqual(await metric(metrics, 'irsa_drift_sweep_active'), ['irsa_drift_sweep_active 1']);
    assert.deepEqual(await metric(metrics, 'irsa_drift_sweeps_total'), ['irsa_drift_sweeps_total{result="ok"} 2']);
    assert.deepEqual(await metric(metrics, 'irsa_drift_found_total'), ['irsa_drift_found_total 4']);
  });

  it('without the permission: falls back, says so once in the log and in a metric, and goes back when granted', async () => {
    const { s, lines, metrics } = sweeper([
      () => Promise.reject(denied),
      () => Promise.reject(denied),
      () => Promise.resolve({ drifted: [], inSync: 1 }),
    ]);
    await s.tick();
    await s.tick();
    const warnings = lines.filter((l) => l.startsWith('warn') && l.includes('may not sweep'));
    assert.equal(warnings.length, 1, lines.join('\n'));
    assert.deepEqual(await metric(metrics, 'irsa_drift_sweep_active'), ['irsa_drift_sweep_active 0']);
    assert.deepEqual(await metric(metrics, 'irsa_drift_sweeps_total'), ['irsa_drift_sweeps_total{result="denied"} 2']);
    await s.tick();
    assert.deepEqual(await metric(metrics, 'irsa_drift_sweep_active'), ['irsa_drift_sweep_active 1']);
  });

  it('another failure is logged and counted, and the next tick tries again', async () => {
    const { s, lines, metrics } = sweeper([
      () => Promise.reject(new Error('socket hang up')),
      () => Promise.resolve({ drifted: [], inSync: 0 }),
    ]);
    await s.tick();
    assert.ok(lines.some((l) => l.startsWith('warn drift sweep failed')));
    await s.tick();
    assert.deepEqual((await metric(metrics, 'irsa_drift_sweeps_total')).sort(), [
      'irsa_drift_sweeps_total{result="error"} 1',
      'irsa_drift_sweeps_total{result="ok"} 1',
    ]);
  });

  it('one sweep at a time: a tick during a sweep joins it', async () => {
    let release: () => void = () => undefined;
    const slow = () => new Promise<{ drifted: string[]; inSync: number }>((r) => (release = () => r({ drifted: ['x/y'], inSync: 0 })));
    const { s, enqueued } = sweeper([slow]);
    const a = s.tick();
    const b = s.tick();
    release();
    await Promise.all([a, b]);
    assert.deepEqual(enqueued, ['x/y']);
  });
});
