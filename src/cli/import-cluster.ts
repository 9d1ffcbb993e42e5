// irsa import cluster: ServiceAccounts already annotated with eks.amazonaws.com/role-arn (by eksctl,
// Terraform, a Helm chart) become IamServiceAccounts that take them over. Each is either
// attachRoleARN (the role stays as it is: the operator writes nothing to IAM) or, with --adopt,
// adoption: the operator takes the role over whole (adoptExistingRoles: true), which it can only
// when the spec can say everything the role holds. Pure; the reads are in import.ts.
import { OWNER_ANNOTATION, SA_ANNOTATIONS, API_VERSION, KIND, type IamServiceAccountSpec } from '../api/types.ts';
import { validateSpec } from '../api/validate.ts';
import { oidcProviderArn, parseArn, roleNameFromArn, type Partition } from '../policy/arn.ts';
import { OWNER_TAGS } from '../policy/desired.ts';
import type { ActualRole } from '../policy/diff.ts';
import { normalisePolicy, parsePolicyDocumentOrEmpty, type PolicyDocument } from '../policy/document.ts';
import { buildTrustPolicy } from '../policy/trust.ts';
import type { ImportedObject, ImportResult } from './import-result.ts';

export interface AnnotatedServiceAccount {
  namespace: string;
  name: string;
  annotations: Record<string, string>;
}

export interface ClusterImportOptions {
  /** The cluster's issuer (host/path), to compare a role's trust with the one the operator writes. */
  issuerHostPath?: string | undefined;
  maxManagedPolicies: number;
  rolePrefix: string;
  adopt: boolean;
}

/** What the role's annotations ask the webhook for, as spec fields. */
function annotationFields(a: Record<string, string>): IamServiceAccountSpec {
  const spec: IamServiceAccountSpec = {};
  const audience = a[SA_ANNOTATIONS.audience];
  if (audience !== undefined) spec.audience = audience;
  const exp = a[SA_ANNOTATIONS.tokenExpiration];
  if (exp !== undefined && /^\d+$/.test(exp)) spec.tokenExpiration = Number(exp);
  const regional = a[SA_ANNOTATIONS.stsRegionalEndpoints];
  if (regional === 'true' || regional === 'false') spec.stsRegionalEndpoints = regional === 'true';
  return spec;
}

/** The inline policies as one attachPolicy document (the operator keeps one, irsa-attach-policy). */
function mergedInline(inline: Record<string, string>): PolicyDocument | undefined {
  const docs = Object.values(inline).map(parsePolicyDocumentOrEmpty);
  if (docs.length === 0) return undefined;
  if (docs.length === 1) return docs[0];
  const statements = docs.flatMap((d) => (Array.isArray(d.Statement) ? (d.Statement as unknown[]) : [d.Statement]));
  return { Version: '2012-10-17', Statement: statements };
}

type Verdict = { adopt: true; spec: IamServiceAccountSpec; notes: string[] } | { adopt: false; reason: string };

