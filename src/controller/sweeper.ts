// Runs the drift sweep every drift period while this replica reconciles (the first half a period
// after it starts), one at a time, and sends what it finds to the queue. Says once, in the log and
// a metric, when the operator may not sweep and each object reads its own role instead.
import { isAccessDenied } from '../aws/errors.ts';
import { errorMessage } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { Reconciler } from './reconciler.ts';
import type { WatchedCache } from './watches.ts';

export class DriftSweeper {
  private timer: NodeJS.Timeout | undefined;
  private first: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private mode: 'sweep' | 'per-object' | undefined;
  private periodMs = 0;
  private retry: NodeJS.Timeout | undefined;

  private readonly reconciler: Pick<Reconciler, 'sweepDrift'>;
  private readonly cache: Pick<WatchedCache, 'allObjects'>;
  private readonly enqueue: (key: string) => void;
  private readonly metrics: Metrics;
  private readonly log: Logger;

  constructor(
    reconciler: Pick<Reconciler, 'sweepDrift'>,
    cache: Pick<WatchedCache, 'allObjects'>,
    enqueue: (key: string) => void,
    metrics: Metrics,
    log: Logger,
  ) {
    this.reconciler = reconciler;
    this.cache = cache;
    this.enqueue = enqueue;
    this.metrics = metrics;
    this.log = log;
  }

  start(periodMs: number): void {
    this.periodMs = periodMs;
    // tick() never rejects: a failed sweep is counted and logged.
    this.first = setTimeout(() => {
      void this.tick();
      this.timer = setInterval(() => void this.tick(), periodMs);
    }, periodMs / 2);
  }

  async stop(): Promise<void> {
    clearTimeout(this.first);
    clearTimeout(this.retry);
    clearInterval(this.timer);
    await this.running;
  }

  /** One sweep now, unless one is still running. */
  tick(): Promise<void> {
    this.running ??= this.sweep().finally(() => (this.running = undefined));
    return this.running;
  }

  private async sweep(): Promise<void> {
    try {
      const { drifted, inSync } = await this.reconciler.sweepDrift(this.cache.allObjects());
      this.setMode('sweep');
      this.metrics.driftSweeps.inc({ result: 'ok' });
      this.metrics.driftFound.inc(drifted.length);
      if (drifted.length > 0) this.log.info('drift sweep found roles that differ', { drifted: drifted.length, inSync });
      for (const key of drifted) this.enqueue(key);
    } catch (e) {
      if (isAccessDenied(e)) {
        this.metrics.driftSweeps.inc({ result: 'denied' });
        this.setMode('per-object', errorMessage(e));
        return;
      }
      this.metrics.driftSweeps.inc({ result: 'error' });
      this.log.warn('drift sweep failed; trying again soon (memories of the last sync last two periods)', { error: errorMessage(e) });
      // A passing failure is tried again well before the memories run out, not a period later.
      if (this.periodMs > 0) this.retry = setTimeout(() => void this.tick(), Math.min(this.periodMs / 6, 10_000));
    }
  }

  private setMode(mode: 'sweep' | 'per-object', why?: string): void {
    this.metrics.driftSweepActive.set(mode === 'sweep' ? 1 : 0);
    if (this.mode === mode) return;
    this.mode = mode;
    if (mode === 'sweep') this.log.info('drift is checked by account-wide sweeps (GetAccountAuthorizationDetails, ListRoles)');
    else {
      this.log.warn(
        'the operator may not sweep the account (iam:GetAccountAuthorizationDetails or iam:ListRoles denied): each object reads its own role every drift period; grant them to cut IAM reads at rest',
        { error: why },
      );
    }
  }
}
