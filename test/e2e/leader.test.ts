// Two replicas with leader election: only the one holding the Lease writes; when it stops, the
// other takes over and carries on.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Operator } from '../../src/operator.ts';
import { getJson, kubectl, newNamespace, REPO, resetAws, startOperator, waitForCondition } from './helpers.ts';

const TIMINGS = { leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 300 };

async function reconciles(op: Operator): Promise<number> {
  return (await op.metrics.reconciles.get()).values.reduce((n, v) => n + v.value, 0);
}
async function isLeader(op: Operator): Promise<boolean> {
  return (await op.metrics.leader.get()).values[0]?.value === 1;
}

it('lets only the leader reconcile, and hands over when it stops', async () => {
  await resetAws();
  const ns = await newNamespace('leader');
  const a = await startOperator({ leaderElection: true, watchNamespaces: [ns] }, { leaseTimings: TIMINGS });
  const b = await startOperator({ leaderElection: true, watchNamespaces: [ns] }, { leaseTimings: TIMINGS });
  let stopped: Operator | undefined;
  try {
    await Promise.race([a.leading, b.leading]);
    const [aLeads, bLeads] = [await isLeader(a), await isLeader(b)];
    assert.notEqual(aLeads, bLeads, 'exactly one leader');
    const [leader, follower] = aLeads ? [a, b] : [b, a];

    for (const f of ['s3-reader.yaml', 'inline-policy.yaml', 'role-only.yaml'])
      await kubectl(['apply', '-n', ns, '-f', join(REPO, 'examples', f)]);
    for (const name of ['s3-reader', 'orders-api', 'batch-runner']) await waitForCondition(ns, name, 'Ready', 'True');
    assert.ok((await reconciles(leader)) >= 3, 'the leader reconciled');
    assert.equal(await reconciles(follower), 0, 'the follower wrote nothing');

    await leader.stop();
    stopped = leader;
    await follower.leading;
    assert.equal(await isLeader(follower), true);
    const lease = await getJson<{ spec: { holderIdentity: string; leaseTransitions: number } }>([
      '-n',
      'irsa-system',
      'get',
      'lease',
      'irsa-operator',
    ]);
    assert.ok(lease.spec.holderIdentity.length > 0);
    assert.ok(lease.spec.leaseTransitions >= 1);

    await kubectl(['apply', '-n', ns, '-f', join(REPO, 'examples/retain.yaml')]);
    await waitForCondition(ns, 'backup-writer', 'Ready', 'True');
    assert.ok((await reconciles(follower)) > 0, 'the new leader reconciles');
    // Leave nothing for the other suites' operators to find.
    await kubectl(['delete', '-n', ns, 'iamsa', '--all', '--wait=true', '--timeout=30s']);
  } finally {
    for (const op of [a, b]) if (op !== stopped) await op.stop();
  }
});
