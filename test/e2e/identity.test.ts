// Where the operator learns the cluster's issuer and account: EKS DescribeCluster and STS, as on a
// real EKS cluster (moto gives each cluster a random issuer id), and what it says when IAM has no
// OIDC provider for it yet.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { CreateClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { GetRoleCommand } from '@aws-sdk/client-iam';
import { createOidcProvider } from '../env/cluster.ts';
import { decodeDoc, env, iam, kubectl, newNamespace, REPO, resetAws, startOperator, waitForCondition } from './helpers.ts';

it('reads the issuer from EKS DescribeCluster, waits for its OIDC provider, then trusts it', async () => {
  await resetAws();
  const eks = new EKSClient({ region: 'us-east-1', endpoint: env().motoUrl });
  const created = await eks.send(
    new CreateClusterCommand({
      name: 'prod',
      roleArn: 'arn:aws:iam::123456789012:role/eks-cluster',
      resourcesVpcConfig: { subnetIds: ['subnet-1', 'subnet-2'] },
    }),
  );
  const issuerUrl = created.cluster?.identity?.oidc?.issuer ?? '';
  assert.match(issuerUrl, /^https:\/\/oidc\.eks\.us-east-1\.amazonaws\.com\/id\/[A-Za-z0-9]+$/);
  const issuer = issuerUrl.replace('https://', '');

  const ns = await newNamespace('eks');
  const op = await startOperator({ clusterName: 'prod', oidcIssuer: undefined, watchNamespaces: [ns] });
  try {
    await kubectl(['apply', '-n', ns, '-f', join(REPO, 'examples/s3-reader.yaml')]);
    const waiting = await waitForCondition(ns, 's3-reader', 'Ready', 'False', 'OIDCProviderNotFound');
    assert.match(
      waiting.status?.conditions?.find((c) => c.type === 'Ready')?.message ?? '',
      new RegExp(`oidc-provider/${issuer.replaceAll('.', '\\.')}`),
    );
    assert.equal(waiting.status?.conditions?.find((c) => c.type === 'Reconciling')?.status, 'True');

    await createOidcProvider(env().motoUrl, issuerUrl);
    await kubectl(['annotate', '-n', ns, 'iamsa', 's3-reader', 'nudge=1']);
    const ready = await waitForCondition(ns, 's3-reader', 'Ready', 'True');
    assert.equal(ready.status?.roleName, `prod.${ns}.s3-reader`);
    const role = (await iam().send(new GetRoleCommand({ RoleName: ready.status?.roleName ?? '' }))).Role;
    const trust = decodeDoc(role?.AssumeRolePolicyDocument) as {
      Statement: { Principal: { Federated: string }; Condition: { StringEquals: Record<string, string> } }[];
    };
    assert.equal(trust.Statement[0]?.Principal.Federated, `arn:aws:iam::123456789012:oidc-provider/${issuer}`);
    assert.equal(trust.Statement[0]?.Condition.StringEquals[`${issuer}:sub`], `system:serviceaccount:${ns}:s3-reader`);
    // Leave nothing for the other suites' operators to find.
    await kubectl(['delete', '-n', ns, 'iamsa', 's3-reader', '--wait=true', '--timeout=30s']);
  } finally {
    await op.stop();
  }
});
