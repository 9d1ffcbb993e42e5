// Desired role versus the role IAM has: the list of IAM operations that make them equal, in the
// order they must run (create, trust, settings, tags, attach before detach, put before delete).
// Pure. An empty list means zero writes.
import { policiesEqual, type PolicyDocument } from './document.ts';
import type { DesiredRole, RoleState } from './desired.ts';

/** A role as read from IAM. Documents stay as IAM returned them (URL-encoded JSON). */
export type ActualRole = RoleState<string>;

export type IamOperation =
  | { op: 'CreateRole'; role: DesiredRole }
  | { op: 'UpdateAssumeRolePolicy'; document: PolicyDocument }
  | { op: 'UpdateRole'; description: string; maxSessionDuration: number }
  | { op: 'PutRolePermissionsBoundary'; arn: string }
  | { op: 'TagRole'; tags: Record<string, string> }
  | { op: 'UntagRole'; keys: string[] }
  | { op: 'AttachRolePolicy'; arn: string }
  | { op: 'DetachRolePolicy'; arn: string }
  | { op: 'PutRolePolicy'; name: string; document: PolicyDocument }
  | { op: 'DeleteRolePolicy'; name: string };

/**
 * The role IAM holds once a pass made it equal to `desired`: what diffRole finds nothing to do
 * in. (A permissions boundary the spec does not set is never removed, and diffRole never looks at
 * one the spec leaves out, so leaving it out here changes no plan.)
 */
export function roleAsWritten(desired: DesiredRole): ActualRole {
  return {
    ...desired,
    trustPolicy: JSON.stringify(desired.trustPolicy),
    tags: { ...desired.tags },
    managedPolicyArns: [...desired.managedPolicyArns],
    inlinePolicies: Object.fromEntries(Object.entries(desired.inlinePolicies).map(([name, doc]) => [name, JSON.stringify(doc)])),
  };
}

export function diffRole(desired: DesiredRole, actual: ActualRole | undefined): IamOperation[] {
  if (actual === undefined) {
    return [
      { op: 'CreateRole', role: desired },
      ...desired.managedPolicyArns.map((arn): IamOperation => ({ op: 'AttachRolePolicy', arn })),
      ...Object.entries(desired.inlinePolicies).map(([name, document]): IamOperation => ({ op: 'PutRolePolicy', name, document })),
    ];
  }
  const ops: IamOperation[] = [];
  if (!policiesEqual(desired.trustPolicy, actual.trustPolicy)) {
    ops.push({ op: 'UpdateAssumeRolePolicy', document: desired.trustPolicy });
  }
  if (desired.description !== actual.description || desired.maxSessionDuration !== actual.maxSessionDuration) {
    ops.push({ op: 'UpdateRole', description: desired.description, maxSessionDuration: desired.maxSessionDuration });
  }
  // A boundary is set or replaced, never removed: removing one loosens a safety control, which the
  // operator's IAM policy denies it, whoever asks (a spec or a configuration without one).
  if (desired.permissionsBoundary !== undefined && desired.permissionsBoundary !== actual.permissionsBoundary) {
    ops.push({ op: 'PutRolePermissionsBoundary', arn: desired.permissionsBoundary });
  }
  const changedTags = Object.fromEntries(Object.entries(desired.tags).filter(([k, v]) => actual.tags[k] !== v));
  if (Object.keys(changedTags).length > 0) ops.push({ op: 'TagRole', tags: changedTags });
  const extraTags = Object.keys(actual.tags)
    .filter((k) => !Object.hasOwn(desired.tags, k))
    .sort();
  if (extraTags.length > 0) ops.push({ op: 'UntagRole', keys: extraTags });

  const attached = new Set(actual.managedPolicyArns);
  const wanted = new Set(desired.managedPolicyArns);
  for (const arn of desired.managedPolicyArns) if (!attached.has(arn)) ops.push({ op: 'AttachRolePolicy', arn });
  for (const [name, document] of Object.entries(desired.inlinePolicies)) {
    if (!policiesEqual(document, actual.inlinePolicies[name])) ops.push({ op: 'PutRolePolicy', name, document });
  }
  for (const arn of [...attached].sort()) if (!wanted.has(arn)) ops.push({ op: 'DetachRolePolicy', arn });
  for (const name of Object.keys(actual.inlinePolicies).sort()) {
    if (!Object.hasOwn(desired.inlinePolicies, name)) ops.push({ op: 'DeleteRolePolicy', name });
  }
  return ops;
}
