// Whether a web-identity token of one ServiceAccount (IRSA), or EKS Pod Identity for it, may
// assume a role, by IAM's rules (evaluate.ts) applied to the role's trust policy as IAM holds it. Pure.
import type { PolicyDocument } from './document.ts';
import { evaluatePolicy } from './evaluate.ts';
import { POD_IDENTITY_PRINCIPAL, serviceAccountSubject, type PodIdentitySubject, type TrustSubject } from './trust.ts';

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

/**
 * What EKS Pod Identity asks of STS for a pod of `p`'s ServiceAccount: sts:AssumeRole and
 * sts:TagSession as pods.eks.amazonaws.com, with the session tags EKS sets (unless disabled) and
 * the cluster as source. Both actions must be allowed.
 */
export function judgePodIdentityTrust(doc: PolicyDocument, roleArn: string, p: PodIdentitySubject): TrustJudgment {
  const tags: Record<string, string | readonly string[]> = p.sessionTags
    ? {
        'aws:RequestTag/eks-cluster-arn': p.clusterArn,
        'aws:RequestTag/eks-cluster-name': p.clusterArn.split('/').pop() ?? '',
        'aws:RequestTag/kubernetes-namespace': p.namespace,
        'aws:RequestTag/kubernetes-service-account': p.serviceAccountName,
        'aws:TagKeys': [
          'eks-cluster-arn',
          'eks-cluster-name',
          'kubernetes-namespace',
          'kubernetes-service-account',
          'kubernetes-pod-name',
          'kubernetes-pod-uid',
        ],
      }
    : {};
  const context = { ...tags, 'aws:SourceArn': p.clusterArn, 'aws:SourceAccount': p.account };
  const who = `EKS Pod Identity (${POD_IDENTITY_PRINCIPAL}) for ${p.namespace}/${p.serviceAccountName} in ${p.clusterArn}`;
  for (const action of ['sts:AssumeRole', 'sts:TagSession']) {
    const decision = evaluatePolicy(doc, {
      principal: POD_IDENTITY_PRINCIPAL,
      principalType: 'Service',
      action,
      resource: roleArn,
      context,
    });
    if (decision.effect === 'ExplicitDeny') {
      return { admitted: false, message: `statement ${decision.statement} of the trust policy of ${roleArn} denies ${action} to ${who}` };
    }
    if (decision.effect === 'ImplicitDeny') {
      return {
        admitted: false,
        message: `no statement of the trust policy of ${roleArn} allows ${action} to ${who}: add an Allow statement for sts:AssumeRole and sts:TagSession by ${POD_IDENTITY_PRINCIPAL}`,
      };
    }
  }
  return { admitted: true, message: `the trust policy of ${roleArn} admits ${who}` };
}

/**
 * The trust judged for every path it must admit: this cluster's IRSA token (when it uses IRSA),
 * the other clusters' tokens, and EKS Pod Identity (when it uses it). The first refusal says which.
 */
export function judgePaths(
  doc: PolicyDocument,
  roleArn: string,
  paths: { irsa?: TrustSubject | undefined; others?: readonly TrustSubject[]; pod?: PodIdentitySubject | undefined },
): TrustJudgment {
  const others = paths.others ?? [];
  const judged = paths.irsa
    ? [judgeTrustAll(doc, roleArn, paths.irsa, others)]
    : others.map((s) => {
        const j = judgeTrust(doc, roleArn, s);
        return j.admitted ? j : { admitted: false as const, message: `for the cluster of issuer ${s.issuerHostPath}: ${j.message}` };
      });
  if (paths.pod) judged.push(judgePodIdentityTrust(doc, roleArn, paths.pod));
  const refused = judged.find((j) => !j.admitted);
  if (refused) return refused;
  return { admitted: true, message: judged.map((j) => j.message).join('; ') };
}
