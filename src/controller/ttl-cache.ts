// A map whose entries are forgotten after a fixed time: the controller's short-lived memories
// (the last full sync per object, providers seen, namespace annotations, policy documents).
// Expired entries are dropped when read; the keys are bounded by the objects the operator serves.

export class TtlCache<K, V> {
  private readonly entries = new Map<K, { at: number; ttl: number; value: V }>();
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(ttlMs: number, now: () => number) {
    this.ttlMs = ttlMs;
    this.now = now;
  }

  /** The value set less than ttlMs ago, or undefined. */
  get(key: K): V | undefined {
    const hit = this.entries.get(key);
    if (hit === undefined) return undefined;
    if (this.now() - hit.at < hit.ttl) return hit.value;
    this.entries.delete(key);
    return undefined;
  }

  /** Sets the value for the cache's ttlMs, or for `ttlMs` when given. */
  set(key: K, value: V, ttlMs = this.ttlMs): void {
    this.entries.set(key, { at: this.now(), ttl: ttlMs, value });
  }

  delete(key: K): void {
    this.entries.delete(key);
  }
}
