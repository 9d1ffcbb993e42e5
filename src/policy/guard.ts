// The platform team's rules for what tenants may ask for: namespaces, managed policies, inline
// actions, role names, and how many roles a namespace may hold. Pure; every refusal is a
// SpecProblem with a CamelCase reason and a message that says what is allowed.
import type { Reason } from '../api/reasons.ts';
import type { SpecProblem } from '../api/validate.ts';
import { asArray, type PolicyDocument } from './document.ts';
import { wellKnownPolicyName, type DesiredRole } from './desired.ts';

const WELL_KNOWN_PREFIX = wellKnownPolicyName('');

export interface OperatorPolicy {
  /** Glob patterns of namespaces whose objects are served; empty: all. */
  allowedNamespaces: string[];
  /** Glob patterns of managed policy ARNs that may be attached. */
  allowedPolicyARNs: string[];
  /** Glob patterns of managed policy ARNs that may never be attached (wins over allowed). */
  deniedPolicyARNs: string[];
  /** Glob patterns of actions no Allow statement may grant, matched case-insensitively both ways. */
  deniedActions: string[];
  /** Service prefixes (e.g. "s3:") inline policies may use; empty: any not denied. */
  allowedActionPrefixes: string[];
  /** Roles (IamServiceAccounts that manage one) per namespace; 0: no cap. */
  maxRolesPerNamespace: number;
  /** Role names must start with this (derived names always do). */
  rolePrefix: string;
}

/** Namespace annotation adding glob patterns to allowedPolicyARNs for that namespace alone. */
export const NAMESPACE_ALLOWED_POLICIES_ANNOTATION = 'irsa.dev/allowed-policy-arns';

export const DEFAULT_DENIED_POLICY_ARNS = [
  'arn:*:iam::aws:policy/AdministratorAccess',
  'arn:*:iam::aws:policy/AdministratorAccess-*',
  'arn:*:iam::aws:policy/IAMFullAccess',
  'arn:*:iam::aws:policy/AWSOrganizationsFullAccess',
];

/**
 * What lets a role escalate: write IAM, pass roles, assume other roles, leave the organisation.
 * A statement's `*` (or `iam:*`, `iam:P*`, ...) overlaps these and is refused with them; reads
 * such as iam:GetRole or iam:List* are not.
 */
export const DEFAULT_DENIED_ACTIONS = [
  'iam:Add*',
  'iam:Attach*',
  'iam:Change*',
  'iam:Create*',
  'iam:Deactivate*',
  'iam:Delete*',
  'iam:Detach*',
  'iam:Enable*',
  'iam:PassRole',
  'iam:Put*',
  'iam:Remove*',
  'iam:Reset*',
  'iam:Set*',
  'iam:Update*',
  'iam:Upload*',
  'sts:AssumeRole',
  'organizations:*',
];

export function globToRegExp(glob: string, flags = ''): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replaceAll('*', '.*')
    .replaceAll('?', '.');
  return new RegExp(`^${body}$`, flags);
}

const matchesAny = (value: string, globs: readonly string[], flags = '') => globs.some((g) => globToRegExp(g, flags).test(value));

/**
 * Whether an action pattern from a statement can grant a denied action: some action matches both
 * globs (`*` any run, `?` one character). IAM compares actions case-insensitively.
 */
export function actionOverlaps(action: string, denied: string): boolean {
  const a = action.toLowerCase();
  const b = denied.toLowerCase();
  const memo = new Map<number, boolean>();
  const overlap = (i: number, j: number): boolean => {
    const key = i * (b.length + 1) + j;
    const known = memo.get(key);
    if (known !== undefined) return known;
    let r: boolean;
    if (i === a.length && j === b.length) r = true;
    else if (a[i] === '*') r = overlap(i + 1, j) || (j < b.length && overlap(i, j + 1));
    else if (b[j] === '*') r = overlap(i, j + 1) || (i < a.length && overlap(i + 1, j));
    else if (i === a.length || j === b.length) r = false;
    else r = (a[i] === '?' || b[j] === '?' || a[i] === b[j]) && overlap(i + 1, j + 1);
    memo.set(key, r);
    return r;
  };
  return overlap(0, 0);
}

