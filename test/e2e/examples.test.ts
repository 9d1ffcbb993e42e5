// Every YAML in examples/ is applied with kubectl exactly as a platform team would, reaches
// Ready=True, and is deleted cleanly. A new example is picked up by this test without a change.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetRoleCommand } from '@aws-sdk/client-iam';
import { parse } from 'yaml';
import type { IamServiceAccount } from '../../src/api/types.ts';
import { eksClusterArn, issuerHostPath, partitionForRegion } from '../../src/policy/arn.ts';
import { wantedPaths } from '../../src/policy/desired.ts';
import { trustPolicyFor } from '../../src/policy/trust.ts';
import { iamOfExample, SETUP } from './example-setup.ts';
import {
  decodeDoc,
  getJson,
  kubectl,
  newNamespace,
  REPO,
  resetAws,
  startOperator,
  TEST_ISSUER,
  waitForCondition,
  waitGone,
} from './helpers.ts';

const files = readdirSync(join(REPO, 'examples'))
  .filter((f) => f.endsWith('.yaml'))
  .sort();

describe('examples/', () => {
  it('has an example for each documented use', () => {
    assert.ok(files.length >= 11, files.join(', '));
  });

  for (const file of files) {
    it(`${file} becomes Ready and is deleted cleanly`, async () => {
      const setup = SETUP[file] ?? {};
      const region = setup.region ?? 'us-east-1';
      const partition = partitionForRegion(region);
      const example = parse(readFileSync(join(REPO, 'examples', file), 'utf8')) as IamServiceAccount;
      const name = example.metadata.name;
      await resetAws(TEST_ISSUER, region);
      const ns = await newNamespace('example');
      await setup.before?.(ns);
      const op = await startOperator({ region, watchNamespaces: [ns], ...setup.config?.(ns) });
      const account = example.spec.account ?? '123456789012';
      const client = await iamOfExample(example.spec.account, region);
      try {
        await kubectl(['apply', '-n', ns, '-f', join(REPO, 'examples', file)]);
        const obj = await waitForCondition(ns, name, 'Ready', 'True');
        const roleArn = obj.status?.roleARN ?? '';
        assert.match(roleArn, new RegExp(`^arn:${partition}:iam::${account}:role/`));
        const role = (await client.send(new GetRoleCommand({ RoleName: obj.status?.roleName ?? '' }))).Role;
        const issuer = issuerHostPath(TEST_ISSUER);
        const saName = example.spec.serviceAccount?.name ?? name;
        const audience = example.spec.audience ?? 'sts.amazonaws.com';
        const paths = wantedPaths(example.spec.identity);
        if (!example.spec.attachRoleARN) {
          const pattern = example.spec.subjectPattern;
          const subject = (hostPath: string, namespace = ns, sa?: string) => ({
            oidcProviderArn: `arn:${partition}:iam::${account}:oidc-provider/${hostPath}`,
            issuerHostPath: hostPath,
            namespace,
            serviceAccountName: sa ?? saName,
            audience,
            ...(pattern !== undefined && sa === undefined && namespace === ns && { subjectPattern: pattern }),
          });
          const others = (example.spec.additionalClusters ?? []).map((c) =>
            subject(issuerHostPath(c.issuer), c.namespace, c.serviceAccount),
          );
          const pod = {
            clusterArn: eksClusterArn(partition, region, '123456789012', 'local'),
            account: '123456789012',
            namespace: ns,
            serviceAccountName: saName,
            sessionTags: example.spec.podIdentity?.disableSessionTags !== true,
          };
          assert.deepEqual(
            decodeDoc(role?.AssumeRolePolicyDocument),
            trustPolicyFor({ irsa: paths.irsa ? subject(issuer) : undefined, others, pod: paths.pod ? pod : undefined }),
          );
        }
        if (paths.pod) assert.match(obj.status?.podIdentityAssociationARN ?? '', /:podidentityassociation\/local\/a-/);
        if (example.spec.roleOnly !== true) {
          const sa = await getJson<{ metadata: { annotations?: Record<string, string> } }>(['-n', ns, 'get', 'serviceaccount', saName]);
          assert.equal(sa.metadata.annotations?.['eks.amazonaws.com/role-arn'], paths.irsa ? roleArn : undefined);
          assert.equal(sa.metadata.annotations?.['eks.amazonaws.com/audience'], paths.irsa ? audience : undefined);
        }
        await kubectl(['delete', '-n', ns, 'iamsa', name, '--wait=true', '--timeout=30s']);
        await waitGone(['-n', ns, 'iamsa', name]);
        const kept = example.spec.deletionPolicy === 'Retain' || example.spec.attachRoleARN !== undefined;
        const exists = await client.send(new GetRoleCommand({ RoleName: obj.status?.roleName ?? '' })).then(
          () => true,
          () => false,
        );
        assert.equal(exists, kept, kept ? 'role kept' : 'role deleted');
      } finally {
        await op.stop();
      }
    });
  }
});
