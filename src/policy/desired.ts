// From an IamServiceAccount and the cluster's identity to the role and ServiceAccount it asks for.
// Pure: every failure is a `SpecProblem` with a CamelCase reason and a message for people.
import {
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  OWNER_ANNOTATION,
  SA_ANNOTATIONS,
  WELL_KNOWN_POLICY_NAMES,
  type IamServiceAccount,
  type IdentityMode,
} from '../api/types.ts';
import type { Reason } from '../api/reasons.ts';
import { validateSpec, type SpecProblem } from '../api/validate.ts';
import { STS_AUDIENCE } from './audience.ts';
import { issuerHostPath, managedPolicyArn, oidcProviderArn, roleArn, roleNameFromArn, type Partition } from './arn.ts';
import { minifiedLength, type PolicyDocument } from './document.ts';
import { deriveRoleName } from './naming.ts';
import { subjectPatternMatches } from './subject-pattern.ts';
import { trustPolicyFor, trustPolicyTooLarge, type PodIdentitySubject, type TrustSubject } from './trust.ts';
import { WELL_KNOWN_POLICIES } from './wellknown.ts';

/** What the operator found out about its cluster and account (STS, EKS, or the configuration). */
export interface ClusterIdentity {
  clusterName: string;
  partition: Partition;
  account: string;
  issuerHostPath: string;
  oidcProviderArn: string;
  /** The EKS cluster's ARN (DescribeCluster), read only for objects that use Pod Identity. */
  clusterArn?: string | undefined;
}

/** What the operator's configuration forces on, or defaults for, every role it manages. */
export interface RoleDefaults {
  rolePrefix: string;
  /** Forced path prefix: every role lives below it. */
  rolePathPrefix: string;
  /** Forced permissions boundary, if any. */
  permissionsBoundary?: string | undefined;
  trustPolicyLimit: number;
  maxManagedPolicies: number;
}

export const OWNER_TAGS = {
  managedBy: 'irsa.dev/managed-by',
  cluster: 'irsa.dev/cluster',
  namespace: 'irsa.dev/namespace',
  name: 'irsa.dev/name',
} as const;

/** IAM's limit on the inline policies of one role, summed, in characters without white space. */
export const INLINE_POLICIES_LIMIT = 10240;
export const ATTACH_POLICY_NAME = 'irsa-attach-policy';
export const wellKnownPolicyName = (name: string): string => `irsa-wellknown-${name}`;

/** A role's whole state; documents are parsed (desired) or as IAM returned them (actual). */
export interface RoleState<Doc> {
  name: string;
  path: string;
  arn: string;
  description: string;
  maxSessionDuration: number;
  permissionsBoundary: string | undefined;
  trustPolicy: Doc;
  tags: Record<string, string>;
  managedPolicyArns: string[];
  inlinePolicies: Record<string, Doc>;
}

export type DesiredRole = RoleState<PolicyDocument>;

