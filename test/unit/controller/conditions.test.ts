import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Condition, IamServiceAccount } from '../../../src/api/types.ts';
import {
  findCondition,
  messageDigest,
  removeCondition,
  sameMessage,
  setCondition,
  withMessageDigests,
  type ConditionInput,
} from '../../../src/controller/conditions.ts';

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
      name: 'the cache’s digest of the same message: not changed, the message written in full',
      existing: [{ ...ready, message: messageDigest('ok') }, role],
      next: { type: 'Ready', status: 'True', reason: 'Synced', message: 'ok', observedGeneration: 1 },
      want: [ready, role],
      changed: false,
    },
    {
      name: 'the cache’s digest of another message: changed',
      existing: [{ ...ready, message: messageDigest('ServiceAccount app can assume role a') }],
      next: { type: 'Ready', status: 'True', reason: 'Synced', message: 'ServiceAccount app can assume role b', observedGeneration: 1 },
      want: [{ ...ready, message: 'ServiceAccount app can assume role b' }],
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

describe('messageDigest and sameMessage', () => {
  const long = 'role arn:aws:iam::123456789012:role/irsa/c-team-a-app is in sync: trust, 2 managed policies, the inline policy';
  it('keeps 12 characters of any message, different for different messages', () => {
    assert.equal(messageDigest(long).length, 12);
    assert.equal(messageDigest('').length, 12);
    assert.notEqual(messageDigest(long), messageDigest(`${long}.`));
    assert.equal(messageDigest(long), messageDigest(long));
  });
  it('a message matches itself and its digest, not another message or its digest', () => {
    assert.equal(sameMessage(long, long), true);
    assert.equal(sameMessage(messageDigest(long), long), true);
    assert.equal(sameMessage(messageDigest(long), `${long}.`), false);
    assert.equal(sameMessage(`${long}.`, long), false);
  });
});

describe('withMessageDigests', () => {
  const obj: IamServiceAccount = {
    apiVersion: 'irsa.dev/v1alpha1',
    kind: 'IamServiceAccount',
    metadata: { name: 'app', namespace: 'team-a' },
    spec: { roleOnly: true },
    status: {
      roleARN: 'arn:aws:iam::123456789012:role/r',
      observedGeneration: 1,
      conditions: [ready, { ...role, message: 'role r is in sync' }],
    },
  };
  it('replaces each condition’s message by its digest and keeps everything else, without mutating the object', () => {
    const before = structuredClone(obj);
    const kept = withMessageDigests(obj);
    assert.deepEqual(kept, {
      ...obj,
      status: {
        ...obj.status,
        conditions: [
          { ...ready, message: messageDigest('ok') },
          { ...role, message: messageDigest('role r is in sync') },
        ],
      },
    });
    assert.deepEqual(obj, before);
  });
  it('leaves an object without conditions as it is', () => {
    const fresh = { ...obj, status: undefined };
    assert.equal(withMessageDigests(fresh), fresh);
    const empty = { ...obj, status: { conditions: [] } };
    assert.equal(withMessageDigests(empty), empty);
  });
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
