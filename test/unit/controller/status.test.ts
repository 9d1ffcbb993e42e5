import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Condition, ConditionStatus, ConditionType, IamServiceAccountStatus } from '../../../src/api/types.ts';
import type { Reason } from '../../../src/api/reasons.ts';
import { buildStatus, type Outcome, type PartOutcome } from '../../../src/controller/status.ts';

const T0 = '2024-01-01T00:00:00Z';
const T1 = '2024-01-01T01:00:00Z';
const ROLE_ARN = 'arn:aws:iam::123456789012:role/r';

const synced = (reason: Reason = 'Synced', message = 'in sync'): PartOutcome => ({ state: 'synced', reason, message });
const progressing = (reason: Reason, message: string): PartOutcome => ({ state: 'progressing', reason, message });
const stalled = (reason: Reason, message: string): PartOutcome => ({ state: 'stalled', reason, message });

const TRUST = 'the trust policy of r admits a token';
const VERIFIED: [ConditionStatus, string, string] = [
  'True',
  'TrustAdmitsServiceAccount',
  `${TRUST}, and the provider accepts the audience`,
];

const fields: Outcome['fields'] = {
  roleARN: ROLE_ARN,
  roleName: 'r',
  serviceAccountName: 'sa',
  attachedPolicyARNs: ['arn:aws:iam::aws:policy/A'],
};

/** The conditions as a map from type to [status, reason, message], for compact comparisons. */
function summary(conditions: Condition[] | undefined): Partial<Record<ConditionType, [ConditionStatus, string, string]>> {
  return Object.fromEntries((conditions ?? []).map((c) => [c.type, [c.status, c.reason, c.message]]));
}

