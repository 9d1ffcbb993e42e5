// A token bucket for writes (IAM's, and restarts of workloads), shared by every worker: IAM publishes no rate limit, and an
// operator that floods it gets the whole account throttled. Each caller reserves the next slot, so
// waiters are served in order and the long-run rate never exceeds the budget.

export interface Clock {
  now: () => number;
  sleep: (ms: number) => Promise<void>;
}

const realClock: Clock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export class WriteBudget {
  private readonly ratePerMs: number;
  private readonly burst: number;
  private readonly clock: Clock;
  private tokens: number;
  private last: number;

  /** `ratePerSecond` 0 means no limit. `burst` defaults to one second's worth (at least 1). */
  constructor(ratePerSecond: number, burst = Math.max(1, ratePerSecond), clock: Clock = realClock) {
    this.ratePerMs = ratePerSecond / 1000;
    this.burst = burst;
    this.clock = clock;
    this.tokens = burst;
    this.last = clock.now();
  }

  /** Resolves when the caller may make one write. */
  async take(): Promise<void> {
    if (this.ratePerMs === 0) return;
    this.refill();
    this.tokens -= 1;
    if (this.tokens >= 0) return;
    await this.clock.sleep(-this.tokens / this.ratePerMs);
  }

  /** One write now if the budget has it, else false (the caller comes back later). */
  tryTake(): boolean {
    if (this.ratePerMs === 0) return true;
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  private refill(): void {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + (now - this.last) * this.ratePerMs);
    this.last = now;
  }
}
