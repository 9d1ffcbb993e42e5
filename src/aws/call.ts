// Every AWS call goes through here: retry what is worth retrying (p-retry), turn terminal errors
// into TerminalError, and report each attempt to an observer (metrics, tests).
import pRetry, { AbortError } from 'p-retry';
import { TerminalError, WaitError } from '../errors.ts';
import { RETRY } from '../retry.ts';
import type { WriteBudget } from './budget.ts';
import { awsMessage, awsReason, classifyAwsError, isThrottle } from './errors.ts';

export type CallOutcome = 'ok' | 'notFound' | 'exists' | 'conflict' | 'terminal' | 'retryable';
export type CallObserver = (service: string, operation: string, outcome: CallOutcome) => void;
/** An attempt AWS refused for its rate (also reported to the observer as 'retryable'). */
export type ThrottleObserver = (service: string, operation: string) => void;

export interface CallOptions {
  retries: number;
  minTimeoutMs: number;
  maxTimeoutMs: number;
  observer?: CallObserver | undefined;
  throttleObserver?: ThrottleObserver | undefined;
  signal?: AbortSignal | undefined;
}

/** Layer 2 of the retry stack (src/retry.ts). */
export const DEFAULT_CALL_OPTIONS: CallOptions = { ...RETRY.call };

/**
 * Runs `fn`, retrying retryable failures with jittered exponential backoff. A not-found,
 * already-exists or delete-conflict error is returned to the caller unchanged (an answer about the
 * entity, which trying again would not change); a terminal error becomes a
 * TerminalError carrying the AWS code as its reason.
 */
export async function callAws<T>(service: string, operation: string, fn: () => Promise<T>, opts: CallOptions): Promise<T> {
  return pRetry(
    async () => {
      try {
        const out = await fn();
        opts.observer?.(service, operation, 'ok');
        return out;
      } catch (e) {
        // Said by the operator's own layer (credentials refused): an answer for the object, not a call to repeat.
        if (e instanceof WaitError) throw new AbortError(e);
        const kind = classifyAwsError(e);
        opts.observer?.(service, operation, kind);
        if (isThrottle(e)) opts.throttleObserver?.(service, operation);
        if (kind === 'notFound' || kind === 'exists' || kind === 'conflict')
          throw new AbortError(e instanceof Error ? e : new Error(String(e)));
        if (kind === 'terminal') throw new AbortError(new TerminalError(awsReason(e), awsMessage(operation, e), { cause: e }));
        throw e;
      }
    },
    {
      retries: opts.retries,
      minTimeout: opts.minTimeoutMs,
      maxTimeout: opts.maxTimeoutMs,
      randomize: true,
      ...(opts.signal ? { signal: opts.signal } : {}),
    },
  );
}

/**
 * callAws for a client with a write budget: every attempt of a write first takes a token from
 * `budget`; reads (the operation names `isRead` accepts) take none.
 */
export function callBudgeted<T>(
  service: string,
  operation: string,
  fn: () => Promise<T>,
  opts: CallOptions,
  budget: Pick<WriteBudget, 'take'>,
  isRead: boolean,
): Promise<T> {
  const attempt = isRead
    ? fn
    : async () => {
        await budget.take();
        return fn();
      };
  return callAws(service, operation, attempt, opts);
}
