// Who and where the operator is: account (STS), partition (region) and the cluster's OIDC issuer
// (EKS DescribeCluster, or configured for self-managed clusters).
import { DescribeClusterCommand, type EKSClient } from '@aws-sdk/client-eks';
import { GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts';
import type { OperatorConfig } from '../config.ts';
import { TerminalError } from '../errors.ts';
import { issuerHostPath, oidcProviderArn, partitionForRegion } from '../policy/arn.ts';
import type { ClusterIdentity } from '../policy/desired.ts';
import { callAws, type CallOptions } from './call.ts';
import { isNotFound } from './errors.ts';

export async function resolveIdentity(
  config: OperatorConfig,
  clients: { sts: STSClient; eks: EKSClient },
  opts: CallOptions,
): Promise<ClusterIdentity> {
  const partition = partitionForRegion(config.region);
  const account =
    config.accountId ?? (await callAws('sts', 'GetCallerIdentity', () => clients.sts.send(new GetCallerIdentityCommand({})), opts)).Account;
  if (!account)
    throw new TerminalError('AccountUnknown', 'STS GetCallerIdentity returned no account: set accountId in the operator configuration');

  let issuer = config.oidcIssuer;
  if (issuer === undefined) {
    try {
      const out = await callAws(
        'eks',
        'DescribeCluster',
        () => clients.eks.send(new DescribeClusterCommand({ name: config.clusterName })),
        opts,
      );
      issuer = out.cluster?.identity?.oidc?.issuer;
    } catch (e) {
      if (isNotFound(e)) {
        throw new TerminalError(
          'ClusterNotFound',
          `EKS has no cluster ${config.clusterName} in ${config.region}: set clusterName and region, or oidcIssuer for a self-managed cluster`,
        );
      }
      throw e;
    }
    if (!issuer) throw new TerminalError('IssuerUnknown', `EKS cluster ${config.clusterName} has no OIDC issuer: set oidcIssuer`);
  }
  const hostPath = issuerHostPath(issuer);
  return {
    clusterName: config.clusterName,
    partition,
    account,
    issuerHostPath: hostPath,
    oidcProviderArn: oidcProviderArn(partition, account, hostPath),
  };
}
