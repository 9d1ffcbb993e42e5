// The platform team's rules for what tenants may ask for: namespaces, managed policies, inline
// actions, role names, how many roles a namespace may hold, which other clusters a trust may admit
// and which namespaces may admit their ServiceAccounts by pattern. Pure; every refusal is a
// SpecProblem with a CamelCase reason and a message that says what is allowed.
import type { Reason } from '../api/reasons.ts';
import type { SpecProblem } from '../api/validate.ts';
import type { DeniedAction, DeniedActionRules } from './actions.ts';
import { asArray, isRecord, type PolicyDocument } from './document.ts';
import { globToRegExp, matchesAny } from './glob.ts';
import { wellKnownPolicyName, type DesiredRole } from './desired.ts';
import { issuerHostPath } from './arn.ts';
import { subjectEscape } from './subject-pattern.ts';
import type { TrustSubject } from './trust.ts';

const WELL_KNOWN_PREFIX = wellKnownPolicyName('');

/** What the operator's policy says about one account the operator may write roles to. */
export interface AccountPolicy {
  /** Glob patterns of namespaces whose objects may use the account. */
  allowedNamespaces: string[];
}

export interface OperatorPolicy extends DeniedActionRules {
  /** Accounts besides the operator's own, by account ID. */
  accounts: Record<string, AccountPolicy>;
  /** Glob patterns of namespaces whose objects are served; empty: all. */
  allowedNamespaces: string[];
  /** Glob patterns of managed policy ARNs that may be attached. */
  allowedPolicyARNs: string[];
  /** Glob patterns of managed policy ARNs that may never be attached (wins over allowed). */
  deniedPolicyARNs: string[];
  /** Service prefixes (e.g. "s3:") inline policies may use; empty: any not denied. */
  allowedActionPrefixes: string[];
  /** Issuer URLs of other clusters a trust may also admit (spec.additionalClusters); empty: none. */
  allowedIssuers: string[];
  /** Glob patterns of namespaces whose objects may use spec.subjectPattern; empty: none. */
  subjectPatternNamespaces: string[];
  /** Roles (IamServiceAccounts that manage one) per namespace; 0: no cap. */
  maxRolesPerNamespace: number;
  /** Role names must start with this (derived names always do). */
  rolePrefix: string;
}

/** Namespace annotation adding glob patterns to allowedPolicyARNs for that namespace alone. */
export const NAMESPACE_ALLOWED_POLICIES_ANNOTATION = 'irsa.dev/allowed-policy-arns';
/** Namespace annotation naming configured accounts (IDs, comma-separated) that namespace may use besides those that allow it. */
export const NAMESPACE_ALLOWED_ACCOUNTS_ANNOTATION = 'irsa.dev/allowed-accounts';

/**
 * Namespaces whose ServiceAccounts are never admitted by pattern, whatever subjectPatternNamespaces
 * says: their ServiceAccounts are the cluster's own controllers.
 */
const NEVER_PATTERN_NAMESPACES = ['kube-system', 'kube-public', 'kube-node-lease'];

/** Refused by name before any document is read (they grant everything, or all of IAM). */
export const DEFAULT_DENIED_POLICY_ARNS = [
  'arn:*:iam::aws:policy/AdministratorAccess',
  'arn:*:iam::aws:policy/AdministratorAccess-*',
  'arn:*:iam::aws:policy/IAMFullAccess',
  'arn:*:iam::aws:policy/AWSOrganizationsFullAccess',
];

/**
 * Actions that let a role escape its tenant: hand a role to a service, become another role, or
 * become the root of a member account. IAM, Organizations and Account writes come from
 * DEFAULT_DENIED_WRITE_SERVICES.
 */
export const DEFAULT_DENIED_ACTIONS = ['iam:PassRole', 'sts:AssumeRole', 'sts:AssumeRoot'];

/** Services whose every action above Read and List is denied: who may write these owns the account. */
export const DEFAULT_DENIED_WRITE_SERVICES = ['iam', 'organizations', 'account'];

