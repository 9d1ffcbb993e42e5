// The trust policy. IRSA: the object's ServiceAccount (or the ServiceAccounts of its namespace a
// subject pattern names) may assume the role through its cluster's OIDC provider, and so may the
// ServiceAccounts of the other clusters the object lists, each in its own statement pinned to its
// issuer's provider. EKS Pod Identity: pods.eks.amazonaws.com, pinned by the session tags EKS sets
// to this cluster, namespace and ServiceAccount. Either, or both. Pure.
import { minifiedLength, type PolicyDocument } from './document.ts';

/** IAM's default limit for a role trust policy, in characters without white space. */
export const DEFAULT_TRUST_POLICY_LIMIT = 2048;
/** The most IAM's quota "Role trust policy length" can be raised to. */
export const MAX_TRUST_POLICY_LIMIT = 8192;

/** Who may assume the role through one cluster's OIDC provider. */
export interface TrustSubject {
  oidcProviderArn: string;
  issuerHostPath: string;
  namespace: string;
  /** The ServiceAccount whose token is judged (the one the operator annotates, in this cluster). */
  serviceAccountName: string;
  audience: string;
  /**
   * A StringLike pattern (`*` for any run of characters) of ServiceAccount names in `namespace`,
   * admitted in place of `serviceAccountName` alone; it matches `serviceAccountName`.
   */
  subjectPattern?: string;
}

export function serviceAccountSubject(namespace: string, name: string): string {
  return `system:serviceaccount:${namespace}:${name}`;
}

/** The statement for one cluster: its provider, its sub (StringEquals, or StringLike for a pattern) and aud. */
export function trustStatement(s: TrustSubject): Record<string, unknown> {
  const sub = `${s.issuerHostPath}:sub`;
  const aud = `${s.issuerHostPath}:aud`;
  const condition =
    s.subjectPattern === undefined
      ? { StringEquals: { [sub]: serviceAccountSubject(s.namespace, s.serviceAccountName), [aud]: s.audience } }
      : { StringEquals: { [aud]: s.audience }, StringLike: { [sub]: serviceAccountSubject(s.namespace, s.subjectPattern) } };
  return {
    Effect: 'Allow',
    Principal: { Federated: s.oidcProviderArn },
    Action: 'sts:AssumeRoleWithWebIdentity',
    Condition: condition,
  };
}

/** This cluster's statement first, then one per other cluster, in the order given (IRSA alone). */
export function buildTrustPolicy(s: TrustSubject, others: readonly TrustSubject[] = []): PolicyDocument {
  return trustPolicyFor({ irsa: s, others });
}

/** The principal EKS Pod Identity assumes roles as. */
export const POD_IDENTITY_PRINCIPAL = 'pods.eks.amazonaws.com';

/** What EKS Pod Identity tells STS about a pod's association: the cluster and, with session tags, the ServiceAccount. */
export interface PodIdentitySubject {
  clusterArn: string;
  account: string;
  namespace: string;
  serviceAccountName: string;
  /** false: the association has disableSessionTags, so EKS sends no tags to pin on. */
  sessionTags: boolean;
}

/**
 * The trust for the paths given: this cluster's IRSA statement, the other clusters' (they are
 * IRSA of those clusters, whatever this cluster's pods use), the Pod Identity statement.
 */
export function trustPolicyFor(paths: {
  irsa?: TrustSubject | undefined;
  others?: readonly TrustSubject[];
  pod?: PodIdentitySubject | undefined;
}): PolicyDocument {
  const irsa = [...(paths.irsa ? [paths.irsa] : []), ...(paths.others ?? [])];
  return { Version: '2012-10-17', Statement: [...irsa.map(trustStatement), ...(paths.pod ? [podIdentityStatement(paths.pod)] : [])] };
}

/**
 * EKS Pod Identity's trust: pods.eks.amazonaws.com may assume the role and tag the session, only
 * with the tags EKS sets for this cluster, namespace and ServiceAccount, so that no association
 * in another cluster or namespace (of this account or any other) can use the role. Without
 * session tags (disableSessionTags) EKS sends none to pin on: the statement pins the cluster by
 * aws:SourceArn and aws:SourceAccount, and the association alone names the ServiceAccount.
 */
export function podIdentityStatement(p: PodIdentitySubject): Record<string, unknown> {
  const pinned = p.sessionTags
    ? {
        'aws:RequestTag/eks-cluster-arn': p.clusterArn,
        'aws:RequestTag/kubernetes-namespace': p.namespace,
        'aws:RequestTag/kubernetes-service-account': p.serviceAccountName,
      }
    : { 'aws:SourceArn': p.clusterArn, 'aws:SourceAccount': p.account };
  return {
    Effect: 'Allow',
    Principal: { Service: POD_IDENTITY_PRINCIPAL },
    Action: ['sts:AssumeRole', 'sts:TagSession'],
    Condition: { StringEquals: pinned },
  };
}

/**
 * Why a trust policy is unacceptable, or undefined when it fits. Its size is what IAM counts:
 * the characters of the JSON without white space (the operator sends it minified, and no value it
 * writes holds white space). `clusters`: how many statements, one per cluster.
 */
export function trustPolicyTooLarge(doc: PolicyDocument, limit = DEFAULT_TRUST_POLICY_LIMIT, clusters = 1): string | undefined {
  const size = minifiedLength(doc);
  if (size <= limit) return undefined;
  const each = Math.round(size / clusters);
  const fewer =
    clusters > 1
      ? `list fewer clusters in spec.additionalClusters (${clusters} statements of about ${each} characters each), `
      : 'shorten the namespace, ServiceAccount name or issuer, ';
  return (
    `the trust policy would be ${size} characters (as IAM counts them, without white space), over the limit of ${limit} (trustPolicyLimit): ` +
    `${fewer}use a spec.subjectPattern shorter than the ServiceAccount names it covers, ` +
    `or raise the account's IAM quota "Role trust policy length" (up to ${MAX_TRUST_POLICY_LIMIT}) and ask the platform team to set trustPolicyLimit to it`
  );
}
