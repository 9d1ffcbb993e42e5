// The drift sweep's verdicts, taken role by role as its pages arrive (DriftTally): what matches is
// in sync, what differs or never arrives has drifted, one role several objects attach is judged
// for each, roles no object wants are not asked for, and the findings keep the objects' order
// whatever order the pages come in.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { IamServiceAccount, IamServiceAccountSpec } from '../../../src/api/types.ts';
import { DriftTally, wantedRoles, type DriftContext } from '../../../src/controller/drift.ts';
import type { ActualRole } from '../../../src/policy/diff.ts';
import { buildTrustPolicy } from '../../../src/policy/trust.ts';
import { actualOf, enc } from '../iam-role.ts';

const ACCOUNT = '123456789012';
const ISSUER = 'oidc.eks.eu-west-1.amazonaws.com/id/ABC';
const CTX: DriftContext = {
  identity: {
    clusterName: 'prod',
    partition: 'aws',
    account: ACCOUNT,
    issuerHostPath: ISSUER,
    oidcProviderArn: `arn:aws:iam::${ACCOUNT}:oidc-provider/${ISSUER}`,
  },
  defaults: { rolePrefix: '', rolePathPrefix: '/', permissionsBoundary: undefined, trustPolicyLimit: 2048, maxManagedPolicies: 10 },
  audience: 'sts.amazonaws.com',
};
const S3 = 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess';
const SHARED = `arn:aws:iam::${ACCOUNT}:role/shared`;

function obj(name: string, spec: IamServiceAccountSpec, generation = 1): IamServiceAccount {
  return { apiVersion: 'irsa.dev/v1alpha1', kind: 'IamServiceAccount', metadata: { name, namespace: 'team', generation }, spec };
}

const objects = [
  obj('a', { attachPolicyARNs: [S3] }, 3),
  obj('b', { attachPolicyARNs: [S3] }),
  obj('c', { attachPolicyARNs: [S3] }),
  obj('d', { attachRoleARN: SHARED }),
  obj('e', { attachRoleARN: SHARED }),
];
const wanted = [...wantedRoles(objects, CTX)];
const roleOf = (name: string): ActualRole => {
  const w = wanted.find((x) => x.obj.metadata.name === name);
  assert.ok(w?.desired.role, `a managed role for ${name}`);
  return actualOf(w.desired.role);
};
/** The shared role trusts d's ServiceAccount only. */
const shared = (): ActualRole => {
  const d = wanted.find((x) => x.obj.metadata.name === 'd');
  assert.ok(d);
  return { ...roleOf('a'), name: 'shared', arn: SHARED, trustPolicy: enc(buildTrustPolicy(d.desired.trust)), tags: {} };
};

describe('DriftTally', () => {
  it('asks only for the roles the objects want', () => {
    const tally = new DriftTally(objects, CTX);
    assert.deepEqual(
      ['prod.team.a', 'prod.team.b', 'prod.team.c', 'shared', 'other'].map((n) => tally.wants(n)),
      [true, true, true, true, false],
    );
  });

  it('judges each role as it arrives and gives the findings in the order of the objects', () => {
    const tally = new DriftTally(objects, CTX);
    // Pages in another order than the objects; b changed behind the operator's back; c never arrives.
    tally.see(shared());
    tally.see({ ...roleOf('b'), description: 'edited in the console' });
    tally.see(roleOf('a'));
    const f = tally.finish();
    assert.deepEqual(f.drifted, ['team/b', 'team/c', 'team/e'], "b differs, c's role is gone, the shared role does not trust e");
    assert.deepEqual(f.inSync, [
      { key: 'team/a', generation: 3 },
      { key: 'team/d', generation: 1 },
    ]);
    assert.deepEqual([...f.policies], [[S3, ['team/a']]], 'the managed policies of in-sync roles, for the version check');
  });

  it('leaves out objects it cannot judge, whether a role of their name arrives or not', () => {
    // z's role is in another partition (its desired state refuses it); y is being deleted.
    const other = obj('z', { attachRoleARN: 'arn:aws-cn:iam::123456789012:role/other' });
    const deleting: IamServiceAccount = {
      ...obj('y', { attachPolicyARNs: [S3] }),
      metadata: { name: 'y', namespace: 'team', deletionTimestamp: new Date(0) },
    };
    for (const arrives of [true, false]) {
      const tally = new DriftTally([objects[0] as IamServiceAccount, other, deleting], CTX);
      assert.equal(tally.wants('other'), true, 'asked for by name, judged when it arrives');
      assert.equal(tally.wants('prod.team.y'), false);
      tally.see(roleOf('a'));
      if (arrives) tally.see({ ...roleOf('a'), name: 'other', arn: 'arn:aws-cn:iam::123456789012:role/other' });
      const f = tally.finish();
      assert.deepEqual(f.drifted, [], `role of z ${arrives ? 'arrived' : 'never arrived'}`);
      assert.deepEqual(f.inSync, [{ key: 'team/a', generation: 3 }]);
    }
  });

  it('finds nothing in sync when no role arrives', () => {
    const f = new DriftTally(objects, CTX).finish();
    assert.deepEqual(f.drifted, ['team/a', 'team/b', 'team/c', 'team/d', 'team/e']);
    assert.deepEqual(f.inSync, []);
  });
});
