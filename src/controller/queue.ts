// A work queue of object keys in the manner of client-go's: a key waits at most once, is never
// handled by two workers at once (an add while it is handled marks it dirty and it runs again
// after), and failed keys come back after a per-key exponential backoff with jitter.
import { DelayedKeys } from './delayed.ts';
import type { QueueVerdict } from './outcome.ts';

export interface QueueOptions {
  concurrency: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** In [0, 1); injectable so that tests see exact delays. */
  random?: () => number;
  /** Milliseconds clock; injectable so that tests see exact waits. */
  now?: () => number;
  /**
   * Called when a worker picks a key up, with how long it waited since it was added (or, for a
   * delayed or dirty key, since it became due). Metrics: the queue's latency.
   */
  onPickup?: (key: string, waitedMs: number) => void;
}

/** Delay before the n-th retry (n >= 1): base * 2^(n-1), capped, with jitter in [d/2, d]. */
export function backoffDelay(n: number, baseMs: number, maxMs: number, random: () => number): number {
  const d = Math.min(maxMs, baseMs * 2 ** Math.min(n - 1, 52));
  return Math.round(d / 2 + (d / 2) * random());
}

export class WorkQueue {
  private readonly opts: Required<Omit<QueueOptions, 'onPickup'>> & Pick<QueueOptions, 'onPickup'>;
  private readonly handler: (key: string) => Promise<QueueVerdict>;
  private readonly waiting: string[] = [];
  /** Queued keys, with the time each became due. */
  private readonly queued = new Map<string, number>();
  private readonly processing = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly delayed: DelayedKeys;
  private readonly failures = new Map<string, number>();
  private active = 0;
  private started = false;
  private stopping = false;
  private idleWaiters: (() => void)[] = [];

  constructor(handler: (key: string) => Promise<QueueVerdict>, opts: QueueOptions) {
    this.handler = handler;
    this.opts = { random: Math.random, now: () => Date.now(), ...opts };
    this.delayed = new DelayedKeys((key) => this.add(key), this.opts.now);
  }

  /** Number of keys waiting to be handled (not counting delayed ones). */
  get depth(): number {
    return this.waiting.length;
  }

  start(): void {
    this.started = true;
    this.pump();
  }

  add(key: string): void {
    if (this.stopping) return;
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.set(key, this.opts.now());
    this.waiting.push(key);
    this.pump();
  }

  addAfter(key: string, delayMs: number): void {
    if (this.stopping) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    this.delayed.schedule(key, this.opts.now() + delayMs);
  }

  /** Stops taking keys, drops delayed ones and resolves when in-flight keys are done. */
  async shutdown(): Promise<void> {
    this.stopping = true;
    this.delayed.clear();
    this.waiting.length = 0;
    this.queued.clear();
    if (this.active > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (this.started && !this.stopping && this.active < this.opts.concurrency && this.waiting.length > 0) {
      const key = this.waiting.shift() as string;
      const since = this.queued.get(key) ?? this.opts.now();
      this.queued.delete(key);
      this.processing.add(key);
      this.active++;
      try {
        this.opts.onPickup?.(key, Math.max(0, this.opts.now() - since));
      } catch {
        // An observer's failure must not lose the key.
      }
      void this.run(key);
    }
  }

  private async run(key: string): Promise<void> {
    let verdict: QueueVerdict;
    try {
      verdict = await this.handler(key);
    } catch {
      verdict = { kind: 'retry' };
    }
    this.processing.delete(key);
    this.active--;
    this.settle(key, verdict);
    if (this.dirty.delete(key)) this.add(key);
    if (this.active === 0 && this.stopping) for (const w of this.idleWaiters.splice(0)) w();
    this.pump();
  }

  private settle(key: string, verdict: QueueVerdict): void {
    switch (verdict.kind) {
      case 'done':
        this.failures.delete(key);
        return;
      case 'after':
        this.failures.delete(key);
        this.addAfter(key, verdict.delayMs);
        return;
      case 'retry': {
        const n = (this.failures.get(key) ?? 0) + 1;
        this.failures.set(key, n);
        this.addAfter(key, backoffDelay(n, this.opts.baseDelayMs, this.opts.maxDelayMs, this.opts.random));
        return;
      }
      case 'drop':
        this.failures.delete(key);
        return;
    }
  }
}
