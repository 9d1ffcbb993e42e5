// The retry layers, named in one place. They nest, innermost first:
//   1. the AWS SDK retries one HTTP request (throttling, 5xx, timeouts) up to sdkMaxAttempts times;
//   2. callAws (p-retry) retries the whole SDK call `call.retries` more times with its own jittered
//      backoff: what the SDK gave up on, or does not retry at all (ConcurrentModification);
//   3. a reconcile that still fails hands its key back to the work queue, which retries it after a
//      per-key backoff (5 ms doubling to 5 min, jittered) that a success resets.
// So one AWS call makes at most sdkMaxAttempts * (call.retries + 1) = 12 HTTP attempts before the
// reconcile gives up and the queue's backoff takes over. Expected waits (an OIDC provider not
// created yet) are not failures: they look again after waitMs, outside this stack. Informers
// restart on their own schedule (kube/informer.ts), not nested in these.
export const RETRY = {
  sdkMaxAttempts: 3,
  call: { retries: 3, minTimeoutMs: 100, maxTimeoutMs: 5000 },
  queue: { baseDelayMs: 5, maxDelayMs: 300_000 },
  waitMs: 15_000,
} as const;