describe('buildStatus', () => {
  const cases: { name: string; outcome: Outcome; want: Partial<Record<ConditionType, [ConditionStatus, string, string]>> }[] = [
    {
      name: 'all synced',
      outcome: { role: synced(), serviceAccount: synced(), trust: TRUST, fields },
      want: {
        RoleSynced: ['True', 'Synced', 'in sync'],
        ServiceAccountSynced: ['True', 'Synced', 'in sync'],
        TrustVerified: VERIFIED,
        Ready: ['True', 'Synced', `ServiceAccount sa can assume ${ROLE_ARN}`],
      },
    },
    {
      name: 'role progressing',
      outcome: { role: progressing('OIDCProviderNotFound', 'no provider yet'), serviceAccount: synced(), fields },
      want: {
        RoleSynced: ['Unknown', 'OIDCProviderNotFound', 'no provider yet'],
        ServiceAccountSynced: ['True', 'Synced', 'in sync'],
        TrustVerified: ['False', 'OIDCProviderNotFound', 'no provider yet'],
        Ready: ['False', 'OIDCProviderNotFound', 'no provider yet'],
        Reconciling: ['True', 'OIDCProviderNotFound', 'no provider yet'],
      },
    },
    {
      name: 'ServiceAccount stalled',
      outcome: { role: synced(), serviceAccount: stalled('ServiceAccountConflict', 'owned by someone else'), trust: TRUST, fields },
      want: {
        RoleSynced: ['True', 'Synced', 'in sync'],
        ServiceAccountSynced: ['False', 'ServiceAccountConflict', 'owned by someone else'],
        TrustVerified: VERIFIED,
        Ready: ['False', 'ServiceAccountConflict', 'owned by someone else'],
        Stalled: ['True', 'ServiceAccountConflict', 'owned by someone else'],
      },
    },
    {
      name: 'stalled beats progressing',
      outcome: { role: progressing('AwsThrottling', 'c'), serviceAccount: stalled('InvalidSpec', 'b'), fields },
      want: {
        RoleSynced: ['Unknown', 'AwsThrottling', 'c'],
        ServiceAccountSynced: ['False', 'InvalidSpec', 'b'],
        TrustVerified: ['Unknown', 'TrustNotChecked', 'not judged yet: c'],
        Ready: ['False', 'InvalidSpec', 'b'],
        Stalled: ['True', 'InvalidSpec', 'b'],
      },
    },
    {
      name: 'the role goes first on equal severity',
      outcome: { role: stalled('RoleNotOwned', 'r'), serviceAccount: stalled('ServiceAccountExists', 's'), fields },
      want: {
        RoleSynced: ['False', 'RoleNotOwned', 'r'],
        ServiceAccountSynced: ['False', 'ServiceAccountExists', 's'],
        TrustVerified: ['Unknown', 'TrustNotChecked', 'not judged yet: r'],
        Ready: ['False', 'RoleNotOwned', 'r'],
        Stalled: ['True', 'RoleNotOwned', 'r'],
      },
    },
    {
      name: 'synced before the role ARN is known',
      outcome: { role: synced(), serviceAccount: synced(), trust: TRUST, fields: { serviceAccountName: 'sa' } },
      want: {
        RoleSynced: ['True', 'Synced', 'in sync'],
        ServiceAccountSynced: ['True', 'Synced', 'in sync'],
        TrustVerified: VERIFIED,
        Ready: ['True', 'Synced', 'ServiceAccount sa can assume the role'],
      },
    },
    {
      name: 'roleOnly synced',
      outcome: { role: synced(), serviceAccount: undefined, trust: TRUST, fields: { roleARN: ROLE_ARN, roleName: 'r' } },
      want: {
        RoleSynced: ['True', 'Synced', 'in sync'],
        TrustVerified: VERIFIED,
        Ready: ['True', 'Synced', `role ${ROLE_ARN} is in sync`],
      },
    },
    {
      name: 'an attachRoleARN role that does not admit the ServiceAccount',
      outcome: {
        role: progressing('TrustPolicyMismatch', 'no statement allows'),
        serviceAccount: progressing('WaitingForRole', 'w'),
        fields,
      },
      want: {
        RoleSynced: ['Unknown', 'TrustPolicyMismatch', 'no statement allows'],
        ServiceAccountSynced: ['Unknown', 'WaitingForRole', 'w'],
        TrustVerified: ['False', 'TrustPolicyMismatch', 'no statement allows'],
        Ready: ['False', 'TrustPolicyMismatch', 'no statement allows'],
        Reconciling: ['True', 'TrustPolicyMismatch', 'no statement allows'],
      },
    },
    {
      name: 'an audience the provider does not list',
      outcome: { role: progressing('AudienceNotAllowedByProvider', 'lists sts.amazonaws.com only'), serviceAccount: undefined, fields },
      want: {
        RoleSynced: ['Unknown', 'AudienceNotAllowedByProvider', 'lists sts.amazonaws.com only'],
        TrustVerified: ['False', 'AudienceNotAllowedByProvider', 'lists sts.amazonaws.com only'],
        Ready: ['False', 'AudienceNotAllowedByProvider', 'lists sts.amazonaws.com only'],
        Reconciling: ['True', 'AudienceNotAllowedByProvider', 'lists sts.amazonaws.com only'],
      },
    },
    {
      name: 'every part synced but the trust not judged: never Ready',
      outcome: { role: synced(), serviceAccount: synced(), fields },
      want: {
        RoleSynced: ['True', 'Synced', 'in sync'],
        ServiceAccountSynced: ['True', 'Synced', 'in sync'],
        TrustVerified: ['Unknown', 'TrustNotChecked', 'not judged yet: in sync'],
        Ready: ['False', 'TrustNotChecked', 'not judged yet: in sync'],
      },
    },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      const { status, changed } = buildStatus(undefined, tc.outcome, 3, T0);
      assert.equal(changed, true);
      assert.deepEqual(summary(status.conditions), tc.want);
      for (const c of status.conditions ?? []) {
        assert.equal(c.observedGeneration, 3);
        assert.equal(c.lastTransitionTime, T0);
      }
      assert.equal(status.observedGeneration, 3);
      assert.equal(status.roleARN, tc.outcome.fields.roleARN);
    });
  }

  it('an identical second call changes nothing and keeps the times', () => {
    const outcome: Outcome = { role: synced(), serviceAccount: synced(), trust: TRUST, fields };
    const first = buildStatus(undefined, outcome, 1, T0);
    const second = buildStatus(first.status, outcome, 1, T1);
    assert.equal(second.changed, false);
    assert.deepEqual(second.status, first.status);
  });

  it('an identical progressing call changes nothing', () => {
    const outcome: Outcome = { role: progressing('AwsThrottling', 'c'), serviceAccount: synced(), fields };
    const first = buildStatus(undefined, outcome, 1, T0);
    assert.equal(buildStatus(first.status, outcome, 1, T1).changed, false);
  });

  it('progressing then synced: Reconciling goes, Ready turns True at the new time', () => {
    const first = buildStatus(undefined, { role: progressing('AwsThrottling', 'c'), serviceAccount: synced(), fields }, 1, T0);
    const second = buildStatus(first.status, { role: synced(), serviceAccount: synced(), trust: TRUST, fields }, 1, T1);
    assert.equal(second.changed, true);
    const byType = new Map((second.status.conditions ?? []).map((c) => [c.type, c]));
    assert.ok(!byType.has('Reconciling'));
    assert.ok(!byType.has('Stalled'));
    assert.equal(byType.get('Ready')?.status, 'True');
    assert.equal(byType.get('Ready')?.lastTransitionTime, T1);
    assert.equal(byType.get('RoleSynced')?.lastTransitionTime, T1);
    assert.equal(byType.get('ServiceAccountSynced')?.lastTransitionTime, T0);
  });

  it('stalled then synced: Stalled goes', () => {
    const first = buildStatus(undefined, { role: stalled('InvalidSpec', 'b'), serviceAccount: synced(), fields }, 1, T0);
    assert.ok(first.status.conditions?.some((c) => c.type === 'Stalled'));
    const second = buildStatus(first.status, { role: synced(), serviceAccount: synced(), trust: TRUST, fields }, 2, T1);
    assert.deepEqual((second.status.conditions ?? []).map((c) => c.type).sort(), [
      'Ready',
      'RoleSynced',
      'ServiceAccountSynced',
      'TrustVerified',
    ]);
  });

  it('roleOnly removes an earlier ServiceAccountSynced', () => {
    const first = buildStatus(undefined, { role: synced(), serviceAccount: synced(), trust: TRUST, fields }, 1, T0);
    const second = buildStatus(
      first.status,
      {
        role: synced(),
        serviceAccount: undefined,
        trust: TRUST,
        fields: { roleARN: ROLE_ARN, roleName: 'r', serviceAccountName: undefined },
      },
      2,
      T1,
    );
    assert.equal(second.changed, true);
    assert.ok(!(second.status.conditions ?? []).some((c) => c.type === 'ServiceAccountSynced'));
    assert.ok(!('serviceAccountName' in second.status), 'an undefined field is deleted');
  });

  it('a new generation alone is a change', () => {
    const outcome: Outcome = { role: synced(), serviceAccount: synced(), trust: TRUST, fields };
    const first = buildStatus(undefined, outcome, 1, T0);
    const second = buildStatus(first.status, outcome, 2, T1);
    assert.equal(second.changed, true);
    assert.equal(second.status.observedGeneration, 2);
    for (const c of second.status.conditions ?? []) {
      assert.equal(c.observedGeneration, 2);
      assert.equal(c.lastTransitionTime, T0);
    }
  });

  it('a changed field alone is a change', () => {
    const outcome: Outcome = { role: synced(), serviceAccount: synced(), trust: TRUST, fields };
    const first = buildStatus(undefined, outcome, 1, T0);
    const second = buildStatus(first.status, { ...outcome, fields: { ...fields, attachedPolicyARNs: [] } }, 1, T1);
    assert.equal(second.changed, true);
    assert.deepEqual(second.status.attachedPolicyARNs, []);
  });

  it('keeps fields of the previous status the outcome does not name', () => {
    const prev: IamServiceAccountStatus = { oidcProviderARN: 'arn:aws:iam::1:oidc-provider/x', observedGeneration: 1 };
    const { status } = buildStatus(prev, { role: synced(), serviceAccount: synced(), trust: TRUST, fields }, 1, T0);
    assert.equal(status.oidcProviderARN, 'arn:aws:iam::1:oidc-provider/x');
  });

  it('does not mutate the previous status', () => {
    const first = buildStatus(undefined, { role: synced(), serviceAccount: synced(), trust: TRUST, fields }, 1, T0);
    const snapshot = structuredClone(first.status);
    buildStatus(first.status, { role: stalled('InvalidSpec', 'b'), serviceAccount: undefined, fields: { roleARN: undefined } }, 2, T1);
    assert.deepEqual(first.status, snapshot);
  });
});
