// Which AWS account an object's role lives in, and the cluster's identity as seen from there. Pure.
// The role and the OIDC provider it trusts are in the same account (IAM requires it): an object
// in another account trusts that account's provider for the cluster's issuer.
import type { IamServiceAccountSpec } from '../api/types.ts';
import type { SpecProblem } from '../api/validate.ts';
import { oidcProviderArn, parseArn } from './arn.ts';
import { wantedPaths, type ClusterIdentity } from './desired.ts';

/** spec.account, else the account of attachRoleARN, else the operator's own. */
export function targetAccount(spec: IamServiceAccountSpec, ownAccount: string): string {
  return spec.account ?? (spec.attachRoleARN === undefined ? undefined : parseArn(spec.attachRoleARN)?.account) ?? ownAccount;
}

/** The cluster as seen from `account`: roles there, trusting the provider there. */
export function identityIn(identity: ClusterIdentity, account: string): ClusterIdentity {
  if (account === identity.account) return identity;
  return { ...identity, account, oidcProviderArn: oidcProviderArn(identity.partition, account, identity.issuerHostPath) };
}

/**
 * Pod Identity (identity PodIdentity or Both) with a role in another account than the operator's:
 * the association is the cluster's, in EKS of the operator's account, and its role must be of that
 * account (EKS passes it with iam:PassRole). Refused before any IAM or EKS call.
 */
export function podIdentityElsewhere(spec: IamServiceAccountSpec, account: string, ownAccount: string): SpecProblem | undefined {
  if (account === ownAccount || !wantedPaths(spec.identity).pod) return undefined;
  return {
    reason: 'PodIdentityNeedsOwnAccount',
    message: `identity ${spec.identity ?? 'IRSA'} with a role in account ${account}: an EKS Pod Identity association is made in the cluster's account ${ownAccount} and its role must be of that account; use the own account (no spec.account) for Pod Identity, or identity IRSA for a role in another account`,
  };
}
