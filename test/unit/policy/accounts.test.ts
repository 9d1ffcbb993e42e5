import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { identityIn, targetAccount } from '../../../src/policy/accounts.ts';
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
