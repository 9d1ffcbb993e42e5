// What some examples need before they are applied (shared by examples.test.ts and cli.test.ts):
// the region of the cluster they are for, what must exist first, and what the operator's
// configuration must allow.
import { CreateOpenIDConnectProviderCommand, CreateRoleCommand, type IAMClient } from '@aws-sdk/client-iam';
import type { OperatorConfig } from '../../src/config.ts';
import { issuerHostPath } from '../../src/policy/arn.ts';
import { buildTrustPolicy } from '../../src/policy/trust.ts';
import { createOidcProvider, TEST_ACCOUNT } from '../env/cluster.ts';
import { createEksCluster, env, iam, iamIn, kubectl, TEST_ISSUER } from './helpers.ts';

export interface Setup {
  region?: string;
  before?: (ns: string) => Promise<void>;
  /** The operator's configuration for the example's namespace. */
  config?: (ns: string) => Partial<OperatorConfig>;
}

/** cross-account.yaml's account. */
const PAYMENTS_ACCOUNT = '210987654321';

/** IAM of the account an example's role is in, as moto has it. */
export function iamOfExample(account: string | undefined, region: string): Promise<IAMClient> {
  return account === undefined || account === TEST_ACCOUNT ? Promise.resolve(iam(region)) : iamIn(account, region);
}

/** The operator's cluster as an EKS cluster: Pod Identity needs it (DescribeCluster). */
const onEks: Setup = {
  before: async () => {
    await createEksCluster();
  },
};

/** The other cluster of examples/two-cluster-role.yaml. */
const OTHER_CLUSTER = 'https://oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE';

export const SETUP: Record<string, Setup> = {
  'pod-identity.yaml': onEks,
  'both.yaml': onEks,
  'two-cluster-role.yaml': {
    // The platform team trusts the other cluster, and its OIDC provider is in the account.
    before: () => createOidcProvider(env().motoUrl, OTHER_CLUSTER),
    config: () => ({ allowedIssuers: [OTHER_CLUSTER] }),
  },
  'namespace-pattern.yaml': {
    before: async (ns) => {
      await kubectl(['create', '-n', ns, 'serviceaccount', 'ci-builder']);
    },
    config: (ns) => ({ subjectPatternNamespaces: [ns] }),
  },
  'cross-account.yaml': {
    config: () => ({
      accounts: {
        [PAYMENTS_ACCOUNT]: {
          roleArn: `arn:aws:iam::${PAYMENTS_ACCOUNT}:role/irsa-operator-target`,
          allowedNamespaces: ['example-*', 'render-*'],
        },
      },
    }),
    // The account's provider for the cluster's issuer, made by the platform team (or manageOidcProvider).
    before: async () => {
      await (
        await iamIn(PAYMENTS_ACCOUNT)
      ).send(
        new CreateOpenIDConnectProviderCommand({ Url: TEST_ISSUER, ClientIDList: ['sts.amazonaws.com'], ThumbprintList: ['0'.repeat(40)] }),
      );
    },
  },
  // The provider exists already (made by someone else): the operator reads it and writes nothing to it.
  'self-managed-issuer.yaml': { config: () => ({ manageOidcProvider: true }) },
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
