// Which AWS account an object's role lives in, and the cluster's identity as seen from there. Pure.
// The role and the OIDC provider it trusts are in the same account (IAM requires it): an object
// in another account trusts that account's provider for the cluster's issuer.
import type { IamServiceAccountSpec } from '../api/types.ts';
import { oidcProviderArn, parseArn } from './arn.ts';
import type { ClusterIdentity } from './desired.ts';

/** spec.account, else the account of attachRoleARN, else the operator's own. */
export function targetAccount(spec: IamServiceAccountSpec, ownAccount: string): string {
  return spec.account ?? (spec.attachRoleARN === undefined ? undefined : parseArn(spec.attachRoleARN)?.account) ?? ownAccount;
}

/** The cluster as seen from `account`: roles there, trusting the provider there. */
export function identityIn(identity: ClusterIdentity, account: string): ClusterIdentity {
  if (account === identity.account) return identity;
  return { ...identity, account, oidcProviderArn: oidcProviderArn(identity.partition, account, identity.issuerHostPath) };
}
