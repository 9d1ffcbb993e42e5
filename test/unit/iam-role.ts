// A role as IAM gives it back, for the unit tests that compare one with what an object wants.
import type { DesiredRole } from '../../src/policy/desired.ts';
import type { ActualRole } from '../../src/policy/diff.ts';

/** IAM returns policy documents URL-encoded. */
export const enc = (doc: unknown): string => encodeURIComponent(JSON.stringify(doc));

/** The role as IAM would return it for `desired`: documents URL-encoded, arrays and keys reordered. */
export function actualOf(d: DesiredRole): ActualRole {
  return {
    name: d.name,
    path: d.path,
    arn: d.arn,
    description: d.description,
    maxSessionDuration: d.maxSessionDuration,
    permissionsBoundary: d.permissionsBoundary,
    trustPolicy: enc(d.trustPolicy),
    tags: { ...d.tags },
    managedPolicyArns: [...d.managedPolicyArns],
    inlinePolicies: Object.fromEntries(Object.entries(d.inlinePolicies).map(([k, v]) => [k, enc(v)])),
  };
}
