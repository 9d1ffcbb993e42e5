import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { callAws, type CallOptions, type CallOutcome } from '../../../src/aws/call.ts';
import { TerminalError } from '../../../src/errors.ts';

function named(name: string): Error {
  const e = new Error(`${name} happened`);
  e.name = name;
  return e;
}

function recorder() {
  const outcomes: CallOutcome[] = [];
  const throttles: string[] = [];
  const opts: CallOptions = {
    retries: 3,
    minTimeoutMs: 1,
    maxTimeoutMs: 1,
    observer: (_service, _operation, outcome) => outcomes.push(outcome),
    throttleObserver: (service, operation) => throttles.push(`${service}:${operation}`),
  };
  return { outcomes, throttles, opts };
}

describe('callAws', () => {
  it('reports each attempt, and throttled ones apart, then succeeds', async () => {
    const { outcomes, throttles, opts } = recorder();
    const errors = [named('Throttling'), named('ServiceFailure'), named('TooManyRequestsException')];
    const out = await callAws(
      'iam',
      'GetRole',
      () => {
        const e = errors.shift();
        return e ? Promise.reject(e) : Promise.resolve('role');
      },
      opts,
    );
    assert.equal(out, 'role');
    assert.deepEqual(outcomes, ['retryable', 'retryable', 'retryable', 'ok']);
    assert.deepEqual(throttles, ['iam:GetRole', 'iam:GetRole']);
  });

  it('turns a terminal error into a TerminalError without retrying or counting a throttle', async () => {
    const { outcomes, throttles, opts } = recorder();
    await assert.rejects(
      callAws('iam', 'PutRolePolicy', () => Promise.reject(named('MalformedPolicyDocument')), opts),
      (e: unknown) => {
        assert.ok(e instanceof TerminalError);
        assert.equal(e.reason, 'AwsMalformedPolicyDocument');
        return true;
      },
    );
    assert.deepEqual(outcomes, ['terminal']);
    assert.deepEqual(throttles, []);
  });

  it('returns EntityAlreadyExists to the caller at once: an answer, not a failure to retry', async () => {
    const { outcomes, opts } = recorder();
    await assert.rejects(
      callAws('iam', 'CreateRole', () => Promise.reject(named('EntityAlreadyExists')), opts),
      (e: unknown) => e instanceof Error && e.name === 'EntityAlreadyExists',
    );
    assert.deepEqual(outcomes, ['exists']);
  });
});
