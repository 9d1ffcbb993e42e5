import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { eventFor } from '../../../src/controller/reconciler.ts';

const created = { reason: 'RoleCreated', message: 'created IAM role R (CreateRole)' } as const;
const annotated = { reason: 'ServiceAccountAnnotated', message: 'annotated ServiceAccount app' } as const;
const ready = { ok: true, reason: 'Synced', message: 'ServiceAccount app can assume R' } as const;

describe('eventFor: one Event per pass, only when something changed', () => {
  it('nothing done, Ready unchanged: no Event', () => assert.equal(eventFor([], undefined), undefined));
  it("Ready changed, nothing done: Ready's reason and message", () =>
    assert.deepEqual(eventFor([], ready), { type: 'Normal', reason: 'Synced', message: 'ServiceAccount app can assume R' }));
  it('Ready changed and changes made: one Event, the changes in brackets', () =>
    assert.deepEqual(eventFor([created, annotated], ready), {
      type: 'Normal',
      reason: 'Synced',
      message: 'ServiceAccount app can assume R (created IAM role R (CreateRole); annotated ServiceAccount app)',
    }));
  it('Ready turned False: a Warning', () =>
    assert.equal(eventFor([created], { ok: false, reason: 'AwsThrottling', message: 'rate exceeded' })?.type, 'Warning'));
  it("Ready unchanged, changes made (a drift repair): the first change's reason", () =>
    assert.deepEqual(eventFor([{ reason: 'RoleUpdated', message: 'updated IAM role R (UpdateAssumeRolePolicy)' }, annotated], undefined), {
      type: 'Normal',
      reason: 'RoleUpdated',
      message: 'updated IAM role R (UpdateAssumeRolePolicy); annotated ServiceAccount app',
    }));
});