/** Whether the operator can take the role over whole: the spec says everything it holds. */
export function adoption(sa: AnnotatedServiceAccount, arn: string, role: ActualRole | undefined, o: ClusterImportOptions): Verdict {
  if (!role) return { adopt: false, reason: `IAM has no role ${arn}: the object waits for it (RoleNotFound)` };
  if (role.tags[OWNER_TAGS.managedBy] !== undefined)
    return {
      adopt: false,
      reason: `the role carries irsa-operator's ownership tags (${role.tags[OWNER_TAGS.namespace] ?? '?'}/${role.tags[OWNER_TAGS.name] ?? '?'})`,
    };
  if (o.issuerHostPath === undefined)
    return { adopt: false, reason: 'no --issuer: the trust cannot be compared with the one the operator writes' };
  if (o.rolePrefix !== '' && !role.name.startsWith(o.rolePrefix))
    return { adopt: false, reason: `the role name lacks the operator's rolePrefix ${o.rolePrefix}` };
  const parsed = parseArn(role.arn);
  const audience = sa.annotations[SA_ANNOTATIONS.audience] ?? 'sts.amazonaws.com';
  const provider = oidcProviderArn((parsed?.partition ?? 'aws') as Partition, parsed?.account ?? '', o.issuerHostPath);
  const want = buildTrustPolicy({
    oidcProviderArn: provider,
    issuerHostPath: o.issuerHostPath,
    namespace: sa.namespace,
    serviceAccountName: sa.name,
    audience,
  });
  if (JSON.stringify(normalisePolicy(parsePolicyDocumentOrEmpty(role.trustPolicy))) !== JSON.stringify(normalisePolicy(want))) {
    return {
      adopt: false,
      reason:
        'its trust policy is not exactly the one the operator writes for this ServiceAccount (it admits others, or other conditions): adopting would rewrite it',
    };
  }
  if (role.managedPolicyArns.length > o.maxManagedPolicies)
    return { adopt: false, reason: `${role.managedPolicyArns.length} managed policies, over maxManagedPolicies` };
  const spec: IamServiceAccountSpec = { roleName: role.name, deletionPolicy: 'Retain' };
  if (role.path !== '/') spec.rolePath = role.path;
  if (role.description !== '') spec.roleDescription = role.description;
  if (role.maxSessionDuration !== 3600) spec.maxSessionDuration = role.maxSessionDuration;
  if (role.permissionsBoundary !== undefined) spec.permissionsBoundary = role.permissionsBoundary;
  if (role.managedPolicyArns.length > 0) spec.attachPolicyARNs = [...role.managedPolicyArns].sort();
  const inline = mergedInline(role.inlinePolicies);
  if (inline) spec.attachPolicy = inline;
  const tags = Object.fromEntries(Object.entries(role.tags).filter(([k]) => !k.startsWith('aws:') && !k.startsWith('irsa.dev/')));
  if (Object.keys(tags).length > 0) spec.tags = tags;
  const problem = validateSpec(spec);
  if (problem) return { adopt: false, reason: `the role cannot be written as a spec: ${problem.message}` };
  const notes = [
    'the operator takes the role over: run it with adoptExistingRoles: true (else RoleNotOwned)',
    'deletionPolicy: Retain, so that deleting the object keeps the role; set Delete once the operator owns it for good',
  ];
  if (Object.keys(role.inlinePolicies).length > 1)
    notes.push(`its ${Object.keys(role.inlinePolicies).length} inline policies become one (irsa-attach-policy)`);
  return { adopt: true, spec, notes };
}

export function planCluster(
  accounts: readonly AnnotatedServiceAccount[],
  roles: ReadonlyMap<string, ActualRole | undefined>,
  o: ClusterImportOptions,
): ImportResult {
  const result: ImportResult = { objects: [], warnings: [] };
  for (const sa of accounts) {
    const arn = sa.annotations[SA_ANNOTATIONS.roleArn];
    const who = `${sa.namespace}/${sa.name}`;
    if (arn === undefined) continue;
    if (sa.annotations[OWNER_ANNOTATION] !== undefined) {
      result.warnings.push(`ServiceAccount ${who}: IamServiceAccount ${sa.annotations[OWNER_ANNOTATION]} owns it already: skipped`);
      continue;
    }
    if (roleNameFromArn(arn) === undefined) {
      result.warnings.push(`ServiceAccount ${who}: ${SA_ANNOTATIONS.roleArn}=${arn} is not a role ARN: skipped`);
      continue;
    }
    result.objects.push(objectFor(sa, arn, roles.get(arn), o));
  }
  return result;
}

function objectFor(sa: AnnotatedServiceAccount, arn: string, role: ActualRole | undefined, o: ClusterImportOptions): ImportedObject {
  const base: IamServiceAccountSpec = { ...annotationFields(sa.annotations), serviceAccount: { name: sa.name, overrideExisting: true } };
  const metadata = { name: sa.name, namespace: sa.namespace };
  const from = `ServiceAccount ${sa.namespace}/${sa.name}, annotated with ${arn}`;
  const verdict: Verdict = o.adopt ? adoption(sa, arn, role, o) : { adopt: false, reason: 'adoption not asked (--adopt)' };
  if (verdict.adopt) {
    return {
      object: { apiVersion: API_VERSION, kind: KIND, metadata, spec: { ...verdict.spec, ...base } },
      mode: 'adopt',
      notes: [from, ...verdict.notes],
    };
  }
  return {
    object: { apiVersion: API_VERSION, kind: KIND, metadata, spec: { attachRoleARN: arn, ...base } },
    mode: 'attachRoleARN',
    notes: [from, `the role stays as it is (the operator verifies its trust, writes nothing to IAM): ${verdict.reason}`],
  };
}
