import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  API_VERSION,
  FINALIZER,
  GROUP,
  KIND,
  MANAGED_BY_LABEL,
  OWNER_ANNOTATION,
  PLURAL,
  SA_ANNOTATIONS,
  VERSION,
  WELL_KNOWN_POLICY_NAMES,
} from '../../../src/api/types.ts';

describe('API constants', () => {
  it('apiVersion is group/version', () => {
    assert.equal(API_VERSION, `${GROUP}/${VERSION}`);
    assert.equal(API_VERSION, 'irsa.dev/v1alpha1');
    assert.equal(KIND, 'IamServiceAccount');
    assert.equal(PLURAL, 'iamserviceaccounts');
  });

  it('the pod-identity-webhook annotations', () => {
    assert.deepEqual(SA_ANNOTATIONS, {
      roleArn: 'eks.amazonaws.com/role-arn',
      audience: 'eks.amazonaws.com/audience',
      stsRegionalEndpoints: 'eks.amazonaws.com/sts-regional-endpoints',
      tokenExpiration: 'eks.amazonaws.com/token-expiration',
    });
  });

  const qualified: { name: string; value: string }[] = [
    { name: 'FINALIZER', value: FINALIZER },
    { name: 'MANAGED_BY_LABEL', value: MANAGED_BY_LABEL },
    { name: 'OWNER_ANNOTATION', value: OWNER_ANNOTATION },
  ];
  for (const tc of qualified) {
    it(`${tc.name} is a qualified Kubernetes key`, () => {
      assert.match(tc.value, /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?\/[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/);
    });
  }

  it('well-known policy names are unique', () => {
    assert.equal(new Set(WELL_KNOWN_POLICY_NAMES).size, WELL_KNOWN_POLICY_NAMES.length);
  });
});