/** Where a document grants a denied action. */
export interface DeniedGrant {
  /** `"Sid"` when the statement has one, else its 0-based position. */
  statement: string;
  action: string;
  rule: string;
}

const statementLabel = (st: Record<string, unknown>, i: number) => (typeof st.Sid === 'string' && st.Sid !== '' ? `"${st.Sid}"` : `${i}`);

const actionPatterns = (value: unknown) =>
  asArray(value)
    .filter((a): a is string => typeof a === 'string')
    .map((a) => globToRegExp(a, 'i'));

/**
 * The first denied action an Allow statement grants, whatever its resource or condition: an
 * Action pattern that matches the action, or a NotAction list that leaves it out. IAM compares
 * actions case-insensitively.
 */
export function deniedGrant(doc: PolicyDocument, denied: readonly DeniedAction[]): DeniedGrant | undefined {
  for (const [i, st] of asArray(doc.Statement).entries()) {
    if (!isRecord(st) || st.Effect !== 'Allow') continue;
    const not = st.NotAction !== undefined;
    const patterns = actionPatterns(not ? st.NotAction : st.Action);
    const hit = denied.find((d) => patterns.some((re) => re.test(d.action)) !== not);
    if (hit) return { statement: statementLabel(st, i), action: hit.action, rule: hit.rule };
  }
  return undefined;
}

export const describeGrant = (g: DeniedGrant) =>
  `statement ${g.statement} grants ${g.action}, which the operator's policy denies (${g.rule})`;

/** Where an inline document steps outside the services it may use; undefined when it does not. */
export function outsidePrefixes(doc: PolicyDocument, prefixes: readonly string[]): string | undefined {
  if (prefixes.length === 0) return undefined;
  for (const [i, st] of asArray(doc.Statement).entries()) {
    if (!isRecord(st) || st.Effect !== 'Allow') continue;
    const where = `statement ${statementLabel(st, i)}`;
    if (st.NotAction !== undefined)
      return `${where} uses NotAction, which grants actions of every service; inline policies may only use ${prefixes.join(', ')}`;
    const action = asArray(st.Action)
      .map(String)
      .find((a) => !prefixes.some((p) => a.toLowerCase().startsWith(p.toLowerCase())));
    if (action !== undefined) return `${where} allows ${action}; inline policies may only use ${prefixes.join(', ')}`;
  }
  return undefined;
}

export interface GuardInput {
  namespace: string;
  /** The account of the object's role, and the operator's own. */
  account: string;
  ownAccount: string;
  /** Annotations of the object's Namespace (per-namespace overrides). */
  namespaceAnnotations: Record<string, string>;
  role: DesiredRole | undefined;
  /** Whom the role's trust admits in this cluster (the ServiceAccount, or a subject pattern). */
  trust: TrustSubject;
  /** Whom it admits in the other clusters of spec.additionalClusters, in order. */
  otherClusters: readonly TrustSubject[];
  /** Whether spec.roleName was given (derived names carry the prefix by construction). */
  explicitRoleName: boolean;
  /**
   * This object's place among the namespace's role-managing objects, oldest first (0-based).
   * Asked only when maxRolesPerNamespace is set: it sorts the namespace's objects.
   */
  roleIndexInNamespace: () => number;
}

const refuse = (reason: Reason, message: string): SpecProblem => ({ reason, message });

export function checkOperatorPolicy(p: OperatorPolicy, denied: readonly DeniedAction[], g: GuardInput): SpecProblem | undefined {
  if (p.allowedNamespaces.length > 0 && !matchesAny(g.namespace, p.allowedNamespaces)) {
    return refuse(
      'NamespaceNotAllowed',
      `the operator serves namespaces ${p.allowedNamespaces.join(', ')}, not ${g.namespace}: ask the platform team`,
    );
  }
  const accountRefusal = checkAccount(p, g);
  if (accountRefusal) return accountRefusal;
  const role = g.role;
  if (!role) return undefined;
  const trust = trustRefusal(p, g, role);
  if (trust) return trust;
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
  const allowed = [...p.allowedPolicyARNs, ...annotationList(g.namespaceAnnotations, NAMESPACE_ALLOWED_POLICIES_ANNOTATION)];
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
    const grant = deniedGrant(doc, denied);
    if (grant)
      return refuse('InlinePolicyDenied', `inline policy ${name}: ${describeGrant(grant)}: remove the action or narrow the statement`);
    const outside = outsidePrefixes(doc, p.allowedActionPrefixes);
    if (outside) return refuse('InlinePolicyDenied', `inline policy ${name}: ${outside}`);
  }
  return undefined;
}

