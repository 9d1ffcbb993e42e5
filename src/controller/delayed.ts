// The work queue's delayed keys (each object's next drift check, each failed key's backoff): a
// priority queue of (time, key) with one timer for the earliest, instead of a Node timer per key.
// A timer per key held a Timeout, its callback's closure and, with jittered delays, a timer list
// per distinct delay: about 250 bytes per object (2 MB of a heap snapshot at 9,668 objects).
import TinyQueue from 'tinyqueue';

interface Entry {
  at: number;
  key: string;
}

const earliestFirst = () => new TinyQueue<Entry>([], (a, b) => a.at - b.at);

export class DelayedKeys {
  /** Each key's time; a queue entry whose time differs was replaced by an earlier one and is skipped. */
  private readonly due = new Map<string, number>();
  private queue = earliestFirst();
  private readonly onDue: (key: string) => void;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  /** The time the armed timer was set for. */
  private timerAt = Infinity;

  constructor(onDue: (key: string) => void, now: () => number) {
    this.onDue = onDue;
    this.now = now;
  }

  /** Keys waiting for their time. */
  get size(): number {
    return this.due.size;
  }

  /** `key` becomes due at `at`, unless it already is at that time or sooner. */
  schedule(key: string, at: number): void {
    const current = this.due.get(key);
    if (current !== undefined && current <= at) return;
    this.due.set(key, at);
    this.queue.push({ at, key });
    this.arm();
  }

  clear(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
    this.due.clear();
    this.queue = earliestFirst();
  }

  /** Sets the timer for the earliest key, unless one is set for that time or sooner. */
  private arm(): void {
    this.dropReplaced();
    const next = this.queue.peek();
    if (next === undefined || (this.timer !== undefined && this.timerAt <= next.at)) return;
    clearTimeout(this.timer);
    this.timerAt = next.at;
    this.timer = setTimeout(() => this.fire(), Math.max(0, next.at - this.now()));
    this.timer.unref();
  }

  /**
   * Hands over every key due by now, or by the time the timer was set for (the timer fired: its
   * keys are due even when an injected clock says otherwise).
   */
  private fire(): void {
    const until = Math.max(this.now(), this.timerAt);
    this.timer = undefined;
    this.timerAt = Infinity;
    for (let next = this.queue.peek(); next !== undefined && next.at <= until; next = this.queue.peek()) {
      this.queue.pop();
      if (this.due.get(next.key) !== next.at) continue;
      this.due.delete(next.key);
      this.onDue(next.key);
    }
    this.arm();
  }

  private dropReplaced(): void {
    for (let next = this.queue.peek(); next !== undefined && this.due.get(next.key) !== next.at; next = this.queue.peek()) this.queue.pop();
  }
}
