// Whether a web-identity token of one ServiceAccount may assume a role, by IAM's rules
// (evaluate.ts) applied to the role's trust policy as IAM holds it. Pure.
import type { PolicyDocument } from './document.ts';
import { evaluatePolicy } from './evaluate.ts';
import { serviceAccountSubject, type TrustSubject } from './trust.ts';

export type TrustJudgment = { admitted: true; message: string } | { admitted: false; message: string };

/**
 * The token of `s` (iss = the provider, sub = its ServiceAccount, aud = its audience) asking for
 * sts:AssumeRoleWithWebIdentity on `roleArn`. Keys a real request may carry besides these
 * (aws:SourceIp, session tags, ...) are absent here, as for a request that has none.
 */
export function judgeTrust(doc: PolicyDocument, roleArn: string, s: TrustSubject): TrustJudgment {
  const sub = serviceAccountSubject(s.namespace, s.serviceAccountName);
  const decision = evaluatePolicy(doc, {
    principal: s.oidcProviderArn,
    principalType: 'Federated',
    action: 'sts:AssumeRoleWithWebIdentity',
    resource: roleArn,
    context: { [`${s.issuerHostPath}:sub`]: sub, [`${s.issuerHostPath}:aud`]: s.audience },
  });
  const token = `a token for ${sub} with audience ${s.audience} from ${s.oidcProviderArn}`;
  switch (decision.effect) {
    case 'Allow':
      return { admitted: true, message: `the trust policy of ${roleArn} admits ${token} (statement ${decision.statement})` };
    case 'ExplicitDeny':
      return { admitted: false, message: `statement ${decision.statement} of the trust policy of ${roleArn} denies ${token}` };
    case 'ImplicitDeny':
      return {
        admitted: false,
        message: `no statement of the trust policy of ${roleArn} allows ${token}: add an Allow statement for sts:AssumeRoleWithWebIdentity by ${s.oidcProviderArn} with StringEquals ${s.issuerHostPath}:sub = ${sub} and ${s.issuerHostPath}:aud = ${s.audience}`,
      };
  }
}

/**
 * Every cluster's token against one trust: this cluster's ServiceAccount first, then each other
 * cluster's. Admitted only when all are; the first refusal says which.
 */
export function judgeTrustAll(doc: PolicyDocument, roleArn: string, own: TrustSubject, others: readonly TrustSubject[]): TrustJudgment {
  const first = judgeTrust(doc, roleArn, own);
  if (!first.admitted || others.length === 0) return first;
  const admitted: string[] = [];
  for (const s of others) {
    const judged = judgeTrust(doc, roleArn, s);
    if (!judged.admitted) return { admitted: false, message: `for the cluster of issuer ${s.issuerHostPath}: ${judged.message}` };
    admitted.push(`${serviceAccountSubject(s.namespace, s.serviceAccountName)} from ${s.issuerHostPath}`);
  }
  return { admitted: true, message: `${first.message}, and tokens of the other clusters: ${admitted.join(', ')}` };
}
