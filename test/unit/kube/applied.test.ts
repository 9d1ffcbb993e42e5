import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appliedMetadataKeys, reducedFields } from '../../../src/kube/applied.ts';

describe('appliedMetadataKeys', () => {
  const fieldsV1 = {
    'f:metadata': {
      'f:labels': { '.': {}, 'f:irsa.dev/managed-by': {}, 'f:team': {} },
      'f:annotations': { '.': {}, 'f:eks.amazonaws.com/role-arn': {} },
    },
  };
  const cases: { name: string; managedFields: object[] | undefined; want: ReturnType<typeof appliedMetadataKeys> }[] = [
    {
      name: "the manager's Apply entry",
      managedFields: [{ manager: 'irsa-operator', operation: 'Apply', fieldsV1 }],
      want: { labels: ['irsa.dev/managed-by', 'team'], annotations: ['eks.amazonaws.com/role-arn'] },
    },
    { name: 'no managedFields', managedFields: undefined, want: undefined },
    { name: "another manager's entry only", managedFields: [{ manager: 'helm', operation: 'Apply', fieldsV1 }], want: undefined },
    {
      name: "the manager's Update entry is not an apply",
      managedFields: [{ manager: 'irsa-operator', operation: 'Update', fieldsV1 }],
      want: undefined,
    },
    {
      name: 'an apply that sent no labels',
      managedFields: [{ manager: 'irsa-operator', operation: 'Apply', fieldsV1: { 'f:metadata': { 'f:annotations': { 'f:a': {} } } } }],
      want: { labels: [], annotations: ['a'] },
    },
    {
      name: 'an entry without fieldsV1',
      managedFields: [{ manager: 'irsa-operator', operation: 'Apply' }],
      want: { labels: [], annotations: [] },
    },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      assert.deepEqual(appliedMetadataKeys({ name: 'sa', managedFields: tc.managedFields }, 'irsa-operator'), tc.want);
    });
  }
});

describe('reducedFields', () => {
  const fieldsV1 = {
    'f:metadata': {
      'f:labels': { '.': {}, 'f:irsa.dev/managed-by': {} },
      'f:annotations': { '.': {}, 'f:eks.amazonaws.com/role-arn': {}, 'f:eks.amazonaws.com/audience': {} },
      'f:ownerReferences': { 'k:{"uid":"u"}': {} },
    },
    'f:secrets': {},
  };

  it('keeps only the label and annotation keys', () => {
    assert.deepEqual(reducedFields(fieldsV1), {
      'f:metadata': {
        'f:labels': { 'f:irsa.dev/managed-by': {} },
        'f:annotations': { 'f:eks.amazonaws.com/role-arn': {}, 'f:eks.amazonaws.com/audience': {} },
      },
    });
  });

  it('says what the full entry says to appliedMetadataKeys', () => {
    for (const fields of [fieldsV1, { 'f:metadata': { 'f:annotations': { 'f:a': {} } } }, undefined]) {
      const keys = (f: unknown) => appliedMetadataKeys({ managedFields: [{ manager: 'm', operation: 'Apply', fieldsV1: f }] }, 'm');
      assert.deepEqual(keys(reducedFields(fields)), keys(fields));
    }
  });
});
