// AWS errors, classified once: not found, already exists, delete conflict, terminal (a person must
// change something) or retryable.
import type { AwsReason } from '../api/reasons.ts';
import { errorMessage } from '../errors.ts';

export type AwsErrorKind = 'notFound' | 'exists' | 'conflict' | 'terminal' | 'retryable';

const NOT_FOUND = new Set(['NoSuchEntity', 'NoSuchEntityException', 'ResourceNotFoundException']);
const EXISTS = new Set(['EntityAlreadyExists', 'EntityAlreadyExistsException']);
const CONFLICT = new Set(['DeleteConflict', 'DeleteConflictException']);
const TERMINAL = new Set([
  'MalformedPolicyDocument',
  'MalformedPolicyDocumentException',
  'InvalidInput',
  'InvalidInputException',
  'ValidationError',
  'ValidationException',
  'UnmodifiableEntity',
  'UnmodifiableEntityException',
  // EKS: a request EKS refuses as it is, and its per-cluster limits (5,000 Pod Identity associations).
  'InvalidParameterException',
  'InvalidRequestException',
  'ResourceLimitExceededException',
]);

export function awsErrorCode(e: unknown): string | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const name = (e as { name?: unknown }).name;
  return typeof name === 'string' && name !== 'Error' ? name : undefined;
}

export function classifyAwsError(e: unknown): AwsErrorKind {
  const code = awsErrorCode(e);
  if (code !== undefined && NOT_FOUND.has(code)) return 'notFound';
  if (code !== undefined && EXISTS.has(code)) return 'exists';
  if (code !== undefined && CONFLICT.has(code)) return 'conflict';
  if (code !== undefined && TERMINAL.has(code)) return 'terminal';
  return 'retryable';
}

const THROTTLE = new Set(['Throttling', 'ThrottlingException', 'TooManyRequestsException', 'RequestLimitExceeded']);

/** AWS refused the call for its rate (retryable; counted apart in metrics). */
export function isThrottle(e: unknown): boolean {
  const code = awsErrorCode(e);
  return code !== undefined && THROTTLE.has(code);
}

const DENIED = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation']);

/** The caller's identity lacks the permission (its IAM policy, an SCP or a boundary). */
export function isAccessDenied(e: unknown): boolean {
  const code = awsErrorCode(e);
  return code !== undefined && DENIED.has(code);
}

export function isNotFound(e: unknown): boolean {
  return classifyAwsError(e) === 'notFound';
}

/** `p`'s answer, or undefined when AWS says the thing asked about does not exist. */
export async function undefinedIfNotFound<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

/** A create found the entity there already: an answer (read it), not a failure to retry. */
export function isAlreadyExists(e: unknown): boolean {
  return classifyAwsError(e) === 'exists';
}

/** A delete found the entity still holding something (a policy attached): read it, do not retry as is. */
export function isDeleteConflict(e: unknown): boolean {
  return classifyAwsError(e) === 'conflict';
}

/** A condition reason for an AWS failure: the error code in CamelCase, prefixed by the service. */
export function awsReason(e: unknown): AwsReason {
  const code = awsErrorCode(e)
    ?.replace(/Exception$/, '')
    .replace(/[^A-Za-z0-9]/g, '');
  return code ? `Aws${code}` : 'AwsUnavailable';
}

export function awsMessage(operation: string, e: unknown): string {
  return `${operation}: ${errorMessage(e)}`;
}
