// The IRSA trust policy: exactly one ServiceAccount may assume the role through the cluster's OIDC
// provider. Pure.
import { asArray, isRecord, minifiedLength, type PolicyDocument } from './document.ts';

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

/**
 * Whether an existing role's trust policy lets this ServiceAccount assume it (attachRoleARN mode):
 * some Allow statement for the provider and sts:AssumeRoleWithWebIdentity whose StringEquals pins
 * sub and aud to exactly these values.
 */
export function trustAllows(doc: PolicyDocument, s: TrustSubject): boolean {
  const statements = asArray(doc.Statement);
  const sub = serviceAccountSubject(s.namespace, s.serviceAccountName);
  // An explicit Deny that may cover this action wins in IAM: do not claim the role is usable.
  const denied = statements.some(
    (st) =>
      isRecord(st) &&
      st.Effect === 'Deny' &&
      asArray(st.Action ?? '*').some((a) => ['*', 'sts:*', 'sts:AssumeRoleWithWebIdentity'].includes(String(a))),
  );
  if (denied) return false;
  return statements.some((st) => {
    if (!isRecord(st) || st.Effect !== 'Allow') return false;
    const principal = st.Principal;
    if (!isRecord(principal) || !asArray(principal.Federated).includes(s.oidcProviderArn)) return false;
    if (!asArray(st.Action).includes('sts:AssumeRoleWithWebIdentity')) return false;
    const cond = isRecord(st.Condition) ? st.Condition.StringEquals : undefined;
    if (!isRecord(cond)) return false;
    const subs = asArray(cond[`${s.issuerHostPath}:sub`]);
    const auds = asArray(cond[`${s.issuerHostPath}:aud`]);
    return subs.length > 0 && subs.every((v) => v === sub) && auds.includes(s.audience);
  });
}