/** The first denied grant in a document, described for a person; undefined when there is none. */
export function deniedGrant(
  doc: PolicyDocument,
  deniedActions: readonly string[],
  allowedPrefixes: readonly string[] = [],
): string | undefined {
  for (const [i, st] of asArray(doc.Statement).entries()) {
    if (typeof st !== 'object' || st === null) continue;
    const rec = st as Record<string, unknown>;
    if (rec.Effect !== 'Allow') continue;
    if (rec.NotAction !== undefined) return `statement ${i} allows NotAction, which grants every other action`;
    for (const action of asArray(rec.Action).map(String)) {
      const hit = deniedActions.find((d) => actionOverlaps(action, d));
      if (hit !== undefined) return `statement ${i} allows ${action}, which the operator's policy denies (${hit})`;
      if (allowedPrefixes.length > 0 && !allowedPrefixes.some((p) => action.toLowerCase().startsWith(p.toLowerCase()))) {
        return `statement ${i} allows ${action}; inline policies may only use ${allowedPrefixes.join(', ')}`;
      }
    }
  }
  return undefined;
}

export interface GuardInput {
  namespace: string;
  /** Annotations of the object's Namespace (per-namespace overrides). */
  namespaceAnnotations: Record<string, string>;
  role: DesiredRole | undefined;
  /** Whether spec.roleName was given (derived names carry the prefix by construction). */
  explicitRoleName: boolean;
  /**
   * This object's place among the namespace's role-managing objects, oldest first (0-based).
   * Asked only when maxRolesPerNamespace is set: it sorts the namespace's objects.
   */
  roleIndexInNamespace: () => number;
}

const refuse = (reason: Reason, message: string): SpecProblem => ({ reason, message });

export function checkOperatorPolicy(p: OperatorPolicy, g: GuardInput): SpecProblem | undefined {
  if (p.allowedNamespaces.length > 0 && !matchesAny(g.namespace, p.allowedNamespaces)) {
    return refuse(
      'NamespaceNotAllowed',
      `the operator serves namespaces ${p.allowedNamespaces.join(', ')}, not ${g.namespace}: ask the platform team`,
    );
  }
  const role = g.role;
  if (!role) return undefined;
  if (g.explicitRoleName && p.rolePrefix !== '' && !role.name.startsWith(p.rolePrefix)) {
    return refuse(
      'RoleNameNotAllowed',
      `role names must start with ${p.rolePrefix}: rename spec.roleName or remove it to get a derived name`,
    );
  }
  if (p.maxRolesPerNamespace > 0 && g.roleIndexInNamespace() >= p.maxRolesPerNamespace) {
    return refuse(
      'NamespaceRoleQuotaExceeded',
      `namespace ${g.namespace} may hold ${p.maxRolesPerNamespace} roles and older IamServiceAccounts use them all: delete one, or ask the platform team to raise maxRolesPerNamespace`,
    );
  }
  const extra = (g.namespaceAnnotations[NAMESPACE_ALLOWED_POLICIES_ANNOTATION] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const allowed = [...p.allowedPolicyARNs, ...extra];
  for (const arn of role.managedPolicyArns) {
    if (matchesAny(arn, p.deniedPolicyARNs)) {
      return refuse('PolicyDenied', `${arn} may not be attached by this operator's policy: use a narrower policy`);
    }
    if (!matchesAny(arn, allowed)) {
      return refuse('PolicyNotAllowed', `${arn} is not among the policies this namespace may attach (${allowed.join(', ') || 'none'})`);
    }
  }
  for (const [name, doc] of Object.entries(role.inlinePolicies)) {
    // eksctl's well-known policies ship with the operator and are reviewed with it; some need a
    // narrow IAM action (the load balancer controller's iam:CreateServiceLinkedRole, say).
    if (name.startsWith(WELL_KNOWN_PREFIX)) continue;
    const why = deniedGrant(doc, p.deniedActions, p.allowedActionPrefixes);
    if (why) return refuse('InlinePolicyDenied', `inline policy ${name}: ${why}`);
  }
  return undefined;
}
