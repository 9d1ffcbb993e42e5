// The two kinds of failure a reconcile can end in, shared by the AWS and Kubernetes shells.
// Terminal: the object (or the operator's policy) must change; no retry until it does.
// Wait: something expected has not appeared yet; look again after a fixed wait, not a backoff.
// Everything else is retryable with backoff.
import type { Reason } from './api/reasons.ts';

export class TerminalError extends Error {
  readonly reason: Reason;
  constructor(reason: Reason, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TerminalError';
    this.reason = reason;
  }
}

export class WaitError extends Error {
  readonly reason: Reason;
  constructor(reason: Reason, message: string) {
    super(message);
    this.name = 'WaitError';
    this.reason = reason;
  }
}

/** Finds a TerminalError anywhere in the cause chain. */
export function terminalCause(e: unknown): TerminalError | undefined {
  for (let cur: unknown = e, depth = 0; cur instanceof Error && depth < 10; cur = cur.cause, depth++) {
    if (cur instanceof TerminalError) return cur;
  }
  return undefined;
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
