import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { leaseAction, microTime, type Lease, type LeaseAction } from '../../../src/kube/leader.ts';

const NOW = Date.parse('2026-11-23T12:00:00Z');
const lease = (holder: string | undefined, renewedAgoMs: number, durationS = 15): Lease => ({
  spec: { holderIdentity: holder, leaseDurationSeconds: durationS, renewTime: microTime(NOW - renewedAgoMs) },
});

describe('leaseAction', () => {
  const cases: { name: string; lease: Lease | undefined; want: LeaseAction }[] = [
    { name: 'no lease yet: create it', lease: undefined, want: 'create' },
    { name: 'ours: renew', lease: lease('me', 1000), want: 'renew' },
    { name: 'ours even when expired: renew', lease: lease('me', 60_000), want: 'renew' },
    { name: "another's, fresh: wait", lease: lease('other', 1000), want: 'wait' },
    { name: "another's, renewed exactly a duration ago: wait", lease: lease('other', 15_000), want: 'wait' },
    { name: "another's, expired: acquire", lease: lease('other', 15_001), want: 'acquire' },
    { name: 'released (no holder): acquire', lease: lease('', 0), want: 'acquire' },
    { name: 'holder unset: acquire', lease: lease(undefined, 0), want: 'acquire' },
    { name: 'no spec at all: acquire', lease: {}, want: 'acquire' },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      assert.equal(leaseAction(tc.lease, 'me', NOW), tc.want);
    });
  }
});
