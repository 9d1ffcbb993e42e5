import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LAST_APPLIED_ANNOTATION, withoutBookkeeping } from '../../../src/kube/slim.ts';

describe('withoutBookkeeping', () => {
  const full = {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: {
      name: 'app',
      namespace: 'team-a',
      uid: 'u-1',
      resourceVersion: '42',
      labels: { 'irsa.dev/managed-by': 'irsa-operator' },
      annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::111122223333:role/x', [LAST_APPLIED_ANNOTATION]: '{"big":"copy"}' },
      managedFields: [{ manager: 'kubectl', operation: 'Apply', fieldsV1: { 'f:metadata': {} } }],
    },
    secrets: [{ name: 's' }],
  };

  it('drops managedFields and the last-applied annotation, keeps everything else', () => {
    const slim = withoutBookkeeping(full);
    assert.deepEqual(slim, {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: {
        name: 'app',
        namespace: 'team-a',
        uid: 'u-1',
        resourceVersion: '42',
        labels: { 'irsa.dev/managed-by': 'irsa-operator' },
        annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::111122223333:role/x' },
      },
      secrets: [{ name: 's' }],
    });
  });

  it("keeps the operator's own apply entry, reduced to manager, operation and the keys it applied", () => {
    const fieldsV1 = { 'f:metadata': { 'f:labels': { 'f:irsa.dev/managed-by': {} } } };
    const withOurs = {
      metadata: {
        name: 'app',
        managedFields: [
          { manager: 'helm', operation: 'Apply', fieldsV1: { 'f:metadata': {} } },
          { manager: 'irsa-operator', operation: 'Update', fieldsV1: { 'f:status': {} } },
          { manager: 'irsa-operator', operation: 'Apply', apiVersion: 'v1', time: new Date(0), fieldsType: 'FieldsV1', fieldsV1 },
        ],
      },
    };
    assert.deepEqual(withoutBookkeeping(withOurs).metadata.managedFields, [{ manager: 'irsa-operator', operation: 'Apply', fieldsV1 }]);
  });

  it('leaves the input untouched', () => {
    const before = structuredClone(full);
    withoutBookkeeping(full);
    assert.deepEqual(full, before);
  });

  it('keeps an object without annotations without adding any', () => {
    const slim = withoutBookkeeping({ metadata: { name: 'a', managedFields: [] } });
    assert.deepEqual(slim, { metadata: { name: 'a' } });
    assert.equal('annotations' in slim.metadata, false);
  });

  it('passes an object without metadata through', () => {
    const o = { kind: 'Status' };
    assert.equal(withoutBookkeeping(o), o);
  });
});
