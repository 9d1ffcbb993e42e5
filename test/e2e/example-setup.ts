// What some examples need before they are applied (shared by examples.test.ts and cli.test.ts):
// the region of the cluster they are for, and what must exist first.
import { CreateRoleCommand } from '@aws-sdk/client-iam';
import { issuerHostPath } from '../../src/policy/arn.ts';
import { buildTrustPolicy } from '../../src/policy/trust.ts';
import { createEksCluster, iam, kubectl, TEST_ISSUER } from './helpers.ts';

export interface Setup {
  region?: string;
  before?: (ns: string) => Promise<void>;
}

/** The operator's cluster as an EKS cluster: Pod Identity needs it (DescribeCluster). */
const onEks: Setup = {
  before: async () => {
    await createEksCluster();
  },
};

export const SETUP: Record<string, Setup> = {
  'pod-identity.yaml': onEks,
  'both.yaml': onEks,
  'china-region.yaml': { region: 'cn-north-1' },
  'cluster-autoscaler.yaml': {
    // The Helm chart makes the ServiceAccount; the example only annotates it.
    before: async (ns) => {
      await kubectl(['create', '-n', ns, 'serviceaccount', 'cluster-autoscaler']);
    },
  },
  'existing-role.yaml': {
    before: async (ns) => {
      const issuer = issuerHostPath(TEST_ISSUER);
      await iam().send(
        new CreateRoleCommand({
          RoleName: 'payments-terraform',
          AssumeRolePolicyDocument: JSON.stringify(
            buildTrustPolicy({
              oidcProviderArn: `arn:aws:iam::123456789012:oidc-provider/${issuer}`,
              issuerHostPath: issuer,
              namespace: ns,
              serviceAccountName: 'payments',
              audience: 'sts.amazonaws.com',
            }),
          ),
        }),
      );
    },
  },
};
