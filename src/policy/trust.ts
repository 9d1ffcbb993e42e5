// The trust policy: exactly one ServiceAccount may assume the role, through the cluster's OIDC
// provider (IRSA), through EKS Pod Identity (pods.eks.amazonaws.com, pinned by the session tags
// EKS sets), or both. Pure.
import { minifiedLength, type PolicyDocument } from './document.ts';

/** IAM's default limit for a role trust policy, in characters without white space. */
export const DEFAULT_TRUST_POLICY_LIMIT = 2048;

export interface TrustSubject {
  oidcProviderArn: string;
  issuerHostPath: string;
  namespace: string;
  serviceAccountName: string;
  audience: string;
}

export function serviceAccountSubject(namespace: string, name: string): string {
  return `system:serviceaccount:${namespace}:${name}`;
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

/** The IRSA trust policy alone. */
export function buildTrustPolicy(s: TrustSubject): PolicyDocument {
  return trustPolicyFor({ irsa: s });
}

/** The trust for the paths given: the IRSA statement, the Pod Identity statement, or both. */
export function trustPolicyFor(paths: { irsa?: TrustSubject | undefined; pod?: PodIdentitySubject | undefined }): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [...(paths.irsa ? [irsaStatement(paths.irsa)] : []), ...(paths.pod ? [podIdentityStatement(paths.pod)] : [])],
  };
}

function irsaStatement(s: TrustSubject): Record<string, unknown> {
  return {
    Effect: 'Allow',
    Principal: { Federated: s.oidcProviderArn },
    Action: 'sts:AssumeRoleWithWebIdentity',
    Condition: {
      StringEquals: {
        [`${s.issuerHostPath}:sub`]: serviceAccountSubject(s.namespace, s.serviceAccountName),
        [`${s.issuerHostPath}:aud`]: s.audience,
      },
    },
  };
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

/** Why a trust policy is unacceptable, or undefined when it fits. */
export function trustPolicyTooLarge(doc: PolicyDocument, limit = DEFAULT_TRUST_POLICY_LIMIT): string | undefined {
  const size = minifiedLength(doc);
  if (size <= limit) return undefined;
  return `the trust policy would be ${size} characters, over IAM's limit of ${limit}: shorten the namespace, ServiceAccount name or issuer, or raise the account's quota and the operator's trustPolicyLimit`;
}
