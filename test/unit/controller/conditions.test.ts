import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Condition } from '../../../src/api/types.ts';
import { findCondition, removeCondition, setCondition, type ConditionInput } from '../../../src/controller/conditions.ts';

const T0 = '2024-01-01T00:00:00Z';
const T1 = '2024-01-01T01:00:00Z';

const ready: Condition = { type: 'Ready', status: 'True', reason: 'Synced', message: 'ok', observedGeneration: 1, lastTransitionTime: T0 };
const role: Condition = {
  type: 'RoleSynced',
  status: 'True',
  reason: 'Synced',
  message: 'ok',
  observedGeneration: 1,
  lastTransitionTime: T0,
};

describe('setCondition', () => {
  const cases: { name: string; existing: Condition[]; next: ConditionInput; want: Condition[]; changed: boolean }[] = [
    {
      name: 'a new type gets now',
      existing: [role],
      next: { type: 'Ready', status: 'False', reason: 'Waiting', message: 'm', observedGeneration: 2 },
      want: [role, { type: 'Ready', status: 'False', reason: 'Waiting', message: 'm', observedGeneration: 2, lastTransitionTime: T1 }],
      changed: true,
    },
    {
      name: 'same status keeps lastTransitionTime when reason and message change',
      existing: [ready, role],
      next: { type: 'Ready', status: 'True', reason: 'Other', message: 'other', observedGeneration: 1 },
      want: [{ ...ready, reason: 'Other', message: 'other' }, role],
      changed: true,
    },
    {
      name: 'same status keeps lastTransitionTime when the generation changes',
      existing: [ready],
      next: { type: 'Ready', status: 'True', reason: 'Synced', message: 'ok', observedGeneration: 2 },
      want: [{ ...ready, observedGeneration: 2 }],
      changed: true,
    },
    {
      name: 'a status change updates the time',
      existing: [ready, role],
      next: { type: 'Ready', status: 'False', reason: 'Synced', message: 'ok', observedGeneration: 1 },
      want: [{ ...ready, status: 'False', lastTransitionTime: T1 }, role],
      changed: true,
    },
    {
      name: 'True to Unknown is a change',
      existing: [ready],
      next: { type: 'Ready', status: 'Unknown', reason: 'Synced', message: 'ok', observedGeneration: 1 },
      want: [{ ...ready, status: 'Unknown', lastTransitionTime: T1 }],
      changed: true,
    },
    {
      name: 'identical: not changed, time kept',
      existing: [ready, role],
      next: { type: 'Ready', status: 'True', reason: 'Synced', message: 'ok', observedGeneration: 1 },
      want: [ready, role],
      changed: false,
    },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      const before = structuredClone(tc.existing);
      const got = setCondition(tc.existing, tc.next, T1);
      assert.deepEqual(got, { conditions: tc.want, changed: tc.changed });
      assert.deepEqual(tc.existing, before, 'the input list is not mutated');
    });
  }
});

describe('removeCondition', () => {
  it('removes a present type', () => {
    assert.deepEqual(removeCondition([ready, role], 'Ready'), { conditions: [role], changed: true });
  });
  it('is unchanged when absent', () => {
    assert.deepEqual(removeCondition([role], 'Ready'), { conditions: [role], changed: false });
  });
});

describe('findCondition', () => {
  it('finds by type', () => {
    assert.equal(findCondition([ready, role], 'RoleSynced'), role);
  });
  it('is undefined when absent or without conditions', () => {
    assert.equal(findCondition([ready], 'Stalled'), undefined);
    assert.equal(findCondition(undefined, 'Ready'), undefined);
  });
});
