// The IRSA trust policy: exactly one ServiceAccount may assume the role through the cluster's OIDC
// provider. Pure.
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

export function buildTrustPolicy(s: TrustSubject): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Federated: s.oidcProviderArn },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: {
          StringEquals: {
            [`${s.issuerHostPath}:sub`]: serviceAccountSubject(s.namespace, s.serviceAccountName),
            [`${s.issuerHostPath}:aud`]: s.audience,
          },
        },
      },
    ],
  };
}

/** Why a trust policy is unacceptable, or undefined when it fits. */
export function trustPolicyTooLarge(doc: PolicyDocument, limit = DEFAULT_TRUST_POLICY_LIMIT): string | undefined {
  const size = minifiedLength(doc);
  if (size <= limit) return undefined;
  return `the trust policy would be ${size} characters, over IAM's limit of ${limit}: shorten the namespace, ServiceAccount name or issuer, or raise the account's quota and the operator's trustPolicyLimit`;
}
