// Runs the drift sweep every drift period while this replica reconciles (the first half a period
// after it starts; each waits while the queue has work, at most half a period), one at a time, and
// sends what it finds to the queue. Says once, in the log and
// a metric, when the operator may not sweep and each object reads its own role instead.
import { isAccessDenied } from '../aws/errors.ts';
import { errorMessage } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { Reconciler } from './reconciler.ts';
import type { WatchedCache } from './watches.ts';

/** How often a sweep that waits for a busy queue looks again. */
const DEFER_STEP_MS = 1_000;

export class DriftSweeper {
  private timer: NodeJS.Timeout | undefined;
  private first: NodeJS.Timeout | undefined;
  private deferred: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private mode: 'sweep' | 'per-object' | undefined;
  private periodMs = 0;
  private retry: NodeJS.Timeout | undefined;

  private readonly reconciler: Pick<Reconciler, 'sweepDrift'>;
  private readonly cache: Pick<WatchedCache, 'allObjects'>;
  private readonly enqueue: (key: string) => void;
  private readonly metrics: Metrics;
  private readonly log: Logger;
  private readonly busy: () => boolean;

  constructor(
    reconciler: Pick<Reconciler, 'sweepDrift'>,
    cache: Pick<WatchedCache, 'allObjects'>,
    enqueue: (key: string) => void,
    metrics: Metrics,
    log: Logger,
    /** Whether the queue has work waiting: a periodic sweep waits for it, at most half a period. */
    busy: () => boolean = () => false,
  ) {
    this.busy = busy;
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
      this.onPeriod();
      this.timer = setInterval(() => this.onPeriod(), periodMs);
    }, periodMs / 2);
  }

  async stop(): Promise<void> {
    clearTimeout(this.first);
    clearTimeout(this.deferred);
    clearTimeout(this.retry);
    clearInterval(this.timer);
    await this.running;
  }

  /**
   * The period's sweep, once the queue has no work waiting: during a burst of creates, updates or
   * deletes the objects are changing (a sweep would find them different and send them through a
   * pass they are about to get anyway) and the sweep's large reads would compete with their calls.
   * It waits at most half a period, so the memories of the last syncs (two periods) never run out.
   */
  private onPeriod(): void {
    clearTimeout(this.deferred);
    const until = Date.now() + this.periodMs / 2;
    const attempt = () => {
      if (this.busy() && Date.now() + DEFER_STEP_MS <= until) this.deferred = setTimeout(attempt, DEFER_STEP_MS);
      else void this.tick();
    };
    attempt();
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
