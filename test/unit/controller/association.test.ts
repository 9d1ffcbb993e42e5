// decideAssociation: what the association part does from what EKS shows. Pure.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decideAssociation, type AssociationWant } from '../../../src/controller/association.ts';
import type { ActualAssociation } from '../../../src/controller/ports.ts';
import { TerminalError } from '../../../src/errors.ts';
import { ownerTags, type DesiredAssociation } from '../../../src/policy/desired.ts';

const ROLE = 'arn:aws:iam::123456789012:role/prod.team.app';
const OWNER = { cluster: 'prod', namespace: 'team', name: 'app' };
const desired: DesiredAssociation = {
  clusterName: 'prod',
  namespace: 'team',
  serviceAccount: 'app',
  roleArn: ROLE,
  targetRoleArn: undefined,
  disableSessionTags: false,
  tags: ownerTags('prod', 'team', 'app'),
};
const want = (over: Partial<AssociationWant> = {}): AssociationWant => ({
  desired,
  cluster: 'prod',
  namespace: 'team',
  serviceAccount: 'app',
  knownId: undefined,
  ...over,
});
let n = 0;
function actual(over: Partial<ActualAssociation> = {}): ActualAssociation {
  const id = `a-${String(++n).padStart(17, '0')}`;
  // As EKS holds what `desired` asks for.
  return { ...desired, id, arn: `arn:aws:eks:eu-west-1:123456789012:podidentityassociation/prod/${id}`, ownerArn: undefined, ...over };
}
const conflict = (e: unknown) => e instanceof TerminalError && e.reason === 'AssociationConflict';

describe('decideAssociation', () => {
  it('creates the association when EKS has none', () => {
    assert.deepEqual(decideAssociation(want(), { kind: 'read', found: [] }, OWNER), {
      create: true,
      update: undefined,
      remove: [],
      current: undefined,
    });
  });

  it('keeps one that matches, writing nothing', () => {
    const a = actual();
    assert.deepEqual(decideAssociation(want(), { kind: 'read', found: [a] }, OWNER), {
      create: false,
      update: undefined,
      remove: [],
      current: { id: a.id, arn: a.arn },
    });
  });

  for (const [what, change] of [
    ['another role', { roleArn: 'arn:aws:iam::123456789012:role/elsewhere' }],
    ['a target role', { targetRoleArn: 'arn:aws:iam::210987654321:role/target' }],
    ['session tags disabled', { disableSessionTags: true }],
  ] as const) {
    it(`updates one of its own given ${what} behind its back`, () => {
      const a = actual(change);
      assert.equal(decideAssociation(want(), { kind: 'read', found: [a] }, OWNER).update, a.id);
    });
  }

  it("refuses another's association for the ServiceAccount (no tags, another object's, an add-on's): AssociationConflict", () => {
    for (const a of [
      actual({ tags: {} }),
      actual({ tags: ownerTags('prod', 'team', 'other') }),
      actual({ tags: ownerTags('staging', 'team', 'app') }),
      actual({ ownerArn: 'arn:aws:eks:eu-west-1:123456789012:addon/prod/vpc-cni/x' }),
    ]) {
      assert.throws(() => decideAssociation(want(), { kind: 'read', found: [a] }, OWNER), conflict, JSON.stringify(a.tags));
    }
  });

  it('a renamed ServiceAccount: its own association of the old one goes, one for the new one is made', () => {
    const old = actual({ serviceAccount: 'old' });
    const plan = decideAssociation(want({ knownId: old.id }), { kind: 'read', found: [old] }, OWNER);
    assert.deepEqual(plan, { create: true, update: undefined, remove: [old], current: undefined });
  });

  it('no association wanted (identity IRSA): deletes its own and leaves the others', () => {
    const mine = actual();
    const theirs = actual({ serviceAccount: 'other', tags: {} });
    assert.deepEqual(decideAssociation(want({ desired: undefined }), { kind: 'read', found: [mine, theirs] }, OWNER).remove, [mine]);
    assert.deepEqual(decideAssociation(want({ desired: undefined }), { kind: 'none' }, OWNER).remove, []);
  });

  it('a fresh memory: nothing to do, the remembered association is current', () => {
    assert.deepEqual(decideAssociation(want(), { kind: 'fresh', id: 'a-1', arn: 'arn' }, OWNER), {
      create: false,
      update: undefined,
      remove: [],
      current: { id: 'a-1', arn: 'arn' },
    });
  });
});