export interface DesiredServiceAccount {
  name: string;
  create: boolean;
  overrideExisting: boolean;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** The EKS Pod Identity association an object asks for. */
export interface DesiredAssociation {
  clusterName: string;
  namespace: string;
  serviceAccount: string;
  roleArn: string;
  targetRoleArn: string | undefined;
  disableSessionTags: boolean;
  /** Ownership, as on the role. */
  tags: Record<string, string>;
}

/** Which paths the role's trust admits: those the spec asks for, and those kept while a migration is under way. */
export interface TrustPaths {
  irsa: boolean;
  pod: boolean;
}

interface DesiredCommon {
  roleArn: string;
  roleName: string;
  identity: IdentityMode;
  /** Whom the trust admits in this cluster: the annotated ServiceAccount (or a pattern matching it). */
  trust: TrustSubject;
  /** Whom it admits in each other cluster of spec.additionalClusters, in order (attached: none). */
  otherClusters: TrustSubject[];
  /** What EKS Pod Identity tells STS; set when the trust admits Pod Identity. */
  podIdentity: PodIdentitySubject | undefined;
  /** The paths the trust admits for this cluster (the wanted ones, and those kept while migrating). */
  paths: TrustPaths;
  /** Set for identity PodIdentity and Both. */
  association: DesiredAssociation | undefined;
  serviceAccount: DesiredServiceAccount | undefined;
  deletionPolicy: 'Delete' | 'Retain';
}

/** managed: the operator owns the role and writes it; attached: an existing role, only verified. */
export type Desired = (DesiredCommon & { mode: 'managed'; role: DesiredRole }) | (DesiredCommon & { mode: 'attached'; role?: undefined });

export type DesiredResult = { ok: true; desired: Desired } | { ok: false; problem: SpecProblem };

const problem = (reason: Reason, message: string): DesiredResult => ({ ok: false, problem: { reason, message } });

export function joinRolePath(prefix: string, path: string | undefined): string {
  const p = path ?? '/';
  return prefix.endsWith('/') ? `${prefix}${p.slice(1)}` : `${prefix}${p}`;
}

/** The paths an identity mode asks for. */
export function wantedPaths(identity: IdentityMode | undefined): TrustPaths {
  return { irsa: identity !== 'PodIdentity', pod: identity === 'PodIdentity' || identity === 'Both' };
}

/**
 * What an object wants, in this cluster, under the operator's defaults. `objectDefaultAudience`
 * is the audience of an object that names none (audience.ts picks it from the OIDC provider).
 * `keep` names paths the trust must still admit while the object migrates away from them.
 */
export function desiredState(
  obj: IamServiceAccount,
  id: ClusterIdentity,
  defaults: RoleDefaults,
  objectDefaultAudience: string = STS_AUDIENCE,
  keep: Partial<TrustPaths> = {},
): DesiredResult {
  const invalid = validateSpec(obj.spec);
  if (invalid) return { ok: false, problem: invalid };
  const { spec, metadata } = obj;
  const roleOnly = spec.roleOnly === true;
  const saName = spec.serviceAccount?.name ?? metadata.name;
  const audience = spec.audience ?? objectDefaultAudience;
  const trust = ownTrust(obj, id, saName, audience);
  if ('reason' in trust) return { ok: false, problem: trust };
  const others = otherClusters(obj, id, trust);
  if ('reason' in others) return { ok: false, problem: others };
  const deletionPolicy = spec.deletionPolicy ?? 'Delete';
  const identity = spec.identity ?? 'IRSA';
  const wanted = wantedPaths(identity);
  const paths = { irsa: wanted.irsa || keep.irsa === true, pod: wanted.pod || keep.pod === true };
  const podIdentity = paths.pod ? podIdentitySubject(obj, id, saName) : undefined;
  if (podIdentity && 'reason' in podIdentity) return { ok: false, problem: podIdentity };
  const common = { trust, otherClusters: others, deletionPolicy, identity, paths, podIdentity };
  const serviceAccountFor = (arn: string) => (roleOnly ? undefined : buildServiceAccount(obj, saName, audience, arn, wanted.irsa));
  if (spec.attachRoleARN !== undefined) {
    const arn = spec.attachRoleARN;
    if (!arn.startsWith(`arn:${id.partition}:`)) {
      return problem('PartitionMismatch', `attachRoleARN is in another partition than this cluster (${id.partition})`);
    }
    const desired: Desired = {
      mode: 'attached',
      roleArn: arn,
      roleName: wantedRoleName(obj, id, defaults),
      serviceAccount: serviceAccountFor(arn),
      association: undefined,
      ...common,
    };
    return { ok: true, desired };
  }
  // The other clusters' statements stay whatever this cluster's pods use (they are IRSA of those clusters).
  const trustPolicy = trustPolicyFor({ irsa: paths.irsa ? trust : undefined, others, pod: podIdentity });
  const role = buildRole(obj, id, defaults, { document: trustPolicy, clusters: 1 + others.length }, saName);
  if ('reason' in role) return { ok: false, problem: role };
  const association = wanted.pod ? associationFor(obj, id.clusterName, saName, role.arn) : undefined;
  return {
    ok: true,
    desired: {
      mode: 'managed',
      role,
      roleArn: role.arn,
      roleName: role.name,
      serviceAccount: serviceAccountFor(role.arn),
      association,
      ...common,
    },
  };
}

/**
 * The name of the role an object wants: its attachRoleARN's, or the one it names or derives; the
 * desired state's roleName when it has one. Cheap: a drift sweep indexes every object by it.
 */
export function wantedRoleName(
  obj: IamServiceAccount,
  id: Pick<ClusterIdentity, 'clusterName'>,
  defaults: Pick<RoleDefaults, 'rolePrefix'>,
): string {
  const { spec, metadata } = obj;
  if (spec.attachRoleARN !== undefined) return roleNameFromArn(spec.attachRoleARN) ?? '';
  return spec.roleName ?? deriveRoleName(defaults.rolePrefix, id.clusterName, metadata.namespace, metadata.name);
}

/** Whom the trust admits in this cluster: the annotated ServiceAccount, or a pattern that matches it. */
function ownTrust(obj: IamServiceAccount, id: ClusterIdentity, saName: string, audience: string): TrustSubject | SpecProblem {
  const pattern = obj.spec.subjectPattern;
  if (pattern !== undefined && !subjectPatternMatches(pattern, saName)) {
    return {
      reason: 'InvalidSpec',
      message: `spec.subjectPattern ${pattern} does not match the ServiceAccount ${saName}, which the operator annotates and whose tokens must be admitted: use a pattern that matches it, or set spec.serviceAccount.name`,
    };
  }
  return {
    oidcProviderArn: id.oidcProviderArn,
    issuerHostPath: id.issuerHostPath,
    namespace: obj.metadata.namespace,
    serviceAccountName: saName,
    audience,
    ...(pattern !== undefined && { subjectPattern: pattern }),
  };
}

/** What EKS Pod Identity tells STS for the object's ServiceAccount; a problem off EKS. */
function podIdentitySubject(obj: IamServiceAccount, id: ClusterIdentity, saName: string): PodIdentitySubject | SpecProblem {
  if (id.clusterArn === undefined) {
    return {
      reason: 'PodIdentityNotAvailable',
      message: `identity ${obj.spec.identity ?? 'IRSA'} needs EKS, and EKS has no cluster ${id.clusterName}: Pod Identity works on EKS clusters only; set the operator's clusterName and region to the EKS cluster's, or use identity: IRSA`,
    };
  }
  return {
    clusterArn: id.clusterArn,
    account: id.account,
    namespace: obj.metadata.namespace,
    serviceAccountName: saName,
    sessionTags: obj.spec.podIdentity?.disableSessionTags !== true,
  };
}

function associationFor(obj: IamServiceAccount, cluster: string, saName: string, roleArn: string): DesiredAssociation {
  const { namespace, name } = obj.metadata;
  return {
    clusterName: cluster,
    namespace,
    serviceAccount: saName,
    roleArn,
    targetRoleArn: obj.spec.podIdentity?.targetRoleARN,
    disableSessionTags: obj.spec.podIdentity?.disableSessionTags === true,
    tags: ownerTags(cluster, namespace, name),
  };
}

/**
 * Whom the trust admits in each of spec.additionalClusters: that cluster's provider in this
 * account, its namespace and ServiceAccount (default: this object's), and this object's subject
 * pattern only where the namespace is this object's and no ServiceAccount is named.
 */
function otherClusters(obj: IamServiceAccount, id: ClusterIdentity, own: TrustSubject): TrustSubject[] | SpecProblem {
  const seen = new Map<string, number>();
  const out: TrustSubject[] = [];
  for (const [i, c] of (obj.spec.additionalClusters ?? []).entries()) {
    const field = `spec.additionalClusters[${i}].issuer`;
    // validateSpec let it through: the schema's issuer pattern is narrower than issuerHostPath's.
    const hostPath = issuerHostPath(c.issuer);
    if (hostPath === id.issuerHostPath) {
      return { reason: 'InvalidSpec', message: `${field} is this cluster's own issuer, which the trust admits already: remove it` };
    }
    const earlier = seen.get(hostPath);
    if (earlier !== undefined) {
      return { reason: 'InvalidSpec', message: `${field} repeats spec.additionalClusters[${earlier}].issuer: list each cluster once` };
    }
    seen.set(hostPath, i);
    const namespace = c.namespace ?? own.namespace;
    const byPattern = c.serviceAccount === undefined && namespace === own.namespace;
    out.push({
      oidcProviderArn: oidcProviderArn(id.partition, id.account, hostPath),
      issuerHostPath: hostPath,
      namespace,
      serviceAccountName: c.serviceAccount ?? own.serviceAccountName,
      audience: own.audience,
      ...(byPattern && own.subjectPattern !== undefined && { subjectPattern: own.subjectPattern }),
    });
  }
  return out;
}

function buildRole(
  obj: IamServiceAccount,
  id: ClusterIdentity,
  defaults: RoleDefaults,
  trust: { document: PolicyDocument; clusters: number },
  saName: string,
): DesiredRole | SpecProblem {
  const { spec, metadata } = obj;
  const name = wantedRoleName(obj, id, defaults);
  const path = joinRolePath(defaults.rolePathPrefix, spec.rolePath);
  if (path.length > 512) return { reason: 'InvalidRolePath', message: `role path ${path} is over 512 characters` };

  const trustPolicy = trust.document;
  const tooLarge = trustPolicyTooLarge(trustPolicy, defaults.trustPolicyLimit, trust.clusters);
  if (tooLarge) return { reason: 'TrustPolicyTooLarge', message: tooLarge };

  if (
    spec.permissionsBoundary !== undefined &&
    defaults.permissionsBoundary !== undefined &&
    spec.permissionsBoundary !== defaults.permissionsBoundary
  ) {
    return {
      reason: 'PermissionsBoundaryForced',
      message: `the operator forces the permissions boundary ${defaults.permissionsBoundary}: remove spec.permissionsBoundary or set it to that ARN`,
    };
  }

  const { managed, inlinePolicies } = rolePolicies(obj, id);
  const boundary = defaults.permissionsBoundary ?? spec.permissionsBoundary;
  for (const a of [...managed, ...(boundary === undefined ? [] : [boundary])]) {
    if (!a.startsWith(`arn:${id.partition}:`)) {
      return { reason: 'PartitionMismatch', message: `policy ${a} is in another partition than this cluster (${id.partition})` };
    }
  }
  if (managed.size > defaults.maxManagedPolicies) {
    return {
      reason: 'TooManyManagedPolicies',
      message: `${managed.size} managed policies (attachPolicyARNs and wellKnownPolicies together) are over the limit of ${defaults.maxManagedPolicies} per role: merge some into attachPolicy`,
    };
  }
  const inlineSize = Object.entries(inlinePolicies).reduce((n, [k, d]) => n + k.length + minifiedLength(d), 0);
  if (inlineSize > INLINE_POLICIES_LIMIT) {
    return {
      reason: 'InlinePolicyTooLarge',
      message: `the inline policies would total ${inlineSize} characters, over IAM's limit of ${INLINE_POLICIES_LIMIT} per role: move statements into managed policies`,
    };
  }

  return {
    name,
    path,
    arn: roleArn(id.partition, id.account, path, name),
    description: spec.roleDescription ?? `IRSA role for ServiceAccount ${metadata.namespace}/${saName} in cluster ${id.clusterName}`,
    maxSessionDuration: spec.maxSessionDuration ?? 3600,
    permissionsBoundary: boundary,
    trustPolicy,
    tags: { ...(spec.tags ?? {}), ...ownerTags(id.clusterName, metadata.namespace, metadata.name) },
    managedPolicyArns: [...managed].sort(),
    inlinePolicies,
  };
}

/** The managed and inline policies a spec asks for: its own, and those of its well-known policies. */
function rolePolicies(
  obj: IamServiceAccount,
  id: ClusterIdentity,
): { managed: Set<string>; inlinePolicies: Record<string, PolicyDocument> } {
  const { spec } = obj;
  const managed = new Set(spec.attachPolicyARNs ?? []);
  const inlinePolicies: Record<string, PolicyDocument> = {};
  if (spec.attachPolicy !== undefined) inlinePolicies[ATTACH_POLICY_NAME] = spec.attachPolicy;
  for (const wk of WELL_KNOWN_POLICY_NAMES) {
    if (spec.wellKnownPolicies?.[wk] !== true) continue;
    const def = WELL_KNOWN_POLICIES[wk];
    for (const m of def.managedPolicies) managed.add(managedPolicyArn(id.partition, 'aws', m));
    if (def.statements.length > 0) {
      inlinePolicies[wellKnownPolicyName(wk)] = { Version: '2012-10-17', Statement: fillPlaceholders(def.statements, id) };
    }
  }
  return { managed, inlinePolicies };
}

export function ownerTags(cluster: string, namespace: string, name: string): Record<string, string> {
  return {
    [OWNER_TAGS.managedBy]: MANAGED_BY_VALUE,
    [OWNER_TAGS.cluster]: cluster,
    [OWNER_TAGS.namespace]: namespace,
    [OWNER_TAGS.name]: name,
  };
}

/** Whether a role's tags say it belongs to this object. */
export function ownedBy(tags: Record<string, string>, cluster: string, namespace: string, name: string): boolean {
  const want = ownerTags(cluster, namespace, name);
  return Object.entries(want).every(([k, v]) => tags[k] === v);
}

function fillPlaceholders(statements: readonly Record<string, unknown>[], id: ClusterIdentity): Record<string, unknown>[] {
  const text = JSON.stringify(statements).replaceAll('${Partition}', id.partition).replaceAll('${ClusterName}', id.clusterName);
  return JSON.parse(text) as Record<string, unknown>[];
}

/** The ServiceAccount; the IRSA annotations only when IRSA is wanted (Pod Identity reads none). */
function buildServiceAccount(obj: IamServiceAccount, name: string, audience: string, arn: string, irsa: boolean): DesiredServiceAccount {
  const sa = obj.spec.serviceAccount ?? {};
  const roleAnnotations = {
    [SA_ANNOTATIONS.roleArn]: arn,
    [SA_ANNOTATIONS.audience]: audience,
    [SA_ANNOTATIONS.stsRegionalEndpoints]: String(obj.spec.stsRegionalEndpoints ?? true),
    [SA_ANNOTATIONS.tokenExpiration]: String(obj.spec.tokenExpiration ?? 86400),
  };
  const annotations: Record<string, string> = {
    ...(sa.annotations ?? {}),
    ...(irsa ? roleAnnotations : {}),
    [OWNER_ANNOTATION]: obj.metadata.name,
  };
  return {
    name,
    create: sa.create ?? true,
    overrideExisting: sa.overrideExisting ?? false,
    labels: { ...(sa.labels ?? {}), [MANAGED_BY_LABEL]: MANAGED_BY_VALUE },
    annotations,
  };
}