const annotationList = (annotations: Record<string, string>, key: string): string[] =>
  (annotations[key] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** Another account than the operator's own: configured, and open to this namespace. */
export function checkAccount(
  p: Pick<OperatorPolicy, 'accounts'>,
  g: Pick<GuardInput, 'namespace' | 'account' | 'ownAccount' | 'namespaceAnnotations'>,
): SpecProblem | undefined {
  if (g.account === g.ownAccount) return undefined;
  const entry = p.accounts[g.account];
  if (!entry) {
    const known = [g.ownAccount, ...Object.keys(p.accounts)].join(', ');
    return refuse(
      'AccountNotAllowed',
      `the operator writes roles to accounts ${known}, not ${g.account}: remove spec.account (or use a role of one of those accounts), or ask the platform team to add ${g.account} to the operator's accounts`,
    );
  }
  const annotated = annotationList(g.namespaceAnnotations, NAMESPACE_ALLOWED_ACCOUNTS_ANNOTATION).includes(g.account);
  if (!annotated && !matchesAny(g.namespace, entry.allowedNamespaces)) {
    return refuse(
      'AccountNotAllowedInNamespace',
      `namespace ${g.namespace} may not use account ${g.account} (it is open to namespaces ${entry.allowedNamespaces.join(', ') || 'none'}): ask the platform team to add the namespace to the account's allowedNamespaces, or annotate the namespace ${NAMESPACE_ALLOWED_ACCOUNTS_ANNOTATION}`,
    );
  }
  return undefined;
}

/** The clusters and subjects a trust may admit: allowedIssuers, subjectPatternNamespaces, and no subject outside. */
function trustRefusal(p: OperatorPolicy, g: GuardInput, role: DesiredRole): SpecProblem | undefined {
  const allowed = new Set(p.allowedIssuers.map(hostPathOrEmpty));
  for (const [i, other] of g.otherClusters.entries()) {
    if (allowed.has(other.issuerHostPath)) continue;
    return refuse(
      'IssuerNotAllowed',
      `spec.additionalClusters[${i}]: the operator may not trust the issuer https://${other.issuerHostPath} (allowedIssuers: ${p.allowedIssuers.join(', ') || 'none'}): ask the platform team to add that cluster's issuer, or remove it`,
    );
  }
  if (g.trust.subjectPattern !== undefined) {
    if (NEVER_PATTERN_NAMESPACES.includes(g.namespace)) {
      return refuse(
        'SubjectPatternNotAllowed',
        `spec.subjectPattern: ServiceAccounts of ${g.namespace} are never admitted by pattern: name the ServiceAccount (remove subjectPattern)`,
      );
    }
    if (!matchesAny(g.namespace, p.subjectPatternNamespaces)) {
      return refuse(
        'SubjectPatternNotAllowed',
        `spec.subjectPattern: namespace ${g.namespace} may not admit ServiceAccounts by pattern (subjectPatternNamespaces: ${p.subjectPatternNamespaces.join(', ') || 'none'}): remove subjectPattern, or ask the platform team`,
      );
    }
  }
  const escape = subjectEscape(role.trustPolicy, g.namespace, g.trust.issuerHostPath);
  if (escape) return refuse('SubjectPatternNotAllowed', `the trust policy would reach outside the namespace: ${escape}`);
  return undefined;
}

/** A configured issuer as IAM names it; one that is not a URL matches nothing. */
function hostPathOrEmpty(issuer: string): string {
  try {
    return issuerHostPath(issuer);
  } catch {
    return '';
  }
}
