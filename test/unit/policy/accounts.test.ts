import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { identityIn, podIdentityElsewhere, targetAccount } from '../../../src/policy/accounts.ts';
import type { ClusterIdentity } from '../../../src/policy/desired.ts';

const OWN = '123456789012';
const TARGET = '210987654321';
const ISSUER = 'oidc.eks.eu-west-1.amazonaws.com/id/ABC';
const IDENTITY: ClusterIdentity = {
  clusterName: 'prod',
  partition: 'aws',
  account: OWN,
  issuerHostPath: ISSUER,
  oidcProviderArn: `arn:aws:iam::${OWN}:oidc-provider/${ISSUER}`,
};

describe('targetAccount', () => {
  it("is spec.account, else attachRoleARN's account, else the operator's own", () => {
    assert.equal(targetAccount({ account: TARGET }, OWN), TARGET);
    assert.equal(targetAccount({ attachRoleARN: `arn:aws:iam::${TARGET}:role/a/b` }, OWN), TARGET);
    assert.equal(targetAccount({}, OWN), OWN);
    assert.equal(targetAccount({ roleName: 'x' }, OWN), OWN);
  });
});

describe('identityIn', () => {
  it("is the cluster as seen from another account: that account's roles, trusting that account's provider for the same issuer", () => {
    assert.deepEqual(identityIn(IDENTITY, TARGET), {
      ...IDENTITY,
      account: TARGET,
      oidcProviderArn: `arn:aws:iam::${TARGET}:oidc-provider/${ISSUER}`,
    });
    assert.equal(identityIn(IDENTITY, OWN), IDENTITY);
  });
});

describe('podIdentityElsewhere', () => {
  it('refuses identity PodIdentity or Both with a role in another account, saying what to use instead', () => {
    for (const identity of ['PodIdentity', 'Both'] as const) {
      const p = podIdentityElsewhere({ identity, account: TARGET }, TARGET, OWN);
      assert.equal(p?.reason, 'PodIdentityNeedsOwnAccount', identity);
      assert.match(p?.message ?? '', new RegExp(`identity ${identity} with a role in account ${TARGET}: .*account ${OWN}`));
      assert.match(p?.message ?? '', /use the own account .* or identity IRSA for a role in another account/);
    }
  });

  it('leaves IRSA in any account, and Pod Identity in the own account (spec.account naming it too), alone', () => {
    assert.equal(podIdentityElsewhere({ account: TARGET }, TARGET, OWN), undefined);
    assert.equal(podIdentityElsewhere({ identity: 'IRSA', account: TARGET }, TARGET, OWN), undefined);
    assert.equal(podIdentityElsewhere({ identity: 'PodIdentity' }, OWN, OWN), undefined);
    assert.equal(podIdentityElsewhere({ identity: 'Both', account: OWN }, OWN, OWN), undefined);
  });
});
