import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  awsErrorCode,
  awsMessage,
  awsReason,
  classifyAwsError,
  isAlreadyExists,
  isDeleteConflict,
  isNotFound,
  isThrottle,
  undefinedIfNotFound,
  type AwsErrorKind,
} from '../../../src/aws/errors.ts';

class NamedError extends Error {
  constructor(name: string, message = 'm') {
    super(message);
    this.name = name;
  }
}

describe('classifyAwsError', () => {
  const cases: { name: string; err: unknown; want: AwsErrorKind }[] = [
    { name: 'NoSuchEntity', err: { name: 'NoSuchEntity' }, want: 'notFound' },
    { name: 'NoSuchEntityException', err: { name: 'NoSuchEntityException' }, want: 'notFound' },
    { name: 'ResourceNotFoundException', err: { name: 'ResourceNotFoundException' }, want: 'notFound' },
    { name: 'an SDK-like Error subclass', err: new NamedError('NoSuchEntityException'), want: 'notFound' },
    { name: 'EntityAlreadyExists', err: { name: 'EntityAlreadyExists' }, want: 'exists' },
    { name: 'EntityAlreadyExistsException', err: new NamedError('EntityAlreadyExistsException'), want: 'exists' },
    { name: 'DeleteConflict', err: { name: 'DeleteConflict' }, want: 'conflict' },
    { name: 'MalformedPolicyDocument', err: { name: 'MalformedPolicyDocument' }, want: 'terminal' },
    { name: 'MalformedPolicyDocumentException', err: { name: 'MalformedPolicyDocumentException' }, want: 'terminal' },
    { name: 'InvalidInput', err: { name: 'InvalidInput' }, want: 'terminal' },
    { name: 'InvalidInputException', err: { name: 'InvalidInputException' }, want: 'terminal' },
    { name: 'ValidationError', err: { name: 'ValidationError' }, want: 'terminal' },
    { name: 'ValidationException', err: { name: 'ValidationException' }, want: 'terminal' },
    { name: 'UnmodifiableEntity', err: { name: 'UnmodifiableEntity' }, want: 'terminal' },
    { name: 'UnmodifiableEntityException', err: { name: 'UnmodifiableEntityException' }, want: 'terminal' },
    { name: 'Throttling', err: { name: 'Throttling' }, want: 'retryable' },
    { name: 'ServiceFailure', err: { name: 'ServiceFailureException' }, want: 'retryable' },
    { name: 'a plain Error', err: new Error('socket hang up'), want: 'retryable' },
    { name: 'a name that is not a string', err: { name: 404 }, want: 'retryable' },
    { name: 'no name', err: {}, want: 'retryable' },
    { name: 'null', err: null, want: 'retryable' },
    { name: 'undefined', err: undefined, want: 'retryable' },
    { name: 'a string', err: 'NoSuchEntity', want: 'retryable' },
    { name: 'case matters', err: { name: 'nosuchentity' }, want: 'retryable' },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      assert.equal(classifyAwsError(tc.err), tc.want);
      assert.equal(isNotFound(tc.err), tc.want === 'notFound');
      assert.equal(isAlreadyExists(tc.err), tc.want === 'exists');
      assert.equal(isDeleteConflict(tc.err), tc.want === 'conflict');
    });
  }
});

describe('isThrottle', () => {
  const cases: { name: string; err: unknown; want: boolean }[] = [
    { name: 'Throttling (IAM, STS)', err: { name: 'Throttling' }, want: true },
    { name: 'ThrottlingException', err: new NamedError('ThrottlingException'), want: true },
    { name: 'TooManyRequestsException', err: { name: 'TooManyRequestsException' }, want: true },
    { name: 'RequestLimitExceeded', err: { name: 'RequestLimitExceeded' }, want: true },
    { name: 'LimitExceeded is a quota, not a rate', err: { name: 'LimitExceeded' }, want: false },
    { name: 'AccessDenied', err: { name: 'AccessDenied' }, want: false },
    { name: 'a plain Error', err: new Error('Throttling'), want: false },
    { name: 'null', err: null, want: false },
    { name: 'case matters', err: { name: 'throttling' }, want: false },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      assert.equal(isThrottle(tc.err), tc.want);
      if (tc.want) assert.equal(classifyAwsError(tc.err), 'retryable');
    });
  }
});

describe('awsErrorCode', () => {
  const cases: { name: string; err: unknown; want: string | undefined }[] = [
    { name: 'a named object', err: { name: 'Throttling' }, want: 'Throttling' },
    { name: 'a plain Error', err: new Error('x'), want: undefined },
    { name: 'a TypeError', err: new TypeError('x'), want: 'TypeError' },
    { name: 'null', err: null, want: undefined },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      assert.equal(awsErrorCode(tc.err), tc.want);
    });
  }
});

describe('awsReason', () => {
  const cases: { name: string; err: unknown; want: string }[] = [
    { name: 'drops Exception', err: { name: 'NoSuchEntityException' }, want: 'AwsNoSuchEntity' },
    { name: 'keeps a bare code', err: { name: 'Throttling' }, want: 'AwsThrottling' },
    { name: 'drops only a trailing Exception', err: { name: 'ExceptionalThing' }, want: 'AwsExceptionalThing' },
    { name: 'drops characters a reason cannot hold', err: { name: 'Some.Weird-Code:1' }, want: 'AwsSomeWeirdCode1' },
    { name: 'a plain Error', err: new Error('x'), want: 'AwsUnavailable' },
    { name: 'no error object', err: 'boom', want: 'AwsUnavailable' },
    { name: 'a name that is only Exception', err: { name: 'Exception' }, want: 'AwsUnavailable' },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      const got = awsReason(tc.err);
      assert.equal(got, tc.want);
      // A metav1.Condition reason.
      assert.match(got, /^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/);
    });
  }
});

describe('awsMessage', () => {
  it('prefixes the operation', () => {
    assert.equal(awsMessage('GetRole', new NamedError('NoSuchEntity', 'The role cannot be found')), 'GetRole: The role cannot be found');
    assert.equal(awsMessage('GetRole', 'plain'), 'GetRole: plain');
  });
});

describe('undefinedIfNotFound', () => {
  it('passes an answer through, turns NotFound into undefined and rethrows anything else', async () => {
    assert.equal(await undefinedIfNotFound(Promise.resolve('role')), 'role');
    assert.equal(await undefinedIfNotFound(Promise.reject<string>(new NamedError('NoSuchEntity'))), undefined);
    await assert.rejects(undefinedIfNotFound(Promise.reject<string>(new NamedError('Throttling'))), /Throttling/);
  });
});
