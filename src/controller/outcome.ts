// How a pass ends: each part's outcome, and the verdict the work queue acts on. Pure.
import { awsReason } from '../aws/errors.ts';
import { errorMessage, terminalCause, WaitError } from '../errors.ts';
import { KubeApiError } from '../kube/http.ts';
import type { PartOutcome } from './status.ts';

/** What the work queue does with a key after a pass. Four kinds, so no pair can contradict. */
export type QueueVerdict =
  /** Done; reset the key's backoff. */
  | { kind: 'done' }
  /** Done for now; come back after this delay (resets the backoff). */
  | { kind: 'after'; delayMs: number }
  /** Failed; come back after the key's next backoff delay. */
  | { kind: 'retry' }
  /** Failed in a way retrying cannot fix; wait for the next add. */
  | { kind: 'drop' };

/** One part's outcome, and whether its failure was transient (backoff) rather than an expected wait. */
export interface PartResult {
  outcome: PartOutcome;
  backoff: boolean;
}

/** How a failure shows in status: terminal -> stalled, expected wait or transient -> progressing. */
export function failurePart(e: unknown): PartOutcome {
  const terminal = terminalCause(e);
  if (terminal) return { state: 'stalled', reason: terminal.reason, message: terminal.message };
  if (e instanceof WaitError) return { state: 'progressing', reason: e.reason, message: e.message };
  if (e instanceof KubeApiError) {
    return { state: 'progressing', reason: 'KubernetesApiError', message: `Kubernetes API answered ${e.code}: ${errorMessage(e)}` };
  }
  return { state: 'progressing', reason: awsReason(e), message: errorMessage(e) };
}

/** A transient failure backs off; a wait (WaitError) looks again after a fixed wait; a terminal one waits for a change. */
export function needsBackoff(e: unknown, part: PartOutcome): boolean {
  return part.state === 'progressing' && !(e instanceof WaitError);
}

/** A failed part's result. */
export function failed(e: unknown): PartResult {
  const outcome = failurePart(e);
  return { outcome, backoff: needsBackoff(e, outcome) };
}

/**
 * The verdict for a pass: all parts synced -> look again after the drift period; a transient
 * failure -> backoff; a stalled part -> wait for a change to the object; else (an expected wait)
 * look again after waitMs.
 */
export function verdictFor(parts: readonly PartResult[], delays: { driftMs: number; waitMs: number }): QueueVerdict {
  if (parts.every((p) => p.outcome.state === 'synced')) return { kind: 'after', delayMs: delays.driftMs };
  if (parts.some((p) => p.backoff)) return { kind: 'retry' };
  if (parts.some((p) => p.outcome.state === 'stalled')) return { kind: 'drop' };
  return { kind: 'after', delayMs: delays.waitMs };
}
