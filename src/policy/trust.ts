// The IRSA trust policy: the object's ServiceAccount (or the ServiceAccounts of its namespace a
// subject pattern names) may assume the role through its cluster's OIDC provider, and so may the
// ServiceAccounts of the other clusters the object lists, each in its own statement pinned to its
// issuer's provider. Pure.
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

/** This cluster's statement first, then one per other cluster, in the order given. */
export function buildTrustPolicy(s: TrustSubject, others: readonly TrustSubject[] = []): PolicyDocument {
  return { Version: '2012-10-17', Statement: [s, ...others].map(trustStatement) };
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
